"""The AOF's pieces without a node: the manifest format, the plain-command base, the
reply barrier of appendfsync always / everysec, and replay of a RESP file."""
import io
import os

import gevent
import pytest

from commands import load_all_commands
from commands.data.keyspace import Keyspace
from commands.data.value_codec import from_saved, to_saved
from commands.persistence import aof_manifest
from commands.persistence.aof import AppendOnlyFile
from commands.persistence.aof_loading import AofLoadError, load_append_only_files
from commands.persistence.aof_manifest import Manifest, ManifestError
from commands.persistence.aof_rewrite import write_commands
from commands.persistence.background import Children
from commands.persistence.info import aof_lines
from commands.server.context import Server
from commands.server.settings import Settings

# ---------------------------------------------------------------- manifest

def test_manifest_round_trip_and_rotation():
    m = Manifest()
    m.new_base("appendonly.aof", True)
    m.new_incr("appendonly.aof")
    assert m.format() == (b"file appendonly.aof.1.base.rdb seq 1 type b\n"
                          b"file appendonly.aof.1.incr.aof seq 1 type i\n")
    # A rewrite: a new incr opened first, then the new base replaces the old one.
    m.new_incr("appendonly.aof")
    m.new_base("appendonly.aof", False)
    m.mark_rewritten_incr_as_history(keep_last=True)
    # History in Redis's order: each file moved is put at the head of the list.
    assert m.format() == (b"file appendonly.aof.2.base.aof seq 2 type b\n"
                          b"file appendonly.aof.1.incr.aof seq 1 type h\n"
                          b"file appendonly.aof.1.base.rdb seq 1 type h\n"
                          b"file appendonly.aof.2.incr.aof seq 2 type i\n")
    again = Manifest.parse(m.format())
    assert again.format() == m.format()
    assert (again.base_seq, again.incr_seq) == (2, 2)


def test_manifest_quotes_odd_names_like_sdscatrepr():
    m = Manifest()
    m.new_incr("my aof\n")
    line = m.format()
    assert line == b'file "my aof\\n.1.incr.aof" seq 1 type i\n'
    assert Manifest.parse(line).incr[0].name == "my aof\n.1.incr.aof"


def test_manifest_accepts_comments_extra_pairs_and_any_key_case():
    m = Manifest.parse(b"# a comment\nFILE a.1.incr.aof SEQ 1 TYPE i future x\n")
    assert m.incr[0].name == "a.1.incr.aof"


@pytest.mark.parametrize("data, reason", [
    (b"", "Found an empty AOF manifest"),
    (b"file a seq 1 type b", "The AOF manifest file contains too long line"),
    (b"file a seq 1 type b\n\n", "Invalid AOF manifest file format"),
    (b"file a seq 1\n", "Invalid AOF manifest file format"),
    (b"file a seq 0 type i\n", "Invalid AOF manifest file format"),
    (b"file a/b seq 1 type i\n", "File can't be a path, just a filename"),
    (b"file a seq 2 type i\nfile b seq 2 type i\n", "Found a non-monotonic sequence number"),
    (b"file a seq 1 type z\n", "Unknown AOF file type"),
])
def test_manifest_errors_are_redis_reasons(data, reason):
    with pytest.raises(ManifestError, match="^%s$" % reason):
        Manifest.parse(data)


def test_persist_is_atomic_and_leaves_no_temp(tmp_path):
    m = Manifest()
    m.new_base("appendonly.aof", True)
    aof_manifest.persist(str(tmp_path), "appendonly.aof", m)
    assert os.listdir(tmp_path) == ["appendonly.aof.manifest"]
    assert aof_manifest.load(str(tmp_path), "appendonly.aof").base.name == \
        "appendonly.aof.1.base.rdb"


# ---------------------------------------------------------------- a node's pieces

@pytest.fixture
def server(tmp_path):
    load_all_commands()
    settings = Settings()
    settings.set("dir", str(tmp_path), at_startup=True)
    return Server(settings, Keyspace())


def sorted_saved(value):
    kind, neutral, _ = to_saved(value)
    return kind, neutral if kind in ("string", "list") else sorted(neutral)


