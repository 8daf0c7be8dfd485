"""Helpers for the differential tests of collections (hashes, sets, lists, sorted sets):
tables of cases run in both protocols, comparing replies whose order Redis does not
define, RESP3 sessions, complete cursor scans and DUMP/RESTORE round trips."""
from contextlib import contextmanager


def in_one_slot(command, key_names):
    """`command` with the arguments named in `key_names` given the hash tag {t}, so that
    multi-key commands are legal in a cluster."""
    return tuple("{t}" + a if isinstance(a, str) and a in key_names else a for a in command)


def check_cases(diff, commands, key_names=(), protocols=(2, 3)):
    """From an empty keyspace, each command compared (diff.check) in each protocol."""
    for proto in protocols:
        diff.check("FLUSHALL")
        if proto == 3:
            diff.both("HELLO", "3")
        diff.check_all([in_one_slot(command, key_names) for command in commands])


def plain(reply):
    """A typed reply tree as plain values: bytes, ints, lists (maps as lists of pairs)."""
    kind, value = reply
    if kind in "*~>" and value is not None:
        return [plain(item) for item in value]
    if kind == "%":
        return [(plain(k), plain(v)) for k, v in value]
    return value


def _sorted(items):
    return sorted(items, key=repr)


def unordered(reply, paired=False):
    """A reply with its order removed: (type, sorted items); `paired` sorts a flat
    field/value array by pairs, so fields stay next to their values."""
    kind, value = reply
    if kind == "%":
        return kind, _sorted(value)
    if kind in "*~" and value is not None:
        if paired:
            return kind, _sorted(zip(value[::2], value[1::2]))
        return kind, _sorted(value)
    return reply


def check_unordered(diff, *args, paired=False):
    """Like diff.check, for replies Redis gives in no defined order."""
    ours, ref = diff.both(*args)
    assert unordered(ours, paired) == unordered(ref, paired), \
        "command %r:\n  ours:  %r\n  redis: %r" % (args, ours, ref)
    return ours


@contextmanager
def resp3(diff):
    """Both connections speak RESP3 inside the block."""
    for client in (diff.ours, diff.redis):
        assert client.call("HELLO", "3")[0] == "%"
    try:
        yield
    finally:
        for client in (diff.ours, diff.redis):
            client.call("HELLO", "2")


def full_scan(client, command, key, count=10, match=None, limit=100000):
    """Every item a complete HSCAN/SSCAN returns, as a flat list of bytes."""
    items = []
    cursor = b"0"
    for _ in range(limit):
        args = [command, key, cursor, "COUNT", str(count)]
        if match is not None:
            args += ["MATCH", match]
        reply = client.call(*args)
        assert reply[0] == "*", reply
        cursor, page = reply[1][0][1], plain(reply[1][1])
        items.extend(page)
        if cursor == b"0":
            return items
    raise AssertionError("scan did not finish in %d calls" % limit)


def pairs(flat):
    """A flat field/value list as a sorted list of (field, value)."""
    return sorted(zip(flat[::2], flat[1::2]))


def check_restored_copies(diff, keys, size_command):
    """Each server DUMPs each key and RESTOREs its own payload to key + "2"; the copies'
    encodings and sizes must agree."""
    for key in keys:
        for client in (diff.ours, diff.redis):
            kind, payload = client.call("DUMP", key)
            assert kind == "$" and payload
            assert client.call("RESTORE", key + "2", "0", payload) == ("+", "OK")
        diff.check("OBJECT", "ENCODING", key + "2")
        diff.check(size_command, key + "2")
