"""Redis's pqsort: a partial quicksort (Bentley & McIlroy's "Engineering a Sort Function",
the BSD qsort) that only sorts the parts of the array overlapping the wanted ranks.

Redis uses it where a command returns the first N of many sorted results (GEORADIUS with
COUNT and without ANY). It is not stable: elements that compare equal end up in an order
that depends on the algorithm's exact pivot choices and swaps. To give the same order as
redis-server for equal distances, this is the same algorithm step for step, on list
indexes instead of byte pointers.

    partial_sort(items, cmp, lo, hi)  sorts `items` in place so that ranks lo..hi (both
                                      included) hold what a full sort would put there
"""


def _med3(v, a, b, c, cmp):
    if cmp(v[a], v[b]) < 0:
        if cmp(v[b], v[c]) < 0:
            return b
        return c if cmp(v[a], v[c]) < 0 else a
    if cmp(v[b], v[c]) > 0:
        return b
    return a if cmp(v[a], v[c]) < 0 else c


def _vecswap(v, a, b, n):
    for i in range(n):
        v[a + i], v[b + i] = v[b + i], v[a + i]


def _wanted(first, count, lo, hi) -> bool:
    """Does the slice [first, first + count) hold any of the ranks lo..hi?"""
    last = first + count - 1
    return not ((lo < first and hi < first) or (lo > last and hi > last))


def _pqsort(v, a, n, cmp, lo, hi):
    while True:
        if n < 7:                                   # insertion sort
            for pm in range(a + 1, a + n):
                pl = pm
                while pl > a and cmp(v[pl - 1], v[pl]) > 0:
                    v[pl], v[pl - 1] = v[pl - 1], v[pl]
                    pl -= 1
            return
        pm = a + n // 2
        if n > 7:
            pl = a
            pn = a + n - 1
            if n > 40:                              # Tukey's ninther
                d = n // 8
                pl = _med3(v, pl, pl + d, pl + 2 * d, cmp)
                pm = _med3(v, pm - d, pm, pm + d, cmp)
                pn = _med3(v, pn - 2 * d, pn - d, pn, cmp)
            pm = _med3(v, pl, pm, pn, cmp)
        v[a], v[pm] = v[pm], v[a]
        pa = pb = a + 1
        pc = pd = a + n - 1
        while True:                                 # three-way partition around v[a]
            while pb <= pc:
                result = cmp(v[pb], v[a])
                if result > 0:
                    break
                if result == 0:
                    v[pa], v[pb] = v[pb], v[pa]
                    pa += 1
                pb += 1
            while pb <= pc:
                result = cmp(v[pc], v[a])
                if result < 0:
                    break
                if result == 0:
                    v[pc], v[pd] = v[pd], v[pc]
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            v[pb], v[pc] = v[pc], v[pb]
            pb += 1
            pc -= 1
        pn = a + n
        r = min(pa - a, pb - pa)
        _vecswap(v, a, pb - r, r)
        r = min(pd - pc, pn - pd - 1)
        _vecswap(v, pb, pn - r, r)
        r = pb - pa
        if r > 1 and _wanted(a, r, lo, hi):
            _pqsort(v, a, r, cmp, lo, hi)
        r = pd - pc
        if r > 1:
            a = pn - r
            n = r
            if _wanted(a, n, lo, hi):
                continue
        return


def partial_sort(items: list, cmp, lo: int, hi: int) -> None:
    """Sort `items` in place enough that ranks lo..hi are right (Redis's pqsort)."""
    _pqsort(items, 0, len(items), cmp, lo, hi)
