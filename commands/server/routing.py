"""Cluster routing: may this node run this keyed command? (Redis's getNodeByQuery)

The executor calls the router before a command with keys runs (and for EXEC, which is
checked as a whole: every key of the transaction must hash to one slot). The answer is
None (serve it here) or the error Redis would give, decided in Redis's order:

 1. keys in different slots                     -CROSSSLOT
 2. the slot has no owner                       -CLUSTERDOWN Hash slot not served
 3. the cluster is down                         -CLUSTERDOWN The cluster is down
                                                (reads may pass with
                                                cluster-allow-reads-when-down)
 4. MIGRATE on an open (migrating or importing) slot is always served here
 5. I am migrating the slot, some keys are gone -ASK to the target if none exist here,
                                                -TRYAGAIN if only some do
 6. I am importing the slot and the client said ASKING (or the command is
    RESTORE-ASKING): served, unless several keys are involved and some are missing
    (-TRYAGAIN)
 7. a READONLY client reading a slot my master serves, while I am its replica: served
    (sharded Pub/Sub -- commands flagged "pubsubshard" -- is served there without
    READONLY, never counts as missing keys during a migration, and follows
    cluster-allow-pubsubshard-when-down instead of cluster-allow-reads-when-down)
 8. someone else owns the slot                  -MOVED <slot> <ip>:<port>

Most commands have one key: the fast path checks "the slot is mine, nothing is open,
the cluster is ok" and returns, without building any list.
"""
from binascii import crc_hqx

from commands.data.keyspace import slot_of
from commands.server.resp import ReplyError

CROSSSLOT = ReplyError("CROSSSLOT Keys in request don't hash to the same slot")
UNBOUND = ReplyError("CLUSTERDOWN Hash slot not served")
DOWN = ReplyError("CLUSTERDOWN The cluster is down")
DOWN_READONLY = ReplyError("CLUSTERDOWN The cluster is down and only accepts read commands")
TRYAGAIN = ReplyError("TRYAGAIN Multiple keys request during rehashing of slot")

_ONLY_ARGV1 = (1,)     # key_indexes() of a one-key command (first = last = 1)


def client_port(node, client) -> int:
    """The port a redirected client is sent to: in a TLS cluster (where nodes announce a
    plaintext `pport` beside their TLS port) a client on the plain port gets the plain
    one, as Redis's getNodeByQuery's caller does (use_pport)."""
    return node.pport if node.pport and not client.tls else node.port


def redirect(kind: str, slot: int, endpoint: str, port: int) -> ReplyError:
    """-MOVED or -ASK: the node's preferred endpoint (its ip, its hostname or '?', or ""
    for unknown-endpoint: "MOVED 3999 :7002", as Redis writes it) and its port."""
    return ReplyError("%s %d %s:%d" % (kind, slot, endpoint, port))


