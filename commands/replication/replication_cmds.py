"""REPLCONF, PSYNC, WAIT, ROLE and the INFO replication section.

Replies and error texts are redis-server 7.0.15's; the work is done by the node's
Replication (commands/replication/master.py) and, on a replica, its ReplicaLink
(commands/replication/replica_link.py).
"""
import time

from commands.data.numbers import NOT_INTEGER, parse_int64
from commands.server import info
from commands.server.resp import OK, Raw, ReplyError, split_args
from commands.server.table import command

NO_REPLY = Raw(b"")
SYNTAX_ERROR = "ERR syntax error"
WAIT_ON_REPLICA = ("ERR WAIT cannot be used with replica instances. Please also note that "
                   "since Redis 4.0 if a replica is configured to be writable (which is not "
                   "the default) writes to replicas are just local and are not propagated.")
NOMASTERLINK = "NOMASTERLINK Can't SYNC while not connected with my master"


def _int(arg, error=NOT_INTEGER) -> int:
    value = parse_int64(arg)
    if value is None:
        raise ReplyError(error)
    return value


# ---------------------------------------------------------------- master side

@command("replconf", -1, "admin noscript loading stale allow-busy", group="server",
         since="3.0.0", summary="An internal command for configuring the replication stream",
         complexity="O(1)")
def replconf(c, argv):
    if len(argv) % 2 == 0:
        raise ReplyError(SYNTAX_ERROR)
    handshake = getattr(c, "repl_handshake", None)
    if handshake is None:
        handshake = c.repl_handshake = {}
    for i in range(1, len(argv), 2):
        option, value = argv[i].lower(), argv[i + 1]
        if option == b"listening-port":
            handshake["listening-port"] = _int(value)
        elif option == b"ip-address":
            handshake["ip-address"] = value.decode("utf-8", "replace")
        elif option == b"capa":
            handshake.setdefault("capa", set()).add(value.decode("utf-8", "replace").lower())
        elif option == b"ack":
            # From a replica only, and never answered (replconfCommand).
            if c.replica is not None:
                offset = parse_int64(value)
                if offset is not None:
                    c.server.replication.ack(c, offset)
            return NO_REPLY
        elif option == b"getack":
            return NO_REPLY             # only meaningful from our master (replica_link)
        elif option == b"rdb-only":
            # redis-cli --rdb: the RDB and nothing after it (full_sync.py).
            flag = _int(value)
            if not 0 <= flag <= 1:
                raise ReplyError("ERR value is out of range, value must between 0 and 1")
            handshake["rdb-only"] = bool(flag)
        elif option == b"rdb-filter-only":
            # redis-cli --replica (""): an RDB with no keys and no functions;
            # --functions-rdb ("functions"): the function libraries only.
            try:
                filters = split_args(value)
            except ValueError:
                raise ReplyError("ERR Missing rdb-filter-only values") from None
            for name in filters:
                if name.lower() != b"functions":
                    raise ReplyError("ERR Unsupported rdb-filter-only option: %s"
                                     % name.decode("utf-8", "replace"))
            handshake["rdb-filter"] = True
            handshake["rdb-functions"] = any(name.lower() == b"functions"
                                             for name in filters)
        else:
            raise ReplyError("ERR Unrecognized REPLCONF option: %s"
                             % argv[i].decode("utf-8", "replace"))
    return OK


def _sync_refusal(c):
    """The checks syncCommand makes before anything else."""
    repl = c.server.replication
    if not repl.is_master:
        # We do not chain replicas: in a cluster they follow the master directly.
        raise ReplyError(NOMASTERLINK)
    if c.pending_push_bytes:
        raise ReplyError("ERR SYNC and PSYNC are invalid with pending output")
    handshake = getattr(c, "repl_handshake", {})
    if handshake.get("rdb-filter") and "eof" not in handshake.get("capa", ()):
        raise ReplyError("ERR Filtered replica requires EOF capability")


@command("psync", -3, "admin noscript no-multi no-async-loading", group="server",
         since="2.8.0", summary="Internal command used for replication",
         complexity="")
def psync(c, argv):
    if c.replica is not None:
        return NO_REPLY                 # already a replica: ignored, as in Redis
    _sync_refusal(c)
    offset = parse_int64(argv[2])
    if offset is None:
        raise ReplyError(NOT_INTEGER)
    replid = argv[1].decode("utf-8", "replace")
    c.server.replication.attach_replica(c, replid, offset, getattr(c, "repl_handshake", {}))
    return NO_REPLY


@command("sync", 1, "admin noscript no-multi no-async-loading", group="server",
         since="1.0.0", summary="Internal command used for replication",
         complexity="")
def sync(c, argv):
    """The pre-PSYNC protocol (redis-cli --rdb and --replica use it): a full sync with
    no +FULLRESYNC line; the RDB, then the stream."""
    if c.replica is not None:
        return NO_REPLY
    _sync_refusal(c)
    c.server.replication.attach_replica(c, "?", -1, getattr(c, "repl_handshake", {}),
                                        pre_psync=True)
    return NO_REPLY


_REPLICAOF_SUMMARY = "Make the server a replica of another instance, or promote it as master."