def test_plain_base_rebuilds_every_type(server, tmp_path):
    ks = server.keyspace
    ks.set(b"s", b"v")
    ks.set(b"l", from_saved("list", [b"%d" % i for i in range(130)]))
    ks.set(b"h", from_saved("hash", [(b"f", b"1"), (b"g", b"2")]))
    ks.set(b"z", from_saved("zset", [(b"a", 0.1), (b"b", float("inf"))]))
    ks.set(b"st", from_saved("set", [b"x", b"y"]))
    ks.expire_at(b"s", 4_102_444_800_000)
    out = io.BytesIO()
    write_commands(ks, out)
    data = out.getvalue()
    assert data.startswith(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n")
    assert data.count(b"RPUSH") == 3                 # 64 + 64 + 2 elements
    assert b"$3\r\ninf\r\n" in data and b"0.10000000000000001" in data
    folder = tmp_path / "appendonlydir"
    folder.mkdir()
    (folder / "a.1.base.aof").write_bytes(data)
    m = Manifest.parse(b"file a.1.base.aof seq 1 type b\n")
    other = Server(server.settings, Keyspace())
    load_append_only_files(other, str(folder), m, load_truncated=True)
    for key in (b"s", b"l", b"h", b"z", b"st"):
        assert sorted_saved(other.keyspace.peek(key)) == sorted_saved(ks.peek(key))
    assert other.keyspace.expires == {b"s": 4_102_444_800_000}


def test_unknown_command_in_the_aof_is_fatal(server, tmp_path):
    (tmp_path / "a.1.incr.aof").write_bytes(b"*1\r\n$6\r\nNOSUCH\r\n")
    m = Manifest.parse(b"file a.1.incr.aof seq 1 type i\n")
    with pytest.raises(AofLoadError, match="Unknown command 'NOSUCH' reading the append "
                                           "only file a.1.incr.aof"):
        load_append_only_files(server, str(tmp_path), m, load_truncated=True)


def _aof_on(server, policy, monkeypatch):
    server.settings.set("appendfsync", policy, at_startup=True)
    aof = AppendOnlyFile(server, Children())
    aof.open_on_server_start()
    syncs = []
    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (syncs.append(fd), real(fd)))
    return aof, syncs


def test_always_reply_waits_for_the_fsync(server, monkeypatch):
    aof, syncs = _aof_on(server, "always", monkeypatch)
    aof.feed([[b"SET", b"k", b"v"]])
    assert aof.synced < aof.fed
    aof.before_reply()
    assert aof.synced == aof.written == aof.fed and syncs
    with open(os.path.join(aof.folder, aof.manifest.incr[-1].name), "rb") as f:
        assert f.read() == (b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
                            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")


def test_everysec_writes_before_the_reply_and_fsyncs_off_the_loop(server, monkeypatch):
    aof, syncs = _aof_on(server, "everysec", monkeypatch)
    aof.last_fsync -= 2                              # a second has passed
    aof.feed([[b"SET", b"k", b"v"], [b"SET", b"k2", b"v"]])
    aof.before_reply()
    assert aof.written == aof.fed                    # in the page cache before the reply
    gevent.sleep(0.2)                                # the thread pool's fsync
    assert syncs and aof.synced == aof.written
    with open(os.path.join(aof.folder, aof.manifest.incr[-1].name), "rb") as f:
        assert b"MULTI" in f.read()                  # a unit of two is a transaction


def test_write_error_refuses_writes_until_it_clears(server, monkeypatch):
    aof, _ = _aof_on(server, "everysec", monkeypatch)
    real_write = os.write

    def full_disk(fd, data):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "write", full_disk)
    aof.feed([[b"SET", b"k", b"v"]])
    aof.before_reply()
    assert not aof.last_write_ok and aof.buf_len > 0       # kept for the next try
    assert str(server.aof_misconf) == \
        "MISCONF Errors writing to the AOF file: No space left on device"
    assert "aof_last_write_status:err" in aof_lines(aof)
    monkeypatch.setattr(os, "write", real_write)
    aof.cron()                                             # the retry
    assert aof.last_write_ok and server.aof_misconf is None and aof.written == aof.fed
