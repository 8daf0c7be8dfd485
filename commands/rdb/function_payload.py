"""FUNCTION DUMP / FUNCTION RESTORE payloads (functions.c functionDumpCommand /
functionRestoreCommand): the libraries as they sit in an RDB file, with the DUMP footer.

    ( <RDB_OPCODE_FUNCTION2 (245)> <library code as an RDB string> )*
    <RDB version u16 LE> <CRC-64 u64 LE>

The code is the whole FUNCTION LOAD text, shebang included. RESTORE also reads the
7.0-rc form (opcode 246: name, engine, optional description, body), as Redis does.
"""
import struct

from commands.rdb.checksum import crc64
from commands.rdb.dump_payload import verify_payload
from commands.rdb.errors import RdbError
from commands.rdb.rdb_constants import RDB_OPCODE_FUNCTION, RDB_OPCODE_FUNCTION2, RDB_VERSION
from commands.rdb.rdb_strings import encode_string, read_length, read_string

_FOOTER_VERSION = struct.Struct("<H").pack(RDB_VERSION)
_U64 = struct.Struct("<Q")


class FunctionPayloadError(Exception):
    """A payload RESTORE refuses; str() is Redis's text (without "ERR ")."""


def dump_functions(codes, compress: bool = True) -> bytes:
    """The FUNCTION DUMP payload of these library codes."""
    parts = []
    for code in codes:
        parts.append(bytes((RDB_OPCODE_FUNCTION2,)))
        parts.append(encode_string(code, compress))
    parts.append(_FOOTER_VERSION)
    body = b"".join(parts)
    return body + _U64.pack(crc64(body))


def read_functions(payload, skip_checksum: bool = False) -> list:
    """The library codes of a FUNCTION RESTORE payload, in order; FunctionPayloadError
    with Redis's text for a bad footer, a non-function record or a cut string."""
    payload = bytes(payload)
    try:
        verify_payload(payload, skip_checksum)
    except RdbError:
        raise FunctionPayloadError("DUMP payload version or checksum are wrong") from None
    n = len(payload)
    pos = 0
    codes = []
    # Like Redis, read records while more than the footer's 10 bytes remain.
    while n - pos > 10:
        opcode = payload[pos]
        pos += 1
        if opcode not in (RDB_OPCODE_FUNCTION, RDB_OPCODE_FUNCTION2):
            raise FunctionPayloadError("given type is not a function")
        try:
            if opcode == RDB_OPCODE_FUNCTION2:
                code, pos = read_string(payload, pos, n)
            else:
                code, pos = _old_form(payload, pos, n)
        except RdbError:
            raise FunctionPayloadError("Failed loading library payload") from None
        codes.append(bytes(code))
    return codes


def _old_form(buf, pos, end):
    """RDB_OPCODE_FUNCTION (7.0-rc1/rc2) as the code FUNCTION LOAD would take."""
    name, pos = read_string(buf, pos, end)
    engine, pos = read_string(buf, pos, end)
    has_desc, pos = read_length(buf, pos, end)
    if has_desc:
        _, pos = read_string(buf, pos, end)
    body, pos = read_string(buf, pos, end)
    return b"#!%s name=%s\n%s" % (engine, name, body), pos
