"""nodes.conf: Redis's text format, written on every change, read back at start.

Format (reference/redis-cluster.md 1.11): one CLUSTER NODES line per node
with aux fields after the address, then ``vars currentEpoch N lastVoteEpoch M``.
Nodes in handshake are not saved.

Two ways to write it, as Redis has two (clusterSaveConfig with and without fsync):

* ``save(path, text)``, durable: temp file, fsync, rename, fsync of the directory
  -- a vote or a new epoch is on disk, whole, before what depends on it is sent.
  It blocks for milliseconds: the bus adapter runs it in gevent's threadpool.
* ``overwrite(path, text)``, for every other change (a slot opened or moved, a node
  learned): the text written over the file in place, padded with newlines to the old
  length and then truncated, exactly as Redis 7.0 does it without fsync. It goes to
  the page cache in tens of microseconds, so the adapter calls it inline. Replacing
  the file by rename instead costs a millisecond or more here (ext4 flushes a file
  renamed over another, "auto_da_alloc"), and a reshard changes the config every few
  ms on each node. A process crash cannot tear the file (one write(2) call); a power
  loss may, as with Redis -- the durable saves above are the ones that must survive
  one.
"""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING

from cluster.describe import node_description
from cluster.errors import ConfigFileError
from cluster.node_record import FLAGS_BY_NAME, NODE_HANDSHAKE
from cluster.slots import CLUSTER_SLOTS
from cluster.config import LoadedConfig, LoadedNode

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState

_NODE_ID = re.compile(r"^[0-9a-z]{40}$")
_MIGRATING = re.compile(r"^\[(\d+)->-([0-9a-z]{40})\]$")
_IMPORTING = re.compile(r"^\[(\d+)-<-([0-9a-z]{40})\]$")


def render(state: ClusterState) -> str:
    """The whole file for the current state (call from the state's thread)."""
    lines = [node_description(state, node, for_config=True)
             for node in state.nodes.values() if not node.flags & NODE_HANDSHAKE]
    lines.append(f"vars currentEpoch {state.current_epoch} lastVoteEpoch {state.last_vote_epoch}")
    return "\n".join(lines) + "\n"


def save(path: str, text: str, fsync: bool = True) -> None:
    """Write ``text`` to ``path`` atomically: temp file, fsync, rename, fsync the directory."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = f"{path}.tmp-{os.getpid()}-{int(time.time() * 1000)}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if fsync:
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def overwrite(path: str, text: str) -> None:
    """Write ``text`` over ``path`` in place, without fsync (Redis's clusterSaveConfig(0)):
    padded with newlines (blank lines, which ``parse`` skips) when the old file was
    longer, so the file is never shorter than its content, then truncated."""
    data = text.encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        old_size = os.fstat(fd).st_size
        padded = data + b"\n" * (old_size - len(data)) if old_size > len(data) else data
        view = memoryview(padded)
        while view:
            view = view[os.write(fd, view):]
        if len(padded) != len(data):
            os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def load(path: str) -> LoadedConfig | None:
    """Read ``path``; None when it is missing or empty (a brand-new node)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"Unrecoverable error: corrupted cluster config file {path}: "
                              f"not valid UTF-8 ({exc})") from None
    if not text.strip():
        return None
    return parse(text, path)


def _int(text: str, what: str) -> int:
    if not re.fullmatch(r"-?\d+", text):
        raise ValueError(f"{what} is not an integer: {text!r}")
    return int(text)


def _parse_address(text: str) -> tuple[str, int, int, str, str]:
    """ip:port@cport[,hostname[,key=value...]] -> ip, port, cport, shard id, hostname."""
    address, _, aux = text.partition(",")
    shard_id = ""
    items = aux.split(",") if aux else []
    hostname = items[0] if items and "=" not in items[0] else ""
    for item in items[1:]:
        key, _, value = item.partition("=")
        if key == "shard-id":
            shard_id = value
    host_port, at, cport_text = address.partition("@")
    ip, colon, port_text = host_port.rpartition(":")
    if not colon:
        raise ValueError(f"address without a port: {text!r}")
    port = _int(port_text, "port")
    cport = _int(cport_text, "bus port") if at else port + 10000  # files older than 4.0
    if not (0 <= port <= 65535 and 0 <= cport <= 65535):
        raise ValueError(f"port out of range: {text!r}")
    return ip, port, cport, shard_id, hostname


def _parse_node_line(fields: list[str]) -> LoadedNode:
    if len(fields) < 8:
        raise ValueError(f"expected at least 8 fields, got {len(fields)}")
    name = fields[0]
    if not _NODE_ID.match(name):
        raise ValueError(f"invalid node id {name!r}")
    ip, port, cport, shard_id, hostname = _parse_address(fields[1])
    flags = 0
    for flag in fields[2].lower().split(","):
        if flag == "noflags":
            continue
        if flag not in FLAGS_BY_NAME:
            raise ValueError(f"unknown flag {flag!r}")
        flags |= FLAGS_BY_NAME[flag]
    master = None if fields[3] == "-" else fields[3]
    if master is not None and not _NODE_ID.match(master):
        raise ValueError(f"invalid master id {master!r}")
    node = LoadedNode(
        name=name, ip=ip, port=port, cport=cport, flags=flags, master_name=master,
        ping_sent=_int(fields[4], "ping-sent"), pong_received=_int(fields[5], "pong-recv"),
        config_epoch=_int(fields[6], "config-epoch"),
        link_connected=fields[7] == "connected", slots=[], shard_id=shard_id,
        hostname=hostname,
    )
    for token in fields[8:]:
        if token.startswith("["):
            mig, imp = _MIGRATING.match(token), _IMPORTING.match(token)
            if not (mig or imp):
                raise ValueError(f"invalid open-slot token {token!r}")
            slot = int((mig or imp).group(1))
            if slot >= CLUSTER_SLOTS:
                raise ValueError(f"slot out of range in {token!r}")
            (node.migrating if mig else node.importing)[slot] = (mig or imp).group(2)
            continue
        start_text, dash, end_text = token.partition("-")
        start = _int(start_text, "slot")
        end = _int(end_text, "slot") if dash else start
        if not 0 <= start <= end < CLUSTER_SLOTS:
            raise ValueError(f"invalid slot range {token!r}")
        node.slots.append((start, end))
    return node


def parse(text: str, source: str = "nodes.conf") -> LoadedConfig:
    """Parse the file's text; raise ConfigFileError naming the line of any problem."""
    config = LoadedConfig(current_epoch=0, last_vote_epoch=0, nodes=[])
    myself_count = 0
    for lineno, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if not line:
            continue
        fields = line.split()
        try:
            if fields[0] == "vars":
                if len(fields) % 2 == 0:
                    raise ValueError("vars line needs name/value pairs")
                for key, value in zip(fields[1::2], fields[2::2]):
                    if key == "currentEpoch":
                        config.current_epoch = _int(value, key)
                    elif key == "lastVoteEpoch":
                        config.last_vote_epoch = _int(value, key)
                continue
            node = _parse_node_line(fields)
        except ValueError as exc:
            raise ConfigFileError(f"Unrecoverable error: corrupted cluster config file "
                                  f"{source}, line {lineno}: {exc}") from None
        if node.flags & FLAGS_BY_NAME["myself"]:
            myself_count += 1
        config.nodes.append(node)
    if myself_count != 1:
        raise ConfigFileError(f"Unrecoverable error: corrupted cluster config file {source}: "
                              f"expected exactly one 'myself' node, found {myself_count}")
    return config
