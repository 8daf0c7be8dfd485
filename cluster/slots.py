"""Hash slots: key -> slot, and conversions between slot sets and range lists.

Redis Cluster maps every key to one of 16384 slots with CRC16 (the XMODEM
variant, which is exactly what ``binascii.crc_hqx`` with a zero seed computes)
of the key or of its ``{hash tag}``.
"""

from __future__ import annotations

from binascii import crc_hqx
from bisect import bisect_right
from typing import Iterable, Iterator

from cluster.errors import ClusterError

CLUSTER_SLOTS = 16384
# One int object per slot number, for the per-node slot sets to share: a simulated
# cluster of 1000 nodes holds 16 million slot entries, and ints above 256 are otherwise
# a new 32-byte object each.
SLOT_NUMBERS = tuple(range(CLUSTER_SLOTS))
_SLOT_MASK = CLUSTER_SLOTS - 1

SlotRange = tuple[int, int]  # inclusive (start, end), like "0-5460" in CLUSTER NODES


def key_hash_slot(key: bytes) -> int:
    """Return the slot of ``key`` following Redis's hash tag rule.

    Only the bytes between the first ``{`` and the first ``}`` after it are
    hashed, and only when there is at least one byte between them; otherwise
    the whole key is hashed (so ``foo{}{bar}`` hashes the whole key).
    """
    # This is the only CRC16 of the node (commands/ routes every keyed command
    # through it), so it is written for speed: `123 in key` (an int: "{") is a
    # memchr, about 8x cheaper in CPython than `b"{" in key` or key.find; two
    # partition() calls cost ~260 ns against ~450 for index() + find(key, start),
    # whose argument parsing is slow (hash-tagged keys are the rule in transactions).
    if 123 in key:
        tag, closed, _ = key.partition(b"{")[2].partition(b"}")
        if tag and closed:
            key = tag
    return crc_hqx(key, 0) & _SLOT_MASK


def parse_slot(value: bytes | str | int) -> int:
    """Parse a slot argument the way Redis's ``getSlotOrReply`` does."""
    try:
        slot = int(value)
    except (TypeError, ValueError):
        raise ClusterError("Invalid or out of range slot") from None
    if isinstance(value, (bytes, str)) and not _is_plain_integer(value):
        raise ClusterError("Invalid or out of range slot")
    if not 0 <= slot < CLUSTER_SLOTS:
        raise ClusterError("Invalid or out of range slot")
    return slot


def _is_plain_integer(value: bytes | str) -> bool:
    # int() accepts " 12", "1_2" and "+12"; Redis's string2ll does not. (bytes.isdigit
    # is true for ASCII digits only: a SETSLOT's slot is checked without decoding it.)
    if isinstance(value, bytes):
        digits = value[1:] if value[:1] == b"-" else value
        return digits.isdigit() and (digits == b"0" or digits[:1] != b"0")
    digits = value[1:] if value.startswith("-") else value
    return digits.isdigit() and digits.isascii() and (digits == "0" or not digits.startswith("0"))


def slots_to_ranges(slots: Iterable[int]) -> list[SlotRange]:
    """Collapse slots (any order, duplicates allowed) into sorted inclusive ranges.

    nodes.conf and every heartbeat header need a node's ranges again after each slot it
    gains or loses, and a reshard changes a slot every few ms, so this is kept cheap for
    the usual case of a few long runs: in the sorted list, ``slot - index`` is the same
    along a run and grows at each gap, so the end of each run is found by bisection
    (O(runs * log n) after a C sort, instead of a Python step per slot). A fragmented
    set falls back to the plain walk once it has shown many runs."""
    ordered = sorted(slots if isinstance(slots, (set, frozenset)) else set(slots))
    n = len(ordered)
    indexes = range(n)
    ranges: list[SlotRange] = []
    i = 0
    while i < n and len(ranges) < _BISECT_RUNS:
        run_key = ordered[i] - i
        j = bisect_right(indexes, run_key, i, n, key=lambda k: ordered[k] - k)
        ranges.append((ordered[i], ordered[j - 1]))
        i = j
    if i < n:                          # many short runs: one step per slot is cheaper
        start = prev = ordered[i]
        for slot in ordered[i + 1:]:
            if slot != prev + 1:
                ranges.append((start, prev))
                start = slot
            prev = slot
        ranges.append((start, prev))
    return ranges


_BISECT_RUNS = 16


def ranges_plus_slot(ranges: list[SlotRange], slot: int) -> list[SlotRange]:
    """``ranges`` (sorted, disjoint, not adjacent) with ``slot`` added, as a new list."""
    i = bisect_right(ranges, (slot, CLUSTER_SLOTS))    # ranges[:i] start at or before slot
    before = ranges[i - 1] if i else None
    if before is not None and before[1] >= slot:
        return ranges                                     # already there
    after = ranges[i] if i < len(ranges) else None
    joins_before = before is not None and before[1] == slot - 1
    joins_after = after is not None and after[0] == slot + 1
    out = ranges.copy()
    if joins_before and joins_after:
        out[i - 1:i + 1] = [(before[0], after[1])]
    elif joins_before:
        out[i - 1] = (before[0], slot)
    elif joins_after:
        out[i] = (slot, after[1])
    else:
        out.insert(i, (slot, slot))
    return out


def ranges_minus_slot(ranges: list[SlotRange], slot: int) -> list[SlotRange]:
    """``ranges`` (sorted, disjoint) without ``slot``, as a new list."""
    i = bisect_right(ranges, (slot, CLUSTER_SLOTS)) - 1
    if i < 0 or ranges[i][1] < slot:
        return ranges                                     # not there
    start, end = ranges[i]
    pieces = []
    if start < slot:
        pieces.append((start, slot - 1))
    if slot < end:
        pieces.append((slot + 1, end))
    out = ranges.copy()
    out[i:i + 1] = pieces
    return out


def ranges_difference(ranges: list[SlotRange], minus: list[SlotRange]) -> list[int]:
    """The slots of ``ranges`` that are not in ``minus`` (both sorted and disjoint), in
    time proportional to the number of ranges and of slots returned."""
    out: list[int] = []
    j, count = 0, len(minus)
    for start, end in ranges:
        while j < count and minus[j][1] < start:
            j += 1
        k = j
        while start <= end:
            if k == count or minus[k][0] > end:
                out.extend(range(start, end + 1))
                break
            cut_start, cut_end = minus[k]
            if cut_start > start:
                out.extend(range(start, cut_start))
            start = cut_end + 1
            k += 1
    return out


def are_sorted_ranges(ranges: list[SlotRange]) -> bool:
    """Sorted, disjoint, each start <= end: what a well-formed claim looks like."""
    return all(start <= end for start, end in ranges) and \
        all(a[1] < b[0] for a, b in zip(ranges, ranges[1:]))


def ranges_to_slots(ranges: Iterable[SlotRange]) -> Iterator[int]:
    """Expand inclusive ranges into slots."""
    for start, end in ranges:
        yield from range(start, end + 1)


def count_slots(ranges: Iterable[SlotRange]) -> int:
    return sum(end - start + 1 for start, end in ranges)


def format_ranges(ranges: Iterable[SlotRange]) -> list[str]:
    """Ranges as CLUSTER NODES prints them: ``"5"`` for one slot, ``"0-5460"`` otherwise."""
    return [str(start) if start == end else f"{start}-{end}" for start, end in ranges]
