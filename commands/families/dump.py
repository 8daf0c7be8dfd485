"""DUMP / RESTORE / RESTORE-ASKING with Redis's own payload.

The payload is Redis's (commands/rdb/dump_payload.py): the value exactly as an RDB file
holds it, the RDB version and a CRC-64, so DUMP output restores into a real redis-server
and its DUMP output restores here; MIGRATE (commands/families/migrate.py) carries the same
payload between our nodes and Redis's. The value goes through the codec registry
(commands/data/value_codec.py): live value -> neutral form + encoding -> RDB bytes.

RESTORE answers as Redis does: fewer than 10 bytes, a newer version or a wrong checksum ->
`ERR DUMP payload version or checksum are wrong`; a payload whose footer is right but
whose body does not decode to a value -> `ERR Bad data format`.
"""
from commands.data.keyspace import now_ms
from commands.data.notifications import notify_keyspace_event
from commands.data.numbers import INT64_MAX
from commands.data.value_codec import UnsupportedValue, from_saved, to_saved
from commands.rdb import BadDataFormat, DumpPayloadError, RdbError
from commands.rdb import dump_payload as rdb_dump_payload
from commands.rdb import load_payload as rdb_load_payload
from commands.rdb import string_payload as rdb_string_payload
from commands.server.args import SYNTAX_ERROR, int_arg
from commands.server.resp import OK, ReplyError
from commands.server.table import command, key_spec

BAD_PAYLOAD = "ERR DUMP payload version or checksum are wrong"
BAD_FORMAT = "ERR Bad data format"
BUSYKEY = "BUSYKEY Target key name already exists."


# ---------------------------------------------------------------- payload encode / decode

def _saved_form(value):
    try:
        return to_saved(value)
    except UnsupportedValue as exc:
        raise ReplyError(str(exc)) from None


def dump_payload(value, compress: bool = True) -> bytes:
    """The DUMP payload of a live value (Redis's createDumpPayload); compress is
    rdbcompression, as in Redis."""
    if type(value) is bytes:          # most keys: no codec lookup
        return rdb_string_payload(value, compress)
    kind, neutral, encoding = _saved_form(value)
    return rdb_dump_payload(kind, neutral, encoding, compress)


def load_payload(payload: bytes):
    """A new value from a DUMP payload; ReplyError with Redis's text when it is bad."""
    try:
        kind, neutral = rdb_load_payload(payload)
        return from_saved(kind, neutral)
    except DumpPayloadError:
        raise ReplyError(BAD_PAYLOAD) from None
    except (BadDataFormat, RdbError, KeyError, ValueError, TypeError):
        raise ReplyError(BAD_FORMAT) from None


# ---------------------------------------------------------------- DUMP / RESTORE

@command("dump", 2, "readonly", keys=(1, 1, 1), tips=("nondeterministic_output",),
         since="2.6.0", summary="Returns a serialized representation of the value stored "
         "at a key.", complexity="O(1) to access the key and additional O(N*M) to "
         "serialize it, where N is the number of Redis objects composing the value and M "
         "their average size. For small string values the time complexity is thus "
         "O(1)+O(1*M) where M is small, so simply O(1).")
def dump(c, argv):
    value = c.server.keyspace.lookup_read(argv[1])
    if value is None:
        return None
    return dump_payload(value, c.server.settings.values["rdbcompression"])


def _parse_restore_options(argv):
    """(replace, absttl, idle seconds or None, LFU counter or None) in Redis's order of
    checks."""
    replace = absttl = False
    idle = freq = None
    i = 4
    while i < len(argv):
        option = argv[i].lower()
        more = len(argv) - i - 1
        if option == b"replace":
            replace = True
        elif option == b"absttl":
            absttl = True
        elif option == b"idletime" and more >= 1 and freq is None:
            idle = int_arg(argv[i + 1])
            if idle < 0:
                raise ReplyError("ERR Invalid IDLETIME value, must be >= 0")
            i += 1
        elif option == b"freq" and more >= 1 and idle is None:
            freq = int_arg(argv[i + 1])
            if not 0 <= freq <= 255:
                raise ReplyError("ERR Invalid FREQ value, must be >= 0 and <= 255")
            i += 1
        else:
            raise ReplyError(SYNTAX_ERROR)
        i += 1
    return replace, absttl, idle, freq


def restore_generic(c, argv):
    """RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f] (restoreCommand)."""
    if len(argv) == 4:                # no options: what MIGRATE sends
        replace = absttl = False
        idle = freq = None
    else:
        replace, absttl, idle, freq = _parse_restore_options(argv)
    ks = c.server.keyspace
    key = argv[1]
    if not replace and ks.get(key) is not None:
        raise ReplyError(BUSYKEY)
    # "0", no TTL, is what MIGRATE sends for most keys: read without parsing.
    ttl = 0 if argv[2] == b"0" else int_arg(argv[2])
    if ttl < 0:
        raise ReplyError("ERR Invalid TTL value, must be >= 0")
    value = load_payload(argv[3])
    # The payload is always validated in depth here; INFO counts it as Redis does, when
    # sanitize-dump-payload asks for it for this client.
    sanitize = c.server.settings.sanitize_dump_payload
    if sanitize == "yes" or (sanitize == "clients" and not c.is_master_link):
        c.server.dump_payload_sanitizations += 1

    deleted = replace and ks.delete(key)
    if ttl and not absttl:
        ttl += now_ms()
        if ttl > INT64_MAX:
            ttl = -1                  # C's signed overflow: Redis sees a past time
    if ttl and ttl <= now_ms() and ks.lazy_expire:      # a replica keeps it (as Redis)
        # Already expired (checkAlreadyExpired): the old key, if any, is gone and no
        # new one is created, yet the reply is OK.
        if deleted:
            notify_keyspace_event(ks, "g", b"del", key)
        return OK
    ks.set(key, value)
    if ttl:
        ks.set_expire(key, ttl)
    if idle is not None or freq is not None:
        # objectSetLRUOrLFU: the policy decides which of the two hints applies.
        ks.restore_access(key, idle, freq)
    if ks.notify_flags:
        notify_keyspace_event(ks, "g", b"restore", key)
    return OK


_RESTORE_SUMMARY = "Creates a key from the serialized representation of a value."
_RESTORE_COMPLEXITY = ("O(1) to create the new key and additional O(N*M) to reconstruct "
                       "the serialized value, where N is the number of Redis objects "
                       "composing the value and M their average size. For small string "
                       "values the time complexity is thus O(1)+O(1*M) where M is small, "
                       "so simply O(1). However for sorted set values the complexity is "
                       "O(N*M*log(N)) because inserting values into sorted sets is "
                       "O(log(N)).")


@command("restore", -4, "write denyoom", keys=(1, 1, 1), categories=("@dangerous",),
         since="2.6.0", summary=_RESTORE_SUMMARY, complexity=_RESTORE_COMPLEXITY,
         key_specs=[key_spec(["OW", "update"], 1)])
def restore(c, argv):
    return restore_generic(c, argv)


# The "asking" flag lets the router serve it in an importing slot without a separate
# ASKING: this is what MIGRATE sends in cluster mode.
@command("restore-asking", -4, "write denyoom asking", keys=(1, 1, 1),
         categories=("@dangerous",), since="3.0.0",
         summary="An internal command for migrating keys in a cluster.",
         complexity=_RESTORE_COMPLEXITY,
         key_specs=[key_spec(["OW", "update"], 1)])
def restore_asking(c, argv):
    return restore_generic(c, argv)
