"""Redis's rules for a (start, end) pair of inclusive indexes, as LRANGE, LTRIM and the
rank forms of ZRANGE/ZREMRANGEBYRANK read them: negative counts from the end, the start
is raised to 0, the end is cut to the last element, and an empty window is None."""


def clamp_range(start: int, end: int, size: int):
    """(start, end) inclusive inside range(size), or None when the window is empty."""
    if start < 0:
        start += size
    if end < 0:
        end += size
    if start < 0:
        start = 0
    if start > end or start >= size:
        return None
    if end >= size:
        end = size - 1
    return start, end
