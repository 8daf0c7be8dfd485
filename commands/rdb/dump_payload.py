"""The DUMP payload: one value serialized as in an RDB file, with a footer (cluster.c,
createDumpPayload / verifyDumpPayload). DUMP returns it, RESTORE and MIGRATE take it.

    <type byte> <value, as rdbSaveObject> <RDB version u16 LE> <CRC-64 u64 LE>

The CRC-64 covers everything before it (type, value and version). RESTORE checks the
footer first: fewer than 10 bytes, a version greater than ours (10), or -- unless the
server runs with skip-checksum-validation (a DEBUG setting) -- a wrong CRC all answer
"ERR DUMP payload version or checksum are wrong" (DumpPayloadError here). The version
is checked even when the checksum is skipped. Then the body is decoded; a failure is
"ERR Bad data format" (BadDataFormat), which includes an unknown type byte and an empty
collection. Like Redis, bytes between the value's end and the footer are not looked at;
unlike Redis (whose reader runs on the whole buffer), a value must end before the footer
rather than borrow bytes from it.
"""
import struct

from commands.rdb.checksum import crc64
from commands.rdb.errors import BadDataFormat, DumpPayloadError, RdbError
from commands.rdb.rdb_constants import RDB_TYPE_STRING, RDB_VERSION
from commands.rdb.rdb_decode import decode_value
from commands.rdb.rdb_encode import encode_into
from commands.rdb.rdb_strings import encode_string

_FOOTER_VERSION = struct.Struct("<H").pack(RDB_VERSION)
_STRING_TYPE = bytes((RDB_TYPE_STRING,))
_U16 = struct.Struct("<H")
_U64 = struct.Struct("<Q")


def dump_payload(kind: str, value, encoding=None, compress: bool = True, *,
                 fill=None,
                 packed_threshold=None) -> bytes:
    """The DUMP payload of a value (see rdb_encode.encode_value for the arguments)."""
    parts = [None]
    rdb_type = encode_into(parts, kind, value, encoding, compress, fill, packed_threshold)
    parts[0] = bytes((rdb_type,))
    parts.append(_FOOTER_VERSION)
    body = b"".join(parts)
    return body + _U64.pack(crc64(body))


def string_payload(value: bytes, compress: bool = True) -> bytes:
    """dump_payload("string", value): the common case (MIGRATE sends one per key), the
    same bytes without the writer lookup."""
    body = b"".join((_STRING_TYPE, encode_string(value, compress), _FOOTER_VERSION))
    return body + _U64.pack(crc64(body))


def verify_payload(payload, skip_checksum: bool = False) -> int:
    """verifyDumpPayload: the payload's RDB version, or DumpPayloadError."""
    n = len(payload)
    if n < 10:
        raise DumpPayloadError("DUMP payload version or checksum are wrong")
    version = _U16.unpack_from(payload, n - 10)[0]
    if version > RDB_VERSION:
        raise DumpPayloadError("DUMP payload version or checksum are wrong")
    if not skip_checksum and crc64(payload[:n - 8]) != _U64.unpack_from(payload, n - 8)[0]:
        raise DumpPayloadError("DUMP payload version or checksum are wrong")
    return version


def load_payload(payload, skip_checksum: bool = False):
    """(kind, value) of a DUMP payload; DumpPayloadError for a wrong footer,
    BadDataFormat for a body that does not decode."""
    payload = bytes(payload)          # values are slices of it: bytes, not bytearray
    verify_payload(payload, skip_checksum)
    end = len(payload) - 10
    if payload[0] == RDB_TYPE_STRING and end >= 2 and payload[1] == end - 2 < 64:
        # A raw string under 64 bytes filling the body (<0> <6-bit length> <bytes>):
        # what MIGRATE carries most, read without the decoder table.
        return "string", payload[2:end]
    try:
        if end < 1:
            raise RdbError("no type byte")
        kind, value, _ = decode_value(payload[0], payload, 1, end)
    except RdbError as exc:
        raise BadDataFormat("Bad data format (%s)" % exc) from exc
    if kind != "string" and not value:
        raise BadDataFormat("Bad data format (empty %s)" % kind)
    return kind, value
