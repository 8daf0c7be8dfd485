"""PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST: Redis's HyperLogLog commands.

The value is an ordinary string holding Redis's HLL bytes (commands/data/hyperloglog.py),
so GET, DUMP/RESTORE, replication and the RDB carry it unchanged, and an HLL made by
redis-server counts the same here.

What each command changes, as Redis counts it (the dirty count decides propagation):
PFADD one per register raised (and one for creating the key); PFCOUNT of one key, when
its cached count was stale, stores the new count in the header and so is a write that
replicas get, though the command is read-only; PFMERGE always one; PFDEBUG GETREG and
TODENSE one when they turn a sparse HLL dense.
"""
import random

from commands.data import hyperloglog as hll_codec
from commands.data.hyperloglog import Corrupted
from commands.data.keyspace import WRONGTYPE
from commands.data.notifications import notify_keyspace_event
from commands.families.encoded.string_values import is_string, unshare
from commands.server.resp import OK, ReplyError, Status
from commands.server.table import command, key_spec

NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
CORRUPTED = "INVALIDOBJ Corrupted HLL object detected"


def check_hll(value) -> None:
    """Redis's isHLLObjectOrReply for an existing value."""
    if not is_string(value):
        raise ReplyError(WRONGTYPE)
    if not hll_codec.is_hll(value):
        raise ReplyError(NOT_HLL)


def _registers(value):
    try:
        return hll_codec.registers_of(value)
    except Corrupted:
        raise ReplyError(CORRUPTED) from None


@command("pfadd", -2, "write denyoom fast", keys=(1, 1, 1), group="hyperloglog",
         since="2.8.9", complexity="O(1) to add every element.",
         summary="Adds the specified elements to the specified HyperLogLog.",
         key_specs=[key_spec(["RW", "insert"], 1)])
def pfadd(c, argv):
    ks = c.server.keyspace
    key = argv[1]
    value = ks.get(key)
    created = value is None
    if created:
        hll = hll_codec.new_hll()
        ks.set(key, hll)                   # counts the creation as one change
    else:
        check_hll(value)
        hll = unshare(ks, key, value)
    max_bytes = c.server.settings.hll_sparse_max_bytes
    updated = 0
    add = hll_codec.add
    try:
        for element in argv[2:]:
            updated += add(hll, element, max_bytes)
    except Corrupted:
        raise ReplyError(CORRUPTED) from None
    if created:
        ks.dirty += updated
    elif updated:
        ks.modified(key)
        ks.dirty += updated - 1
    else:
        return 0
    hll_codec.invalidate(hll)
    notify_keyspace_event(ks, "$", b"pfadd", key)
    return 1


@command("pfcount", -2, "readonly may-replicate", keys=(1, -1, 1), group="hyperloglog",
         since="2.8.9",
         complexity="O(1) with a very small average constant time when called with a "
                    "single key. O(N) with N being the number of keys, and much bigger "
                    "constant times, when called with multiple keys.",
         summary="Return the approximated cardinality of the set(s) observed by the "
                 "HyperLogLog at key(s).",
         key_specs=[key_spec(["RW", "access"], 1, -1,
                             notes="RW because it may change the internal representation "
                                   "of the key, and propagate to replicas")])
def pfcount(c, argv):
    ks = c.server.keyspace
    if len(argv) > 2:
        # The count of the union: the registers' maxima, not stored anywhere.
        maxima = bytearray(hll_codec.REGISTERS)
        for key in argv[1:]:
            value = ks.lookup_read(key)
            if value is None:
                continue
            check_hll(value)
            maxima = hll_codec.merge_into(maxima, _registers(value))
        return hll_codec.count_registers(maxima)
    key = argv[1]
    value = ks.lookup_read(key)
    if value is None:
        return 0
    check_hll(value)
    hll = unshare(ks, key, value)
    cardinality = hll_codec.cached_count(hll)
    if cardinality is not None:
        return cardinality
    try:
        cardinality = hll_codec.count(hll)
    except Corrupted:
        raise ReplyError(CORRUPTED) from None
    hll_codec.store_count(hll, cardinality)
    ks.modified(key)
    c.propagate_as = [argv]                # a read-only command that wrote the cache
    return cardinality


@command("pfmerge", -2, "write denyoom", keys=(1, -1, 1), group="hyperloglog",
         since="2.8.9", complexity="O(N) to merge N HyperLogLogs, but with high "
                                   "constant times.",
         summary="Merge N different HyperLogLogs into a single one.",
         key_specs=[key_spec(["RW", "access", "insert"], 1),
                    key_spec(["RO", "access"], 2, -1)])
def pfmerge(c, argv):
    ks = c.server.keyspace
    maxima = bytearray(hll_codec.REGISTERS)
    any_dense = False
    for key in argv[1:]:                   # the destination is merged too
        value = ks.lookup_read(key)
        if value is None:
            continue
        check_hll(value)
        any_dense = any_dense or value[4] == hll_codec.DENSE
        maxima = hll_codec.merge_into(maxima, _registers(value))
    dest = argv[1]
    value = ks.get(dest)
    if value is None:
        hll = hll_codec.new_hll()
        ks.set(dest, hll)
    else:
        hll = unshare(ks, dest, value)
        ks.modified(dest)
    if any_dense:
        hll_codec.to_dense(hll)
    _raise_to(hll, maxima, c.server.settings.hll_sparse_max_bytes)
    hll_codec.invalidate(hll)
    # Redis calls a merge a mass PFADD.
    notify_keyspace_event(ks, "$", b"pfadd", dest)
    return OK


