"""The list value type: a deque, O(1) at both ends like Redis's quicklist, and C-speed
scans for the O(n) commands (LREM, LPOS, LINSERT). Redis 7.0 reports every list as
"quicklist" (listpack lists came in 7.2), so OBJECT ENCODING does too.
"""
import collections

from commands.data.memory_model import (LIST_NODE_BYTES, LISTPACK_HEADER, QUICKLIST,
                                        QUICKLIST_NODE, ROBJ, jemalloc_size,
                                        listpack_entry_size, sample, scaled)
from commands.data.value_types import register_type


class ListValue(collections.deque):
    """A Redis list."""
    __slots__ = ()


def _list_from_neutral(items):
    if any(type(item) is not bytes for item in items):
        raise ValueError("bad list payload")
    return ListValue(items)


def list_memory(items, samples: int) -> int:
    """objectComputeSize of a quicklist: its nodes, each a listpack of up to 8 kB (the
    default list-max-listpack-size -2), from the sampled elements' average size."""
    head = sample(items, samples)
    packed = scaled(sum(listpack_entry_size(x) for x in head), len(head), len(items))
    nodes = max(1, -(-packed // LIST_NODE_BYTES))
    per_node = jemalloc_size(LISTPACK_HEADER + packed // nodes)
    return ROBJ + QUICKLIST + nodes * (QUICKLIST_NODE + per_node)


# Redis 7.0 reports every list as a quicklist.
register_type(ListValue, "list", lambda value: "quicklist", ListValue, list, _list_from_neutral,
              memory=list_memory)
