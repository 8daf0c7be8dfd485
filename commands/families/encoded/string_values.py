"""The string lookups the bit and HyperLogLog commands share.

A string value is bytes (as it arrived) or a bytearray (changed in place: Redis's "raw"
encoding); see commands/families/strings.py. The commands here change strings in place,
so a write first makes the value a bytearray, as Redis's dbUnshareStringValue makes it
a private raw string: that is not a change of the value (no dirty count, no WATCH signal).
"""
from commands.data.keyspace import WRONGTYPE, slot_of
from commands.data.notifications import notify_keyspace_event
from commands.server.resp import ReplyError


def key_spec(flags, index: int, lastkey: int = 0, notes: str = "") -> dict:
    """One of Redis's key specs as the command table takes them (commands/server/table.py):
    keys from argument `index` to `lastkey` (relative; -1 = the last argument), with the
    access flags Redis gives them, for COMMAND INFO."""
    spec = {"flags": flags, "begin_search": {"index": index},
            "find_keys": {"range": (lastkey, 1, 0)}}
    if notes:
        spec["notes"] = notes
    return spec


def is_string(value) -> bool:
    return type(value) is bytes or type(value) is bytearray


def string_for_read(c, key):
    """lookupKeyRead + checkType: the string at `key` or None (hits/misses counted)."""
    value = c.server.keyspace.lookup_read(key)
    if value is not None and not is_string(value):
        raise ReplyError(WRONGTYPE)
    return value


def string_for_write(c, key):
    """lookupKeyWrite + checkType: the string at `key` or None."""
    value = c.server.keyspace.get(key)
    if value is not None and not is_string(value):
        raise ReplyError(WRONGTYPE)
    return value


def unshare(keyspace, key, value) -> bytearray:
    """The value at `key`, made mutable in place (the same string, still at `key`)."""
    if type(value) is bytearray:
        return value
    mutable = bytearray(value)
    keyspace.slots[slot_of(key)][key] = mutable
    return mutable


def add_quietly(keyspace, key, value) -> None:
    """Add a key as Redis's bare dbAdd does when no change follows (BITFIELD creating a
    key whose every write failed): 'new' is notified, but nothing counts it as a change
    (no dirty count, no propagation, no WATCH or tracking signal)."""
    keyspace.load_key(key, value)
    notify_keyspace_event(keyspace, "n", b"new", key)


def string_to_bit(c, key, last_bit: int, add_key: bool = True):
    """Redis's lookupStringForBitCommand: (the string at `key` as a bytearray, created
    or zero-padded so that bit `last_bit` exists; whether it was created; whether an
    existing one grew). A created key is counted as one change already (keyspace.set),
    unless add_key is False: then the caller adds it (see add_quietly)."""
    keyspace = c.server.keyspace
    size = (last_bit >> 3) + 1
    value = string_for_write(c, key)
    if value is None:
        buffer = bytearray(size)
        if add_key:
            keyspace.set(key, buffer)
        return buffer, True, False
    buffer = unshare(keyspace, key, value)
    if len(buffer) < size:
        buffer.extend(bytes(size - len(buffer)))
        return buffer, False, True
    return buffer, False, False
