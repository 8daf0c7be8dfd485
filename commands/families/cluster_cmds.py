"""The CLUSTER command, plus ASKING / READONLY / READWRITE.

A thin layer: argument checks that need the keyspace are made here, everything about
nodes, slots and epochs is an operation of the cluster state machine, run through
server.cluster_ops (cluster/operations.py: it carries out the effects and turns the
state's ClusterError, which has Redis's exact text, into the error reply). Replies that
describe the cluster come from the read-only view, server.cluster (cluster/view.py).
"""
from cluster.slots import CLUSTER_SLOTS, key_hash_slot
from commands.server.args import int_arg
from commands.server.resp import OK, ReplyError, Status, Verbatim
from commands.server.table import command, container, subcommand

CLUSTER = container("cluster", -2, group="cluster", since="3.0.0",
                    summary="A container for Redis Cluster commands.")

_HELP = [
    "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ADDSLOTS <slot> [<slot> ...]",
    "    Assign slots to current node.",
    "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Assign slots which are between <start-slot> and <end-slot> to current node.",
    "BUMPEPOCH",
    "    Advance the cluster config epoch.",
    "COUNT-FAILURE-REPORTS <node-id>",
    "    Return number of failure reports for <node-id>.",
    "COUNTKEYSINSLOT <slot>",
    "    Return the number of keys in <slot>.",
    "DELSLOTS <slot> [<slot> ...]",
    "    Delete slots information from current node.",
    "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Delete slots information which are between <start-slot> and <end-slot> from "
    "current node.",
    "FAILOVER [FORCE|TAKEOVER]",
    "    Promote current replica node to being a master.",
    "FORGET <node-id>",
    "    Remove a node from the cluster.",
    "GETKEYSINSLOT <slot> <count>",
    "    Return key names stored by current node in a slot.",
    "FLUSHSLOTS",
    "    Delete current node own slots information.",
    "INFO",
    "    Return information about the cluster.",
    "KEYSLOT <key>",
    "    Return the hash slot for <key>.",
    "MEET <ip> <port> [<bus-port>]",
    "    Connect nodes into a working cluster.",
    "MYID",
    "    Return the node id.",
    "NODES",
    "    Return cluster configuration seen by node. Output format:",
    "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
    "REPLICATE <node-id>",
    "    Configure current node as replica to <node-id>.",
    "RESET [HARD|SOFT]",
    "    Reset current node (default: soft).",
    "SET-CONFIG-EPOCH <epoch>",
    "    Set config epoch of current node.",
    "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
    "    Set slot state.",
    "REPLICAS <node-id>",
    "    Return <node-id> replicas.",
    "SAVECONFIG",
    "    Force saving cluster configuration on disk.",
    "SLOTS",
    "    Return information about slots range mappings. Each range is made of:",
    "    start, end, master and replicas IP addresses, ports and ids",
    "SHARDS",
    "    Return information about slot range mappings and the nodes associated with them.",
    "LINKS",
    "    Return information about all network links between this node and its peers.",
    "    Output format is an array where each array element is a map containing "
    "attributes of a link",
    "HELP",
    "    Prints this help.",
]


def _wrong_number_of_arguments(argv) -> ReplyError:
    # Subcommands with optional arguments check their count themselves in Redis, and
    # name the subcommand as the client typed it.
    return ReplyError("ERR unknown subcommand or wrong number of arguments for '%s'. "
                      "Try CLUSTER HELP." % argv[1].decode("utf-8", "replace"))


# ---------------------------------------------------------------- introspection

@subcommand(CLUSTER, "help", 2, "loading stale", summary="Returns helpful text about the different subcommands.")
def cluster_help(c, argv):
    return [Status(line) for line in _HELP]


@subcommand(CLUSTER, "info", 2, "loading stale", summary="Returns information about the state of a node.")
def cluster_info(c, argv):
    return Verbatim(c.server.cluster.info_text().encode())


@subcommand(CLUSTER, "nodes", 2, "loading stale", summary="Returns the cluster configuration for a node.")
def cluster_nodes(c, argv):
    return Verbatim(c.server.cluster.nodes_text(_use_pport(c)).encode())


@subcommand(CLUSTER, "myid", 2, "loading stale", summary="Returns the ID of a node.")
def cluster_myid(c, argv):
    return c.server.cluster.myself.name.encode()


