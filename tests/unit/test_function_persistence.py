"""Function libraries in the persistence formats, without a node: FUNCTION DUMP payloads
(and the 7.0-rc record), the RDB stream, and an AOF base of plain commands, which
starts with one FUNCTION LOAD per library as Redis's rewriteFunctions writes it."""
import io

import pytest

from commands import load_all_commands
from commands.data.keyspace import Keyspace
from commands.persistence.aof_loading import load_append_only_files
from commands.persistence.aof_manifest import Manifest
from commands.persistence.aof_rewrite import write_base
from commands.persistence.rdb_snapshot import load_into, write_keyspace
from commands.rdb import RdbError
from commands.rdb.checksum import crc64
from commands.rdb.function_payload import (FunctionPayloadError, dump_functions,
                                           read_functions)
from commands.rdb.rdb_strings import encode_string
from commands.scripting.function_libraries import FunctionLibraries
from commands.server.context import Server
from commands.server.settings import Settings

LIB_A = b"#!lua name=a\nredis.register_function('fa', function() return 1 end)"
LIB_B = b"#!lua name=b\nredis.register_function('fb', function() return 2 end)" + \
    b"\n-- " + b"long enough to be compressed " * 10


def with_footer(body: bytes) -> bytes:
    body += b"\x0a\x00"                      # RDB version 10
    return body + crc64(body).to_bytes(8, "little")


def test_payload_round_trip_and_old_record():
    for compress in (True, False):
        payload = dump_functions([LIB_A, LIB_B], compress)
        assert payload[0] == 245
        assert read_functions(payload) == [LIB_A, LIB_B]
    assert read_functions(dump_functions([])) == []
    old = with_footer(b"\xf6" + encode_string(b"old") + encode_string(b"LUA") + b"\x01" +
                      encode_string(b"a description") + encode_string(b"\nreturn 1"))
    assert read_functions(old) == [b"#!LUA name=old\n\nreturn 1"]


@pytest.mark.parametrize("payload, message", [
    (b"short", "DUMP payload version or checksum are wrong"),
    (with_footer(b"\x00" + encode_string(b"k")), "given type is not a function"),
    (with_footer(b"\xf5\x3f" + b"x" * 3), "Failed loading library payload"),
])
def test_payload_errors(payload, message):
    with pytest.raises(FunctionPayloadError, match=message):
        read_functions(payload)


@pytest.fixture
def server(tmp_path):
    load_all_commands()
    settings = Settings()
    settings.set("dir", str(tmp_path), at_startup=True)
    server = Server(settings, Keyspace())
    server.functions = FunctionLibraries(server)
    return server


def test_rdb_stream_carries_libraries(server):
    server.keyspace.set(b"k", b"v")
    out = io.BytesIO()
    write_keyspace(server.keyspace, out, functions=[LIB_A, LIB_B])
    data = out.getvalue()
    assert data.index(b"name=a") < data.index(b"\xfe\x00")      # before SELECTDB 0
    server.functions.load(LIB_A.replace(b"name=a", b"name=gone").replace(b"fa", b"g"))
    loaded = Keyspace()
    load_into(loaded, io.BytesIO(data), functions=server.functions)
    assert list(server.functions.libraries) == [b"a", b"b"]     # replaced, as emptyData
    assert loaded.peek(b"k") == b"v"
    with pytest.raises(RdbError):
        load_into(Keyspace(), io.BytesIO(data))                  # nobody takes them


def test_plain_aof_base_loads_libraries_first(server, tmp_path):
    server.keyspace.set(b"k", b"v")
    folder = tmp_path / "appendonlydir"
    folder.mkdir()
    path = folder / "a.1.base.aof"
    write_base(server.keyspace, str(path), rdb_preamble=False, functions=[LIB_A, LIB_B])
    data = path.read_bytes()
    assert data.startswith(b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n$%d\r\n%s\r\n"
                           % (len(LIB_A), LIB_A))
    other = Server(server.settings, Keyspace())
    other.functions = FunctionLibraries(other)
    load_append_only_files(other, str(folder), Manifest.parse(b"file a.1.base.aof seq 1 "
                                                              b"type b\n"),
                           load_truncated=True)
    assert list(other.functions.libraries) == [b"a", b"b"]
    assert other.keyspace.peek(b"k") == b"v"
