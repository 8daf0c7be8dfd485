"""Command families whose values are plain strings with a structure inside:

    string_values.py   the lookups they share (a string or WRONGTYPE; unsharing)
    bitmaps.py         SETBIT GETBIT BITCOUNT BITPOS BITOP: a string as an array of bits
    bitfield.py        BITFIELD BITFIELD_RO: a string as an array of integer fields
    hyperloglog.py     PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST: Redis's HLL strings

The representations are pure functions in commands/data/ (bits.py, hyperloglog.py); the
modules here parse arguments, look keys up and answer with Redis's replies and errors.
"""