@subcommand(CLUSTER, "slots", 2, "loading stale", summary="Returns the mapping of cluster slots to nodes.")
def cluster_slots(c, argv):
    return c.server.cluster.slots_reply(_use_pport(c))


@subcommand(CLUSTER, "shards", 2, "loading stale", since="7.0.0",
            summary="Returns the mapping of cluster slots to shards.")
def cluster_shards(c, argv):
    return c.server.cluster.shards_reply()


@subcommand(CLUSTER, "links", 2, "loading stale", since="7.0.0",
            summary="Returns a list of all TCP links to and from peer nodes.")
def cluster_links(c, argv):
    return c.server.cluster.links_reply()


@subcommand(CLUSTER, "replicas", 3, "admin stale", since="5.0.0",
            summary="Lists the replica nodes of a master node.")
def cluster_replicas(c, argv):
    return _replicas(c, argv)


@subcommand(CLUSTER, "slaves", 3, "admin stale",
            summary="Lists the replica nodes of a master node.")
def cluster_slaves(c, argv):
    return _replicas(c, argv)


@subcommand(CLUSTER, "replicate", 3, "admin stale noscript", since="3.0.0",
            summary="Configure a node as replica of a master node.")
def cluster_replicate(c, argv):
    # The state checks Redis's conditions (known master, not myself, empty if a master);
    # its ReplicationChanged effect starts the replication link (commands/replica_link).
    c.server.cluster_ops.run("replicate", argv[2])
    return OK


def _replicas(c, argv):
    view = c.server.cluster
    name = argv[2].decode("utf-8", "replace")
    node = view.node(name)
    if node is None:
        raise ReplyError("ERR Unknown node %s" % name)
    if not node.is_master:
        raise ReplyError("ERR The specified node is not a master")
    return [line.encode() for line in view.replica_lines(name, _use_pport(c))]


def _use_pport(c) -> bool:
    """A TLS cluster answers a client on the plain port with the plaintext ports
    (Redis: server.tls_cluster and the connection is not TLS)."""
    return c.server.cluster.tls_cluster and not c.tls


@subcommand(CLUSTER, "count-failure-reports", 3, "admin stale",
            summary="Returns the number of active failure reports active for a node.")
def cluster_count_failure_reports(c, argv):
    return c.server.cluster_ops.run("count_failure_reports", argv[2])


# ---------------------------------------------------------------- slots and keys

@subcommand(CLUSTER, "keyslot", 3, "stale", summary="Returns the hash slot for a key.")
def cluster_keyslot(c, argv):
    return key_hash_slot(argv[2])


@subcommand(CLUSTER, "countkeysinslot", 3, "stale",
            summary="Returns the number of keys in a hash slot.")
def cluster_countkeysinslot(c, argv):
    slot = int_arg(argv[2])
    if slot < 0 or slot >= CLUSTER_SLOTS:
        raise ReplyError("ERR Invalid slot")
    return c.server.keyspace.count_in_slot(slot)


@subcommand(CLUSTER, "getkeysinslot", 4, "stale",
            summary="Returns the key names in a hash slot.")
def cluster_getkeysinslot(c, argv):
    slot = int_arg(argv[2])
    count = int_arg(argv[3])
    if slot < 0 or slot >= CLUSTER_SLOTS or count < 0:
        raise ReplyError("ERR Invalid slot or number of keys")
    return c.server.keyspace.keys_in_slot(slot, count)


@subcommand(CLUSTER, "addslots", -3, "admin stale", summary="Assigns new hash slots to a node.")
def cluster_addslots(c, argv):
    c.server.cluster_ops.run("add_slots", argv[2:])
    return OK


@subcommand(CLUSTER, "addslotsrange", -4, "admin stale", since="7.0.0",
            summary="Assigns new hash slot ranges to a node.")
def cluster_addslotsrange(c, argv):
    c.server.cluster_ops.run("add_slots_range", argv[2:])
    return OK


@subcommand(CLUSTER, "delslots", -3, "admin stale", summary="Sets hash slots as unbound for a node.")
def cluster_delslots(c, argv):
    c.server.cluster_ops.run("del_slots", argv[2:])
    return OK


