"""The list value type: a deque, O(1) at both ends like Redis's quicklist, and C-speed
scans for the O(n) commands (LREM, LPOS, LINSERT). Redis 7.0 reports every list as
"quicklist" (listpack lists came in 7.2), so OBJECT ENCODING does too.
"""
import collections

from commands.data.value_types import register_type


class ListValue(collections.deque):
    """A Redis list."""
    __slots__ = ()


def _list_from_neutral(items):
    if any(type(item) is not bytes for item in items):
        raise ValueError("bad list payload")
    return ListValue(items)


# Redis 7.0 reports every list as a quicklist.
register_type(ListValue, "list", lambda value: "quicklist", ListValue, list, _list_from_neutral)
