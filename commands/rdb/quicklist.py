"""How Redis 7.0 cuts a list into quicklist nodes (quicklist.c), so that a list written
here is laid out as redis-server itself would lay it out after pushing the elements one
by one at the tail (which is what it does when it loads a list).

A quicklist is a doubly linked list of nodes; each node is either

* PACKED (container 2): a listpack of several elements, or
* PLAIN (container 1): a single element stored as-is, for elements of at least
  `packed_threshold` bytes (1 GB by default; settable in tests via
  DEBUG QUICKLIST-PACKED-THRESHOLD).

A new element joins the tail node when _quicklistNodeAllowInsert says so:

* never into a PLAIN node, never when the element itself is large;
* estimated size = node bytes + element length + 8 (SIZE_ESTIMATE_OVERHEAD);
* fill < 0 (list-max-listpack-size -1..-5): allowed while the estimate is
  <= 4, 8, 16, 32, 64 KB respectively;
* fill >= 0 (a count limit): allowed while the estimate is <= 8 KB
  (SIZE_SAFETY_LIMIT) and the node holds fewer than `fill` elements.

fill is clamped to -5..32767 as quicklistSetFill does.
"""
from commands.rdb import listpack

PLAIN = 1
PACKED = 2

DEFAULT_FILL = -2
DEFAULT_PACKED_THRESHOLD = 1 << 30
_MAX_PACKED_THRESHOLD = (1 << 32) - (1 << 20)
_OPTIMIZATION_LEVEL = (4096, 8192, 16384, 32768, 65536)
_SIZE_SAFETY_LIMIT = 8192
_SIZE_ESTIMATE_OVERHEAD = 8
_FILL_MAX = (1 << 15) - 1


def clamp_fill(fill: int) -> int:
    if fill > _FILL_MAX:
        return _FILL_MAX
    if fill < -5:
        return -5
    return fill


# The threshold in force, process-wide like quicklist.c's static `packed_threshold`:
# DEBUG QUICKLIST-PACKED-THRESHOLD changes it for every later save, DUMP and full sync
# (a forked child inherits it). Callers that pass packed_threshold=None use it.
_current_packed_threshold = DEFAULT_PACKED_THRESHOLD


# The fill in force (list-max-listpack-size), process-wide for the same reason: every save,
# DUMP, MIGRATE and full sync cuts a list into the nodes Redis's quicklist would have.
# Callers that pass fill=None use it.
_current_fill = DEFAULT_FILL


def set_fill(fill: int) -> None:
    global _current_fill
    _current_fill = clamp_fill(fill)


def set_packed_threshold(size: int) -> bool:
    """quicklistisSetPackedThreshold: False for sizes at or near 4 GB; 0 restores the
    default."""
    global _current_packed_threshold
    if size > _MAX_PACKED_THRESHOLD:
        return False
    _current_packed_threshold = size or DEFAULT_PACKED_THRESHOLD
    return True


def packed_threshold() -> int:
    return _current_packed_threshold


def split(elements, fill=None, packed_threshold=None):
    """The nodes of a list: a list of (container, blob), blob being a listpack for
    PACKED nodes and the element itself for PLAIN ones. fill and packed_threshold None:
    the ones in force (set_fill, set_packed_threshold)."""
    fill = _current_fill if fill is None else clamp_fill(fill)
    if packed_threshold is None:
        packed_threshold = _current_packed_threshold
    size_limit = _OPTIMIZATION_LEVEL[-fill - 1] if fill < 0 else None
    nodes = []
    entries = []            # encoded entries of the open (tail) packed node
    node_bytes = 0          # its listpack size
    if max(map(len, elements)) < packed_threshold:
        encoded = listpack.encode_entries(elements)
        # Fast path: if the whole list fits the limit even counted as one last insert,
        # every insert was allowed (each estimate is below this one): a single node.
        total = listpack.EMPTY_SIZE + sum(map(len, encoded))
        if total + _SIZE_ESTIMATE_OVERHEAD <= (size_limit if size_limit is not None else
                                               (_SIZE_SAFETY_LIMIT if len(encoded) <= fill
                                                else -1)):
            return [(PACKED, listpack.assemble(encoded, len(encoded)))]
    else:
        encoded = [None if len(e) >= packed_threshold else listpack.encode_entry(e)
                   for e in elements]
    for e, entry in zip(elements, encoded):
        n = len(e)
        if n >= packed_threshold:
            if entries:
                nodes.append((PACKED, listpack.assemble(entries, len(entries))))
                entries = []
            nodes.append((PLAIN, bytes(e)))
            continue
        if entries:
            estimate = node_bytes + n + _SIZE_ESTIMATE_OVERHEAD
            if size_limit is not None:
                allow = estimate <= size_limit
            else:
                allow = estimate <= _SIZE_SAFETY_LIMIT and len(entries) < fill
            if allow:
                entries.append(entry)
                node_bytes += len(entry)
                continue
            nodes.append((PACKED, listpack.assemble(entries, len(entries))))
        entries = [entry]
        node_bytes = listpack.EMPTY_SIZE + len(entry)
    if entries:
        nodes.append((PACKED, listpack.assemble(entries, len(entries))))
    return nodes
