"""Everything a client sees, in layers (each imports only from the layers listed before it):

    data/          the keyspace and the value types: key -> value, expiry, per-slot index,
                   the value classes and their codec registry. Knows nothing of clients.
    server/        serving clients: RESP codec, connection greenlets, listener, executor,
                   command table, settings, routing (MOVED/ASK), INFO, blocking waits,
                   and the seam to the cluster bus.
    replication/   master and replica sides, the backlog, propagation of writes.
    pubsub/        the subscription registry and the (sharded) Pub/Sub commands.
    families/      the command families: strings, keys, hashes, ..., CLUSTER, MIGRATE;
                   encoded/ holds those kept inside string values (bitmaps, HyperLogLog).
    scripting/     Lua scripts (EVAL, SCRIPT) and functions (FUNCTION, FCALL): the Lua VMs,
                   the sandbox, the value conversions.
    clients/       CLIENT subcommands that change how a connection is served (tracking,
                   pause, reply modes), on top of families' CLIENT container.
    metrics/       what the node measures about itself (slow log, latency monitor, latency
                   histograms), sans I/O: a bottom layer the server layer holds.
    streams/       the stream type and the X* commands (entries, consumer groups,
                   blocked readers), a family layer of its own.
    security/      ACL users, their rules and the ACL command; the executor, AUTH and
                   scripts reach it through `server.acl`.

Each command module registers its commands in the table (commands/server/table.py) when
imported, and the modules behind an INFO section register it (info.register_section);
`load_all_commands` imports them all. tests/unit/test_layers.py checks the
layer rules from the imports.
"""
import importlib

COMMAND_MODULES = (
    "families.connection_cmds", "families.strings", "families.keys",
    "families.transactions", "families.server_cmds", "families.introspection",
    "families.cluster_cmds", "families.debug_cmds", "families.dump", "families.migrate",
    "families.hashes", "families.sets", "families.lists", "families.zsets",
    "families.zsets_ranges", "families.zsets_setops", "families.blocking_cmds",
    "families.persistence_cmds", "persistence.info", "persistence.aof_cmds",
    "replication.replication_cmds", "pubsub.channels", "pubsub.shard",
    "families.geo.members", "families.geo.search", "families.sorting.sort_cmds",
    "families.encoded.bitmaps", "families.encoded.bitfield", "families.encoded.hyperloglog",
    "clients.client_modes", "families.diagnostics.observability_cmds",
    "streams.stream_cmds", "streams.stream_read", "streams.stream_groups",
    "streams.stream_info", "scripting.eval_cmds", "scripting.function_cmds",
    "security.acl_cmds", "security.module_cmds", "families.diagnostics.memory_cmds",
)


def load_all_commands() -> None:
    for module in COMMAND_MODULES:
        importlib.import_module("commands." + module)
