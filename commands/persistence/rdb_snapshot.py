"""The keyspace as an RDB stream, and an RDB stream into a keyspace.

The codec (commands/rdb) knows RDB bytes and neutral values; the value codec registry
(commands/data/value_codec.py) knows live values and neutral forms. This module is the
glue both ways, used by SAVE/BGSAVE (a file), the start-up load, the AOF's RDB preamble,
DEBUG RELOAD and the full-sync stream to replicas.

Writing follows rdbSaveRio: the AUX fields, then -- when the database holds keys --
SELECTDB 0 and RESIZEDB, then every key with its absolute expire time, then EOF and the
CRC-64. Like Redis, keys whose time has passed but that nobody deleted yet are written
too: a master drops them when it loads the file, a replica keeps them until its master
says DEL.

Loading follows rdbLoadRio: keys whose expire time has passed are skipped (Redis keeps
them on a replica until its master's DEL; ours drops them at once, which that DEL then
finds done); a value that does not decode, a key in a
database other than 0 (a cluster node has one database) stops the load with RdbError and
a reason.

Function libraries (RDB_OPCODE_FUNCTION2) are written after the AUX fields and before the
keys, as rdbSaveRio writes them. A load hands the libraries it read to `functions`
(commands/scripting/function_libraries.FunctionLibraries, passed in by the caller: this
layer cannot import that one), which they replace -- Redis empties the functions with
the data before it loads an RDB -- once every key has loaded.
"""
import time

from commands.data.keyspace import now_ms
from commands.data.value_codec import from_saved, to_saved
from commands.rdb import Aux, FunctionLibrary, KeyEntry, RdbError, RdbReader, RdbWriter

LOAD_PROGRESS_EVERY = 1024            # keys between two progress callbacks


class LoadResult:
    __slots__ = ("keys_loaded", "expired_skipped", "aux", "bytes_read")

    def __init__(self):
        self.keys_loaded = 0
        self.expired_skipped = 0
        self.aux = {}                 # AUX name -> value (bytes), e.g. b"repl-offset"
        self.bytes_read = 0


def library_codes(server) -> list:
    """The function libraries' codes to write with the keys (none without FUNCTION)."""
    functions = server.functions
    return functions.codes() if functions is not None else []


def write_keyspace(keyspace, stream, *, compress=True, checksum=True, fill=None,
                   packed_threshold=None, repl_id=None, repl_offset=None,
                   aof_base=False, used_mem=0, key_delay_us=0, functions=()) -> RdbWriter:
    """Write the whole keyspace to `stream` (anything with write()) as one RDB.
    key_delay_us sleeps that long per key (rdb-key-save-delay: tests slow a child
    down with it; only ever set in a child process or on purpose)."""
    writer = RdbWriter(stream, checksum=checksum, compress=compress, fill=fill,
                       packed_threshold=packed_threshold)
    writer.write_header(used_mem=used_mem, repl_id=repl_id, repl_offset=repl_offset,
                        aof_base=1 if aof_base else 0)
    writer.write_functions(functions)
    expires = keyspace.expires
    if keyspace.size:
        writer.select_db(0, keyspace.size, len(expires))
        write_key = writer.write_key
        delay = key_delay_us / 1e6 if key_delay_us > 0 else 0
        for key, value in keyspace.items():
            kind, neutral, encoding = to_saved(value)
            write_key(key, kind, neutral, encoding, expires.get(key) if expires else None)
            if delay:
                time.sleep(delay)
    writer.finish()
    return writer


def load_into(keyspace, stream, *, verify_checksum=True,
              progress=None, functions=None) -> LoadResult:
    """Load an RDB stream into `keyspace` (which the caller emptied or means to extend).
    progress(keys loaded so far) is called every LOAD_PROGRESS_EVERY keys: the start-up
    loader yields to other greenlets there. Raises RdbError on bad data."""
    result = LoadResult()
    now = now_ms()
    load_key = keyspace.load_key
    codes = []
    for event in RdbReader(stream, verify_checksum=verify_checksum):
        if type(event) is KeyEntry:
            if event.db != 0:
                raise RdbError("key in DB %d: a cluster node has only DB 0" % event.db)
            expire = event.expire_ms
            if expire is not None and expire <= now:
                result.expired_skipped += 1
                continue
            try:
                value = from_saved(event.kind, event.value)
            except (KeyError, ValueError, TypeError) as exc:
                raise RdbError("bad value for key %r (%s): %s"
                               % (event.key[:64], event.kind, exc)) from None
            load_key(event.key, value, expire)
            if event.idle is not None or event.freq is not None:
                keyspace.restore_access(event.key, event.idle, event.freq)
            result.keys_loaded += 1
            if progress is not None and result.keys_loaded % LOAD_PROGRESS_EVERY == 0:
                progress(result.keys_loaded)
        elif type(event) is Aux:
            result.aux[event.name] = event.value
        elif type(event) is FunctionLibrary:
            if functions is None:
                raise RdbError("the stream holds function libraries and nothing here "
                               "takes them")
            codes.append(bytes(event.code))
    if functions is not None:
        try:
            functions.replace_all(codes)
        except Exception as exc:     # FunctionError: a library that does not load
            raise RdbError("Failed loading library: %s" % exc) from None
    return result