class Router:
    """Decides, per keyed command, whether this node serves it (see module docstring)."""

    def __init__(self, view, keyspace, settings):
        # `view` is the read-only cluster view (cluster/view.py): its slot table, open
        # slots and cluster health.
        self.view = view
        self.keyspace = keyspace
        self.settings = settings

    def __call__(self, client, cmd, argv):
        view = self.view
        # Fast path: one key, slot mine, nothing open, cluster ok.
        if cmd.first_key == 1 and cmd.last_key == 1 and len(argv) > 1 and \
                cmd.key_finder is None:
            key = argv[1]
            # key_hash_slot (cluster/slots.py) inlined for keys without "{" (byte 123):
            # a function call less on every keyed command.
            slot = crc_hqx(key, 0) & 0x3FFF if 123 not in key else slot_of(key)
            # The keyspace takes the slot from here rather than hash the key again
            # (commands/data/keyspace.py: hint_key).
            keyspace = self.keyspace
            keyspace.hint_key = key
            keyspace.hint_slot = slot
            owner = view.slots[slot]
            if owner is view.myself and view.cluster_ok and \
                    slot not in view.migrating_slots_to:
                return None
            # The other case a reshard hits for every key: one key of a slot this node
            # imports, with ASKING (RESTORE-ASKING): served, as route() would decide
            # (6 below; one key cannot be a partial multi-key request).
            if slot in view.importing_slots_from and owner is not None and \
                    owner is not view.myself and view.cluster_ok and \
                    (client.asking or "asking" in cmd.flags):
                return None
            return self.route(client, [(cmd, argv)])
        if cmd.name == "exec":
            if client.multi is None:
                return None             # EXEC without MULTI: the command says so
            return self.route(client, client.multi)
        # The same for several keys at fixed places (MSET, MGET, DEL...) while no slot
        # is open anywhere: all in one slot of mine is served. Anything else, CROSSSLOT
        # included, is left to route(), which decides it in Redis's order.
        if cmd.key_finder is None and cmd.first_key and view.cluster_ok and \
                not view.migrating_slots_to and not view.importing_slots_from:
            slot = self._one_slot(cmd, argv)
            if slot >= 0 and view.slots[slot] is view.myself:
                keyspace = self.keyspace
                keyspace.hint_argv = argv       # see route() below
                keyspace.hint_argv_slot = slot
                return None
        return self.route(client, [(cmd, argv)])

    @staticmethod
    def _one_slot(cmd, argv) -> int:
        """The slot every key of the request hashes to, or -1 if they are in several
        (or there is none): Command.key_indexes, without building the list."""
        last = cmd.last_key if cmd.last_key >= 0 else len(argv) + cmd.last_key
        end = min(last, len(argv) - 1) + 1
        first = cmd.first_key
        if first >= end:
            return -1
        first_key = argv[first]
        slot = crc_hqx(first_key, 0) & 0x3FFF if 123 not in first_key else slot_of(first_key)
        for key in argv[first + cmd.key_step:end:cmd.key_step]:
            if key != first_key and \
                    (crc_hqx(key, 0) & 0x3FFF if 123 not in key else slot_of(key)) != slot:
                return -1
        return slot

    def route(self, client, commands):
        view = self.view
        myself = view.myself
        slot = -1
        owner = None
        first_key = None
        multiple_keys = migrating = importing = False
        missing = existing = 0
        is_write = False
        is_migrate = False
        asking_cmd = False
        pubsubshard = False
        # EXEC checks its whole queue here, without yielding: the per-command work is
        # kept small. Flags are read once per run of the same command, and a key equal
        # to the first one needs no slot computed.
        last_cmd = None
        one_key = False
        for cmd, argv in commands:
            if cmd is not last_cmd:
                last_cmd = cmd
                is_write = is_write or cmd.is_write
                pubsubshard = pubsubshard or "pubsubshard" in cmd.flags
                is_migrate = is_migrate or cmd.name == "migrate"
                asking_cmd = asking_cmd or "asking" in cmd.flags
                one_key = cmd.first_key == 1 and cmd.last_key == 1 and \
                    cmd.key_finder is None
            for index in _ONLY_ARGV1 if one_key and len(argv) > 1 else cmd.key_indexes(argv):
                key = argv[index]
                if first_key is None:
                    first_key = key
                    slot = slot_of(key)
                    owner = view.slots[slot]
                    if owner is None:
                        return UNBOUND
                    if owner is myself and slot in view.migrating_slots_to:
                        migrating = True
                    elif slot in view.importing_slots_from:
                        importing = True
                elif key != first_key:
                    if slot_of(key) != slot:
                        return CROSSSLOT
                    multiple_keys = True
                # A shard channel is served by the source until the slot is handed over.
                # MIGRATE is served whatever exists (4 below): nothing to count.
                if (migrating or importing) and not pubsubshard and not is_migrate:
                    if self.keyspace.is_live(key):
                        existing += 1
                    else:
                        missing += 1
        if owner is None:
            return None                 # no keys after all (e.g. an empty EXEC)
        if len(commands) == 1:
            # Every key of this request is in `slot`: its handler need not hash them
            # again (MSET, MIGRATE; commands/data/keyspace.py: hint_argv).
            keyspace = self.keyspace
            keyspace.hint_argv = argv
            keyspace.hint_argv_slot = slot

        if not view.cluster_ok:
            if pubsubshard:
                if not self.settings.cluster_allow_pubsubshard_when_down:
                    return DOWN
            elif not self.settings.cluster_allow_reads_when_down:
                return DOWN
            elif is_write:
                return DOWN_READONLY

        if (migrating or importing) and is_migrate:
            return None
        if migrating and missing:
            if existing:
                return TRYAGAIN
            target = view.migrating_slots_to[slot]
            return redirect("ASK", slot, view.preferred_endpoint(target),
                            client_port(target, client))
        if importing and (client.asking or asking_cmd):
            if multiple_keys and missing:
                return TRYAGAIN
            return None
        if (client.readonly or pubsubshard) and not is_write and not myself.is_master and \
                myself.master_name == owner.name:
            return None
        if owner is not myself:
            return redirect("MOVED", slot, view.preferred_endpoint(owner),
                            client_port(owner, client))
        return None

    def blocked_key_error(self, key):
        """The error that ends a wait on `key` (BLPOP...), or None to keep waiting: the
        cluster went down, or the key's slot is no longer served here (Redis's
        clusterRedirectBlockedClientIfNeeded). A replica keeps READONLY readers of its
        master's slots, and an importing slot keeps its waiters."""
        view = self.view
        if not view.cluster_ok:
            return DOWN
        slot = slot_of(key)
        node = view.slots[slot]
        me = view.myself
        if node is me or slot in view.importing_slots_from:
            return None
        if node is not None and not me.is_master and me.master_name == node.name:
            return None
        if node is None:
            return UNBOUND
        return redirect("MOVED", slot, view.preferred_endpoint(node), node.port)
