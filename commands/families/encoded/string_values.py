"""The string lookups the bit and HyperLogLog commands share.

The typed lookups themselves (lookupKeyRead/Write + checkType) are strings.py's
`get_string` and `string_for_write`, shared with the string commands.

A string value is bytes (as it arrived) or a bytearray (changed in place: Redis's "raw"
encoding); see commands/families/strings.py. The commands here change strings in place,
so a write first makes the value a bytearray, as Redis's dbUnshareStringValue makes it
a private raw string: that is not a change of the value (no dirty count, no WATCH signal).
"""
from commands.data.notifications import notify_keyspace_event
from commands.families.strings import string_for_write


def is_string(value) -> bool:
    return type(value) is bytes or type(value) is bytearray


def unshare(keyspace, key, value) -> bytearray:
    """The value at `key`, made mutable in place (the same string, still at `key`)."""
    if type(value) is bytearray:
        return value
    mutable = bytearray(value)
    keyspace.replace_value(key, mutable)
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
    value = string_for_write(keyspace, key)
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
