"""Redis 7.0's persistence formats, sans I/O: the RDB file (version 10) and the DUMP
payload. Bytes in, neutral Python values out, and back. Nothing here imports the rest
of the project; the node adapts its values to these forms.

Neutral value forms (what the decoders yield and the encoders take):

    string  bytes (an integer-encoded RDB string decodes to its decimal bytes)
    list    list[bytes]
    set     list[bytes]
    hash    list[tuple[bytes, bytes]]
    zset    list[tuple[bytes, float]]         (member, score)

Modules, one concern each (their docstrings describe the byte layouts):

    rdb_constants   type bytes, opcodes, names
    errors          RdbError and its subclasses
    checksum        CRC-64/Jones (anycrc, C)
    compression     LZF (python-lzf, C: the liblzf Redis ships)
    rdb_strings     RDB lengths and strings (integer / LZF / raw forms)
    listpack, ziplist, intset, zipmap    the compact blobs inside values
    quicklist       how Redis cuts a list into listpack nodes
    rdb_encode      values -> RDB bytes in a chosen encoding (+ pre-7.0 types)
    rdb_decode      RDB bytes -> values, every type 7.0 writes and the older ones
    rdb_file        incremental file writer (RdbWriter) and reader (RdbReader)
    dump_payload    DUMP / RESTORE payloads
    function_payload  FUNCTION DUMP / RESTORE payloads (the libraries' RDB records)
"""
from commands.rdb.dump_payload import dump_payload, load_payload, string_payload, verify_payload
from commands.rdb.errors import BadDataFormat, DumpPayloadError, RdbError, RdbTruncated
from commands.rdb.rdb_constants import RDB_VERSION
from commands.rdb.rdb_decode import decode_value
from commands.rdb.rdb_encode import default_encoding, encode_legacy, encode_value
from commands.rdb.rdb_file import (Aux, FunctionLibrary, KeyEntry, RdbReader, RdbWriter, ResizeDb,
                                   SelectDb, read_rdb, write_rdb)

__all__ = [
    "Aux", "BadDataFormat", "DumpPayloadError", "FunctionLibrary", "KeyEntry",
    "RDB_VERSION", "RdbError", "RdbReader", "RdbTruncated", "RdbWriter", "ResizeDb",
    "SelectDb", "decode_value", "default_encoding", "dump_payload", "encode_legacy",
    "encode_value", "load_payload", "read_rdb", "string_payload", "verify_payload",
    "write_rdb",
]