@subcommand(CLUSTER, "delslotsrange", -4, "admin stale", since="7.0.0",
            summary="Sets hash slot ranges as unbound for a node.")
def cluster_delslotsrange(c, argv):
    c.server.cluster_ops.run("del_slots_range", argv[2:])
    return OK


@subcommand(CLUSTER, "flushslots", 2, "admin stale", summary="Deletes all slots information from a node.")
def cluster_flushslots(c, argv):
    if c.server.keyspace.size:
        raise ReplyError("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.")
    c.server.cluster_ops.run("flush_slots")
    return OK


@subcommand(CLUSTER, "setslot", -4, "admin stale", summary="Binds a hash slot to a node.")
def cluster_setslot(c, argv):
    c.server.cluster_ops.run("set_slot", argv[2:])
    return OK


# ---------------------------------------------------------------- nodes and epochs

@subcommand(CLUSTER, "meet", -4, "admin stale", summary="Forces a node to handshake with another node.")
def cluster_meet(c, argv):
    if len(argv) > 5:
        raise _wrong_number_of_arguments(argv)
    cport = argv[4] if len(argv) == 5 else None
    c.server.cluster_ops.run("meet", argv[2], argv[3], cport)
    return OK


@subcommand(CLUSTER, "forget", 3, "admin stale", summary="Removes a node from the nodes table.")
def cluster_forget(c, argv):
    c.server.cluster_ops.run("forget", argv[2])
    return OK


@subcommand(CLUSTER, "reset", -2, "admin stale noscript", summary="Resets a node.")
def cluster_reset(c, argv):
    if len(argv) > 3:
        raise _wrong_number_of_arguments(argv)
    hard = False
    if len(argv) == 3:
        mode = argv[2].lower()
        if mode not in (b"hard", b"soft"):
            raise ReplyError("ERR syntax error")
        hard = mode == b"hard"
    if c.server.cluster.myself.is_master and c.server.keyspace.size:
        raise ReplyError("ERR CLUSTER RESET can't be called with master nodes containing keys")
    c.server.cluster_ops.run("reset", hard)
    return OK


@subcommand(CLUSTER, "saveconfig", 2, "admin stale", summary="Forces a node to save the cluster configuration to disk.")
def cluster_saveconfig(c, argv):
    try:
        c.server.cluster_ops.save_config()
    except OSError as exc:
        raise ReplyError("ERR error saving the cluster node config: %s"
                         % (exc.strerror or exc)) from None
    return OK


@subcommand(CLUSTER, "set-config-epoch", 3, "admin stale", summary="Sets the configuration epoch for a new node.")
def cluster_set_config_epoch(c, argv):
    c.server.cluster_ops.run("set_config_epoch", argv[2])
    return OK


@subcommand(CLUSTER, "bumpepoch", 2, "admin stale", summary="Advances the cluster config epoch.")
def cluster_bumpepoch(c, argv):
    text = c.server.cluster_ops.run("bump_epoch")
    return Status(text)


@subcommand(CLUSTER, "failover", -2, "admin stale", since="3.0.0",
            summary="Forces a replica to perform a manual failover of its master.")
def cluster_failover(c, argv):
    if len(argv) > 3:
        raise ReplyError("ERR unknown subcommand or wrong number of arguments for "
                         "'failover'. Try CLUSTER HELP.")
    c.server.cluster_ops.run("failover", argv[2] if len(argv) == 3 else None)
    return OK


# ---------------------------------------------------------------- per-client flags

@command("asking", 1, "fast", group="cluster", since="3.0.0",
         categories=("@connection",),
         summary="Signals that a cluster client is following an -ASK redirect.")
def asking(c, argv):
    c.asking = True
    c.after_call = True               # the executor resets ASKING after the next command
    return OK


@command("readonly", 1, "loading stale fast", group="cluster", since="3.0.0",
         categories=("@connection",),
         summary="Enables read-only queries for a connection to a Redis Cluster replica node.")
def readonly(c, argv):
    c.readonly = True
    return OK


@command("readwrite", 1, "loading stale fast", group="cluster", since="3.0.0",
         categories=("@connection",),
         summary="Enables read-write queries for a connection to a Redis Cluster replica node.")
def readwrite(c, argv):
    c.readonly = False
    return OK
