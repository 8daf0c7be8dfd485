"""Glob-style matching exactly like Redis's stringmatchlen (KEYS, SCAN MATCH, ...).

Python's fnmatch differs from Redis in the details that users hit: backslash escapes,
'[^...]' negation, reversed ranges ('[z-a]'), an unterminated '[' (which swallows the rest
of the pattern), and signed-char comparisons in ranges (byte 0xff sorts *below* 'a').

Every pattern token except '*' matches exactly one byte, and how Redis walks the pattern
never depends on the string. So we compile the pattern once into tokens -- STAR or a set
of acceptable bytes -- and match with the classic two-pointer algorithm (remember the
last '*', retry one byte further on failure). That is O(len(pattern) * len(key)) like
Redis's version with its skipLongerMatches cut, and it cannot recurse deeply.

One Redis quirk is kept on purpose: an empty string matches only an empty pattern (Redis's
loop never starts, so even "*" fails; KEYS and SCAN special-case the exact pattern "*").
"""
from functools import lru_cache

STAR = None
_ANY = frozenset(range(256))


def _signed(byte: int) -> int:
    """Redis compares pattern range ends as C `char`, which is signed on x86."""
    return byte - 256 if byte > 127 else byte


def _fold(byte: int) -> int:
    """C tolower() in the C locale: only A-Z change."""
    return byte + 32 if 0x41 <= byte <= 0x5A else byte


def _literal(byte: int, nocase: bool) -> frozenset:
    if nocase:
        return frozenset(b for b in range(256) if _fold(b) == _fold(byte))
    return frozenset((byte,))


def _compile_class(pattern: bytes, i: int, nocase: bool):
    """Parse a '[...]' class starting just after '['. Returns (set of bytes, next index).

    The branches and their order are Redis's: escape, ']', end of pattern, range, literal.
    """
    n = len(pattern)

    def at(k):                       # reading past the end sees the C string's NUL
        return pattern[k] if k < n else 0

    negate = at(i) == 0x5E          # '^'
    if negate:
        i += 1
    members = set()
    while True:
        left = n - i
        if at(i) == 0x5C and left >= 2:                  # '\x': x literally (even nocase)
            i += 1
            members.add(at(i))
        elif at(i) == 0x5D:                              # ']' ends the class
            break
        elif left <= 0:                                  # unterminated: ends with pattern
            i -= 1
            break
        elif left >= 3 and at(i + 1) == 0x2D:            # 'a-z' range, ends swapped if needed
            start, end = _signed(at(i)), _signed(at(i + 2))
            if start > end:
                start, end = end, start
            if nocase:
                start, end = _fold(start), _fold(end)
            for byte in range(256):
                c = _signed(_fold(byte) if nocase else byte)
                if start <= c <= end:
                    members.add(byte)
            i += 2
        else:
            members.update(_literal(at(i), nocase))
        i += 1
    chosen = frozenset(members)
    if negate:
        chosen = _ANY - chosen
    return chosen, i + 1


@lru_cache(maxsize=256)
def compile_pattern(pattern: bytes, nocase: bool = False) -> tuple:
    """The pattern as a tuple of tokens: STAR, or a frozenset of bytes matching one byte."""
    tokens = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x2A:                                    # '*' (runs collapse to one)
            if not tokens or tokens[-1] is not STAR:
                tokens.append(STAR)
            i += 1
        elif c == 0x3F:                                  # '?'
            tokens.append(_ANY)
            i += 1
        elif c == 0x5B:                                  # '['
            token, i = _compile_class(pattern, i + 1, nocase)
            tokens.append(token)
        else:
            if c == 0x5C and n - i >= 2:                 # '\x': x taken literally
                i += 1
                c = pattern[i]
            tokens.append(_literal(c, nocase))
            i += 1
    return tuple(tokens)


def match(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """Does `string` match the glob `pattern`, by Redis's rules?"""
    if not string:
        return not pattern
    tokens = compile_pattern(pattern, nocase)
    ntok, nstr = len(tokens), len(string)
    t = s = 0
    star_t, star_s = -1, 0
    while s < nstr:
        if t < ntok:
            token = tokens[t]
            if token is STAR:
                star_t, star_s = t, s
                t += 1
                continue
            if string[s] in token:
                t += 1
                s += 1
                continue
        if star_t < 0:
            return False
        # Let the last '*' absorb one more byte and retry from there.
        star_s += 1
        s = star_s
        t = star_t + 1
    while t < ntok and tokens[t] is STAR:
        t += 1
    return t == ntok


def matcher(pattern: bytes, nocase: bool = False):
    """A fast predicate for one pattern, for loops over many keys."""
    if b"*" not in pattern and b"?" not in pattern and b"[" not in pattern \
            and b"\\" not in pattern and not nocase:
        return pattern.__eq__                             # a literal: plain equality
    body = pattern[:-1]
    if pattern.endswith(b"*") and body and not any(ch in body for ch in b"*?[\\") \
            and not nocase:
        return lambda key: key.startswith(body)           # "prefix*"
    return lambda key: match(pattern, key, nocase)