def _raise_to(hll, maxima, max_bytes) -> None:
    """Raise every register of `hll` to the maxima (which are at least its own values),
    with Redis's sparse steps while it stays sparse."""
    if hll[4] == hll_codec.SPARSE:
        for index in range(hll_codec.REGISTERS):
            if maxima[index]:
                hll_codec.sparse_raise(hll, index, maxima[index], max_bytes)
                if hll[4] == hll_codec.DENSE:
                    break
        else:
            return
    hll[hll_codec.HEADER_SIZE:] = hll_codec.pack(maxima)


@command("pfdebug", 3, "write denyoom admin", keys=(2, 2, 1), group="hyperloglog",
         since="2.8.9", complexity="N/A",
         summary="Internal commands for debugging HyperLogLog values",
         key_specs=[key_spec(["RW", "access"], 2)])
def pfdebug(c, argv):
    ks = c.server.keyspace
    sub, key = argv[1], argv[2]
    value = ks.get(key)
    if value is None:
        raise ReplyError("ERR The specified key does not exist")
    check_hll(value)
    hll = unshare(ks, key, value)
    name = sub.lower()
    if name == b"getreg":
        _to_dense_counted(ks, hll)
        return list(hll_codec.dense_registers(hll))
    if name == b"decode":
        if hll[4] != hll_codec.SPARSE:
            raise ReplyError("ERR HLL encoding is not sparse")
        return _decode(hll)
    if name == b"encoding":
        return Status("dense" if hll[4] == hll_codec.DENSE else "sparse")
    if name == b"todense":
        return _to_dense_counted(ks, hll)
    raise ReplyError("ERR Unknown PFDEBUG subcommand '%s'" % sub.decode("utf-8", "replace"))


def _to_dense_counted(ks, hll) -> int:
    """Promote a sparse HLL: a change of the value (propagated), though not a
    modification a WATCH sees, as in Redis. 1 if it was sparse."""
    if hll[4] != hll_codec.SPARSE:
        return 0
    try:
        hll_codec.to_dense(hll)
    except Corrupted:
        raise ReplyError(CORRUPTED) from None
    ks.dirty += 1
    return 1


def _decode(hll) -> bytes:
    """PFDEBUG DECODE: the opcodes as text (z:run, Z:run, v:value,run)."""
    words = []
    pos, end = hll_codec.HEADER_SIZE, len(hll)
    while pos < end:
        op = hll[pos]
        if op & 0x80:
            words.append(b"v:%d,%d" % (((op >> 2) & 31) + 1, (op & 3) + 1))
            pos += 1
        elif op & 0x40:
            low = hll[pos + 1] if pos + 1 < end else 0
            words.append(b"Z:%d" % ((((op & 63) << 8) | low) + 1))
            pos += 2
        else:
            words.append(b"z:%d" % ((op & 63) + 1))
            pos += 1
    return b" ".join(words)


# ---------------------------------------------------------------- PFSELFTEST

SELFTEST_CYCLES = 10           # Redis: 1000 register round trips
SELFTEST_ELEMENTS = 10000      # Redis: 10^7 elements; too long to hold a Python node for


@command("pfselftest", 1, "admin", group="hyperloglog", since="2.8.9", complexity="N/A",
         summary="An internal command for testing HyperLogLog values")
def pfselftest(c, argv):
    """Redis's self-test, scaled to what pure Python does in well under a second (the
    node serves no one meanwhile): the same checks, fewer rounds (see the constants)."""
    rng = random.Random()
    dense = bytearray(hll_codec.DENSE_SIZE)
    # 1: registers keep their values and do not disturb their neighbours, through
    # both the one-register access and the whole-array packing.
    for cycle in range(SELFTEST_CYCLES):
        expected = bytes(rng.getrandbits(6) for _ in range(hll_codec.REGISTERS))
        if cycle % 2:
            dense[hll_codec.HEADER_SIZE:] = hll_codec.pack(expected)
        else:
            for index, register in enumerate(expected):
                hll_codec.dense_set(dense, index, register)
        got = hll_codec.dense_registers(dense)
        for index in range(hll_codec.REGISTERS):
            if got[index] != expected[index] or \
                    hll_codec.dense_get(dense, index) != expected[index]:
                raise ReplyError("ERR TESTFAILED Register %d should be %d but is %d"
                                 % (index, expected[index], got[index]))
    # 2: the estimate stays within a few standard errors, and sparse and dense agree.
    dense = bytearray(hll_codec.DENSE_SIZE)
    dense[4] = hll_codec.DENSE
    sparse = hll_codec.new_hll()
    max_bytes = c.server.settings.hll_sparse_max_bytes
    relative_error = 1.04 / hll_codec.REGISTERS ** 0.5
    seed = rng.getrandbits(64)
    checkpoint = 1
    for j in range(1, SELFTEST_ELEMENTS + 1):
        element = (j ^ seed).to_bytes(8, "little")
        index, count = hll_codec.register_and_count(element)
        hll_codec.dense_raise(dense, index, count)
        hll_codec.add(sparse, element, max_bytes)
        if j != checkpoint:
            continue
        if j < max_bytes / 2 and sparse[4] != hll_codec.SPARSE:
            raise ReplyError("ERR TESTFAILED sparse encoding not used")
        estimate = hll_codec.count(dense)
        if estimate != hll_codec.count(sparse):
            raise ReplyError("ERR TESTFAILED dense/sparse disagree")
        max_error = 1 if j == 10 else -(-relative_error * 6 * checkpoint // 1)
        if abs(checkpoint - estimate) > max_error:
            raise ReplyError("ERR TESTFAILED Too big error. card:%d abserr:%d"
                             % (checkpoint, abs(checkpoint - estimate)))
        checkpoint *= 10
    return OK