def _replicaof_in_cluster_mode(c, argv):
    # In a cluster a node becomes a replica with CLUSTER REPLICATE and a master by a
    # failover: Redis refuses REPLICAOF/SLAVEOF whatever the arguments.
    raise ReplyError("ERR REPLICAOF not allowed in cluster mode.")


command("replicaof", 3, "admin noscript stale no-async-loading", group="server",
        since="5.0.0", complexity="O(1)", summary=_REPLICAOF_SUMMARY)(_replicaof_in_cluster_mode)
command("slaveof", 3, "admin noscript stale no-async-loading", group="server",
        since="1.0.0", complexity="O(1)", summary=_REPLICAOF_SUMMARY)(_replicaof_in_cluster_mode)


@command("failover", -1, "admin noscript stale", group="server", since="6.2.0",
         complexity="O(1)",
         summary="Start a coordinated failover between this server and one of its replicas.")
def failover(c, argv):
    raise ReplyError("ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command "
                     "instead.")


@command("wait", 3, "noscript", group="generic", since="3.0.0",
         categories=("@connection",), group_category=False,
         tips=("request_policy:all_shards", "response_policy:agg_min"),
         summary="Wait for the synchronous replication of all the write commands sent in "
                 "the context of the current connection",
         complexity="O(1)")
def wait(c, argv):
    repl = c.server.replication
    if not repl.is_master:
        raise ReplyError(WAIT_ON_REPLICA)
    numreplicas = _int(argv[1])
    timeout = _int(argv[2], "ERR timeout is not an integer or out of range")
    if timeout < 0:
        raise ReplyError("ERR timeout is negative")
    return repl.wait(c, numreplicas, timeout)


# ---------------------------------------------------------------- ROLE / INFO

@command("role", 1, "noscript loading stale fast", group="server", since="2.8.12",
         categories=("@admin", "@dangerous"),
         summary="Return the role of the instance in the context of replication",
         complexity="O(1)")
def role(c, argv):
    repl = c.server.replication
    link = repl.link
    if link is None:
        replicas = [[r.ip.encode(), b"%d" % r.port, b"%d" % r.ack_offset]
                    for r in repl.replicas if r.state == "online"]
        return [b"master", repl.offset, replicas]
    offset = repl.offset if link.client is not None and link.state == "connected" else -1
    return [b"slave", link.host.encode(), link.port, link.state.encode(), offset]


def info_lines(server) -> list:
    """The INFO replication section, field for field as redis-server 7.0.15."""
    repl = server.replication
    if repl is None:
        return info.idle_replication(server)
    link = repl.link
    lines = []
    if link is None:
        lines.append("role:master")
    else:
        now = time.time()
        lines += ["role:slave",
                  "master_host:%s" % link.host,
                  "master_port:%d" % link.port,
                  "master_link_status:%s" % ("up" if link.link_up else "down"),
                  "master_last_io_seconds_ago:%d" % link.last_io_seconds(),
                  "master_sync_in_progress:%d" % (link.state == "sync")]
        # Connected or not, the offsets are what this replica has read and processed
        # (Redis shows its cached master's when the link is down); only in the middle
        # of a full sync, whose data replaces ours, is there none: 1, as Redis shows.
        in_full_sync = link.state == "sync"
        lines += ["slave_read_repl_offset:%d" % (1 if in_full_sync else link.read_offset),
                  "slave_repl_offset:%d" % (1 if in_full_sync else repl.offset)]
        if link.state == "sync":
            total, read = link.sync_total_bytes, link.sync_read_bytes
            lines += ["master_sync_total_bytes:%d" % total,
                      "master_sync_read_bytes:%d" % read,
                      "master_sync_left_bytes:%d" % (total - read),
                      "master_sync_perc:%.2f" % (read / total * 100 if total > 0 else 0),
                      "master_sync_last_io_seconds_ago:%d"
                      % int(time.monotonic() - link.last_io)]
        if not link.link_up:
            lines.append("master_link_down_since_seconds:%d"
                         % (int(now - link.down_since) if link.synced_once else -1))
        settings = server.settings
        lines += ["slave_priority:%d" % settings.replica_priority,
                  "slave_read_only:%d" % settings.replica_read_only,
                  "replica_announced:%d" % settings.replica_announced]
    lines.append("connected_slaves:%d" % len(repl.replicas))
    if server.settings.min_replicas_to_write and server.settings.min_replicas_max_lag:
        lines.append("min_slaves_good_slaves:%d" % repl.good_replicas)
    now = time.monotonic()
    for i, r in enumerate(repl.replicas):
        lines.append("slave%d:ip=%s,port=%d,state=%s,offset=%d,lag=%d"
                     % (i, r.ip, r.port, r.state, r.ack_offset, int(now - r.ack_time)))
    backlog = repl.backlog
    lines += ["master_failover_state:no-failover",
              "master_replid:%s" % repl.replid,
              "master_replid2:%s" % repl.replid2,
              "master_repl_offset:%d" % repl.offset,
              "second_repl_offset:%d" % repl.second_offset,
              "repl_backlog_active:%d" % (backlog is not None),
              "repl_backlog_size:%d" % server.settings.repl_backlog_size,
              "repl_backlog_first_byte_offset:%d"
              % (backlog.first_byte_offset if backlog is not None else 0),
              "repl_backlog_histlen:%d" % (backlog.histlen if backlog is not None else 0)]
    return lines


info.register_section("replication", info_lines)
