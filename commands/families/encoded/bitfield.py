"""BITFIELD and BITFIELD_RO: a string as an array of signed and unsigned integer fields.

    BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment]
                 [OVERFLOW WRAP|SAT|FAIL] ...

Types are i1..i64 and u1..u63 (a u64 could not be returned as a RESP integer). An offset
`#N` means the N-th field of the type's width. OVERFLOW applies to the SET and INCRBY
after it; FAIL answers nil and writes nothing. As in Redis the whole command is parsed
before anything runs, so a bad argument anywhere means no operation is done, and the
string is grown once, to the farthest bit any SET or INCRBY writes.
"""
from commands.data.bits import (FAIL, SAT, UINT64, WRAP, as_signed, read_field, signed_result,
                                unsigned_result, write_field)
from commands.data.notifications import notify_keyspace_event
from commands.data.numbers import parse_int64
from commands.families.encoded.bitmaps import bit_offset_arg
from commands.families.encoded.string_values import add_quietly, string_to_bit
from commands.families.strings import get_string
from commands.server.args import SYNTAX_ERROR, int_arg
from commands.server.resp import ReplyError
from commands.server.table import command, key_spec

BAD_TYPE = ("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
            "supported but i64 is.")

GET, SET, INCRBY = 0, 1, 2
_OPS = {b"get": (GET, 2), b"set": (SET, 3), b"incrby": (INCRBY, 3)}
_OVERFLOWS = {b"wrap": WRAP, b"sat": SAT, b"fail": FAIL}


def _field_type(arg):
    """(signed, width) for 'i1'..'i64' / 'u1'..'u63' (the letter is case-sensitive)."""
    kind = arg[:1]
    width = parse_int64(arg[1:])
    if kind == b"i":
        if width is not None and 1 <= width <= 64:
            return True, width
    elif kind == b"u":
        if width is not None and 1 <= width <= 63:
            return False, width
    raise ReplyError(BAD_TYPE)


def _parse(c, argv):
    """The operations as (opcode, signed, width, offset, value, overflow) tuples."""
    ops = []
    overflow = WRAP
    i, argc = 2, len(argv)
    while i < argc:
        name = argv[i].lower()
        remaining = argc - i - 1
        if name == b"overflow" and remaining >= 1:
            overflow = _OVERFLOWS.get(argv[i + 1].lower())
            if overflow is None:
                raise ReplyError("ERR Invalid OVERFLOW type specified")
            i += 2
            continue
        opcode, needed = _OPS.get(name, (None, 0))
        if opcode is None or remaining < needed:
            raise ReplyError(SYNTAX_ERROR)
        signed, width = _field_type(argv[i + 1])
        offset = bit_offset_arg(c, argv[i + 2], width)
        value = 0 if opcode == GET else int_arg(argv[i + 3])
        ops.append((opcode, signed, width, offset, value, overflow))
        i += needed + 1
    return ops


def _run(c, argv, read_only: bool):
    ops = _parse(c, argv)
    writes = [op for op in ops if op[0] != GET]
    if not writes:
        value = get_string(c, argv[1])
        return [_get(value, op) for op in ops]
    if read_only:
        raise ReplyError("ERR BITFIELD_RO only supports the GET subcommand")
    last_bit = max(offset + width - 1 for _, _, width, offset, _, _ in writes)
    buffer, created, grew = string_to_bit(c, argv[1], last_bit, add_key=False)
    resized = created or grew
    replies = []
    changes = 0
    for op in ops:
        opcode, signed, width, offset, value, overflow = op
        if opcode == GET:
            replies.append(_get(buffer, op))
            continue
        old = read_field(buffer, offset, width)
        if signed:
            old = as_signed(old, width)
            wanted = old + value if opcode == INCRBY else value
            new, _ = signed_result(wanted, width, overflow)
        else:
            # SET stores the int64 as the uint64 C casts it to.
            wanted = old + value if opcode == INCRBY else value % UINT64
            new, _ = unsigned_result(wanted, width, overflow)
        if new is None:                   # OVERFLOW FAIL: nothing written
            replies.append(None)
            continue
        replies.append(new if opcode == INCRBY else old)
        write_field(buffer, offset, width, new)
        if resized or new != old:
            changes += 1
    _count_changes(c, argv[1], buffer, created, changes)
    return replies


def _count_changes(c, key, buffer, created: bool, changes: int) -> None:
    """Redis counts one change per field written with a new value (or into a string it
    created or grew); a key it created is not a change by itself (nor propagated)."""
    keyspace = c.server.keyspace
    if created and not changes:
        add_quietly(keyspace, key, buffer)
    elif created:
        keyspace.set(key, buffer)
        keyspace.dirty += changes - 1     # keyspace.set counted the creation as one
    elif changes:
        keyspace.modified(key)
        keyspace.dirty += changes - 1
    if changes:
        notify_keyspace_event(keyspace, "$", b"setbit", key)


def _get(value, op) -> int:
    _, signed, width, offset, _, _ = op
    field = read_field(value, offset, width) if value else 0
    return as_signed(field, width) if signed else field


def _key_flags(args):
    """Redis's bitfieldGetKeys, for COMMAND GETKEYSANDFLAGS: the key is read-only while
    only GETs (and OVERFLOWs) come before anything else."""
    read_only = True
    i, argc = 2, len(args)
    while i < argc:
        name, remaining = args[i].lower(), argc - i - 1
        if name == b"get" and remaining >= 2:
            i += 3
        elif name == b"overflow" and remaining >= 1:
            i += 2
        else:                     # SET/INCRBY, or a syntax error: assume a write
            read_only = False
            break
    return [(1, ["RO", "access"] if read_only else ["RW", "access", "update"])]


@command("bitfield", -2, "write denyoom", keys=(1, 1, 1), group="bitmap", since="3.2.0",
         complexity="O(1) for each subcommand specified",
         summary="Perform arbitrary bitfield integer operations on strings",
         key_specs=[key_spec(["RW", "access", "update", "variable_flags"], 1,
                             notes="This command allows both access and modification of "
                                   "the key")],
         key_flags_finder=_key_flags)
def bitfield(c, argv):
    return _run(c, argv, read_only=False)


@command("bitfield_ro", -2, "readonly fast", keys=(1, 1, 1), group="bitmap", since="6.0.0",
         complexity="O(1) for each subcommand specified",
         summary="Perform arbitrary bitfield integer operations on strings. Read-only "
                 "variant of BITFIELD")
def bitfield_ro(c, argv):
    return _run(c, argv, read_only=True)
