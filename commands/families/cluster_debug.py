"""DEBUG subcommands for cluster fault injection, as Redis's own test-suite uses them.

    DEBUG DROP-CLUSTER-PACKET-FILTER <type>    drop received bus packets of one type
    DEBUG CLUSTERLINK KILL to|from|all <id>    close our link(s) with a node
    DEBUG CLUSTER-ISOLATE <id> 0|1             ours: drop all traffic to/from a node

The first two behave like redis-server 7.0.15's. CLUSTER-ISOLATE is our own: the machines
the tests run on have no netem and no root, so a partition is made inside the node. Cut
node X off from the rest by isolating X on every other node and every other node on X.

Each hook only sets state on the cluster state machine (cluster/admin.py), through
server.cluster_ops; the state machine applies it where packets are received and sent.
"""
from cluster import messages as m
from commands.data.numbers import parse_int64
from commands.families.server_cmds import register_debug
from commands.server.resp import OK, ReplyError

_NOT_INTEGER = "ERR value is not an integer or out of range"


def _wrong_args(argv) -> ReplyError:
    # DEBUG's own error for a bad subcommand or arity (commands/families/server_cmds.py raises the same).
    return ReplyError("ERR unknown subcommand or wrong number of arguments for '%s'. "
                      "Try DEBUG HELP." % argv[1].decode("utf-8", "replace"))


def debug_drop_cluster_packet_filter(c, argv):
    """Redis stores any long and compares it with each received packet's type, so -1
    (and any other number that is no type) drops nothing. -2 drops every type, as in
    Redis 7.2+ and Valkey; 7.0 has no such value, and there it matches nothing either."""
    value = parse_int64(argv[2])
    if value is None:
        raise ReplyError(_NOT_INTEGER)
    if not -2 <= value < m.MESSAGE_TYPE_COUNT:
        value = -1
    c.server.cluster_ops.set_drop_packet_filter(value)
    return OK


def debug_clusterlink(c, argv):
    """DEBUG CLUSTERLINK KILL to|from|all <node-id>: the links close, and the cron
    reconnects the outbound one on its next run, as in Redis.

    Two deliberate differences from 7.0.15: an unknown direction gets only its error
    (Redis replies the error and then +OK, two replies to one command), and killing the
    links of myself replies +OK (there are none; 7.0.15 crashes on it)."""
    if argv[2].lower() != b"kill":
        raise _wrong_args(argv)
    node_id = argv[4].decode("utf-8", "replace")
    # Redis looks the node up before it looks at the direction.
    if c.server.cluster.node(node_id) is None:
        raise ReplyError("ERR Unknown node %s" % node_id)
    c.server.cluster_ops.run("kill_links", argv[3].decode("utf-8", "replace"), node_id)
    return OK


def debug_cluster_isolate(c, argv):
    """DEBUG CLUSTER-ISOLATE <node-id> 0|1: with 1, every packet from the node is dropped
    on arrival and nothing is sent to it; links stay up, so the node sees silence (pings
    pending, then PFAIL), as behind a firewall that drops. 0 lets traffic through again."""
    view = c.server.cluster
    node_id = argv[2].decode("utf-8", "replace")
    flag = parse_int64(argv[3])
    if flag not in (0, 1):
        raise ReplyError("ERR CLUSTER-ISOLATE takes 0 or 1")
    if flag and view.node(node_id) is None:
        raise ReplyError("ERR Unknown node %s" % node_id)
    if node_id == view.myself.name:
        raise ReplyError("ERR Can't isolate myself")
    # Unisolating an id we no longer know is allowed: a forgotten node must not leave a
    # filter behind that cannot be removed.
    c.server.cluster_ops.isolate_node(node_id, bool(flag))
    if not flag and view.node(node_id) is not None:
        # A PING sent while isolated was dropped, not delayed: unlike a firewall's drop
        # (TCP retransmits it after the heal), nothing would ever answer it, and the node
        # would stay PFAIL while its own packets arrive again. Reconnecting the outbound
        # link sends a fresh PING, keeping the pending ping's time (link_connected).
        c.server.cluster_ops.run("kill_links", "to", node_id)
    return OK


register_debug(b"drop-cluster-packet-filter", debug_drop_cluster_packet_filter, argc=3)
register_debug(b"clusterlink", debug_clusterlink, argc=5)
register_debug(b"cluster-isolate", debug_cluster_isolate, argc=4)
