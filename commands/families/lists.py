"""List commands: pushes, pops, ranges, LPOS, LMOVE, LMPOP and their blocking forms.

A list is a `ListValue`, a deque: O(1) at both ends like Redis's quicklist, and
C-speed scans for the O(n) commands (LREM, LPOS, LINSERT). Redis 7.0 reports every list
as "quicklist" (listpack lists came in 7.2), so OBJECT ENCODING does too.

An empty list is never stored: a command that takes the last element deletes the key.

Blocking commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP) first try exactly what their
non-blocking form does; only when every key is empty do they wait, through
commands/server/blocking.py, with a `serve(key)` closure that performs the pop when a writer
makes the key ready.
"""
from itertools import islice

from commands.data.index_range import clamp_range
from commands.data.list_type import ListValue
from commands.data.notifications import notify_keyspace_event
from commands.families.typed_lookup import typed_lookups
from commands.server.args import SYNTAX_ERROR, int_arg, positive_long_arg
from commands.server.blocking import block, can_block, parse_timeout, pop_first_or_block
from commands.server.numkeys import numkeys_finder, parse_mpop_tail, parse_numkeys
from commands.server.resp import NULL_ARRAY, OK, ReplyError
from commands.server.table import command, key_spec

# ---------------------------------------------------------------- helpers

read_list, write_list = typed_lookups(ListValue)


def push(ks, key, lst, elements, left: bool) -> int:
    """Push onto `lst` (None: create the list, with its 'new' event); publishes the
    lpush/rpush event. Returns the new length."""
    if lst is None:
        lst = ListValue()
        if left:
            lst.extendleft(elements)
        else:
            lst.extend(elements)
        ks.set(key, lst)
    else:
        if left:
            lst.extendleft(elements)
        else:
            lst.extend(elements)
        ks.modified(key)
    if ks.notify_flags:                   # LPUSH/RPUSH are hot: no call while off
        notify_keyspace_event(ks, "l", b"lpush" if left else b"rpush", key)
    return len(lst)


def elements_removed(ks, key, lst, event: bytes) -> None:
    """After elements left `lst`: an emptied list is deleted; Redis's event for the
    removal, then 'del' if the key went (listElementsRemoved)."""
    ks.modified_or_deleted(key, lst)
    if ks.notify_flags:                   # LPOP/RPOP are hot: no call while off
        notify_keyspace_event(ks, "l", event, key)
        if not lst:
            notify_keyspace_event(ks, "g", b"del", key)


def pop_many(ks, key, lst, left: bool, count: int) -> list:
    take = lst.popleft if left else lst.pop
    items = [take() for _ in range(min(count, len(lst)))]
    elements_removed(ks, key, lst, b"lpop" if left else b"rpop")
    return items


def pop_one(ks, key, lst, left: bool) -> bytes:
    item = lst.popleft() if left else lst.pop()
    elements_removed(ks, key, lst, b"lpop" if left else b"rpop")
    return item


def _where(arg: bytes) -> bool:
    """LEFT -> True, RIGHT -> False (case-insensitive); syntax error otherwise."""
    word = arg.lower()
    if word == b"left":
        return True
    if word == b"right":
        return False
    raise ReplyError(SYNTAX_ERROR)


# ---------------------------------------------------------------- pushes

def _push_command(c, argv, left: bool, only_existing: bool):
    ks = c.server.keyspace
    key = argv[1]
    lst = write_list(ks, key)
    if lst is None and only_existing:
        return 0
    return push(ks, key, lst, argv[2:], left)


@command("lpush", -3, "write denyoom fast", keys=(1, 1, 1), group="list",
         summary="Prepends one or more elements to a list. Creates the key if it doesn't "
                 "exist.", complexity="O(1) for each element added", since="1.0.0",
         key_specs=[key_spec(["RW", "insert"], 1)])
def lpush(c, argv):
    return _push_command(c, argv, left=True, only_existing=False)


@command("rpush", -3, "write denyoom fast", keys=(1, 1, 1), group="list",
         summary="Appends one or more elements to a list. Creates the key if it doesn't "
                 "exist.", complexity="O(1) for each element added", since="1.0.0",
         key_specs=[key_spec(["RW", "insert"], 1)])
def rpush(c, argv):
    return _push_command(c, argv, left=False, only_existing=False)


@command("lpushx", -3, "write denyoom fast", keys=(1, 1, 1), group="list",
         summary="Prepends one or more elements to a list only when the list exists.",
         complexity="O(1) for each element added", since="2.2.0",
         key_specs=[key_spec(["RW", "insert"], 1)])
def lpushx(c, argv):
    return _push_command(c, argv, left=True, only_existing=True)


@command("rpushx", -3, "write denyoom fast", keys=(1, 1, 1), group="list",
         summary="Appends an element to a list only when the list exists.",
         complexity="O(1) for each element added", since="2.2.0",
         key_specs=[key_spec(["RW", "insert"], 1)])
def rpushx(c, argv):
    return _push_command(c, argv, left=False, only_existing=True)


# ---------------------------------------------------------------- pops

def _pop_command(c, argv, left: bool):
    """LPOP/RPOP key [count]: without count a bulk (nil if none); with count an array
    (a null array if the key does not exist)."""
    if len(argv) > 3:
        raise ReplyError("ERR wrong number of arguments for '%s' command"
                         % argv[0].decode(errors="replace").lower())
    has_count = len(argv) == 3
    count = 0
    if has_count:
        count = positive_long_arg(argv[2])
    ks = c.server.keyspace
    lst = write_list(ks, argv[1])
    if lst is None:
        return NULL_ARRAY if has_count else None
    if not has_count:
        return pop_one(ks, argv[1], lst, left)
    if count == 0:
        return []
    return pop_many(ks, argv[1], lst, left, count)


@command("lpop", -2, "write fast", keys=(1, 1, 1), group="list",
         summary="Returns the first elements in a list after removing it. Deletes the list "
                 "if the last element was popped.",
         complexity="O(N) where N is the number of elements returned", since="1.0.0")
def lpop(c, argv):
    return _pop_command(c, argv, left=True)


@command("rpop", -2, "write fast", keys=(1, 1, 1), group="list",
         summary="Returns and removes the last elements of a list. Deletes the list if the "
                 "last element was popped.",
         complexity="O(N) where N is the number of elements returned", since="1.0.0")
def rpop(c, argv):
    return _pop_command(c, argv, left=False)


# ---------------------------------------------------------------- reads

@command("llen", 2, "readonly fast", keys=(1, 1, 1), group="list",
         summary="Returns the length of a list.", complexity="O(1)", since="1.0.0",
         key_specs=[key_spec(["RO"], 1)])
def llen(c, argv):
    lst = read_list(c, argv[1])
    return 0 if lst is None else len(lst)


def list_range(lst, start: int, end: int) -> list:
    """Elements start..end (inclusive, already clamped), walking from the nearer end."""
    size = len(lst)
    if start <= size - 1 - end:
        return list(islice(lst, start, end + 1))
    tail = list(islice(reversed(lst), size - 1 - end, size - start))
    tail.reverse()
    return tail


@command("lrange", 4, "readonly", keys=(1, 1, 1), group="list",
         summary="Returns a range of elements from a list.",
         complexity="O(S+N) where S is the distance of start offset from HEAD for small "
                    "lists, from nearest end (HEAD or TAIL) for large lists; and N is the "
                    "number of elements in the specified range.", since="1.0.0")
def lrange(c, argv):
    start, end = int_arg(argv[2]), int_arg(argv[3])
    lst = read_list(c, argv[1])
    if lst is None:
        return []
    bounds = clamp_range(start, end, len(lst))
    if bounds is None:
        return []
    return list_range(lst, *bounds)


@command("lindex", 3, "readonly", keys=(1, 1, 1), group="list",
         summary="Returns an element from a list by its index.",
         complexity="O(N) where N is the number of elements to traverse to get to the "
                    "element at index. This makes asking for the first or the last element "
                    "of the list O(1).", since="1.0.0")
def lindex(c, argv):
    lst = read_list(c, argv[1])          # the key before the index, as in Redis
    if lst is None:
        return None
    index = int_arg(argv[2])
    if index < 0:
        index += len(lst)
    if not 0 <= index < len(lst):
        return None
    return lst[index]


@command("lpos", -3, "readonly", keys=(1, 1, 1), group="list", since="6.0.6",
         summary="Returns the index of matching elements in a list.",
         complexity="O(N) where N is the number of elements in the list, for the average "
                    "case. When searching for the first (or last) element, it takes "
                    "constant time.")
def lpos(c, argv):
    element = argv[2]
    rank, count, maxlen = 1, -1, 0
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        if i + 1 >= len(argv) or opt not in (b"rank", b"count", b"maxlen"):
            raise ReplyError(SYNTAX_ERROR)
        value = int_arg(argv[i + 1])
        if opt == b"rank":
            if value == -(1 << 63):
                value = -1     # Redis negates it in C: it stays negative and every match
                #                counts, so it acts as -1
            if value == 0:
                raise ReplyError("ERR RANK can't be zero: use 1 to start from the first "
                                 "match, 2 from the second ... or use negative to start "
                                 "from the end of the list")
            rank = value
        elif opt == b"count":
            if value < 0:
                raise ReplyError("ERR COUNT can't be negative")
            count = value
        else:
            if value < 0:
                raise ReplyError("ERR MAXLEN can't be negative")
            maxlen = value
        i += 2
    lst = read_list(c, argv[1])
    if lst is None:
        return [] if count != -1 else None
    size = len(lst)
    forward = rank > 0
    skip = abs(rank) - 1
    wanted = 1 if count == -1 else count      # 0 = every match
    found = []
    seq = lst if forward else reversed(lst)
    for offset, item in enumerate(seq):
        if maxlen and offset >= maxlen:
            break
        if item == element:
            if skip:
                skip -= 1
                continue
            found.append(offset if forward else size - 1 - offset)
            if wanted and len(found) >= wanted:
                break
    if count != -1:
        return found
    return found[0] if found else None


# ---------------------------------------------------------------- in-place changes

@command("lset", 4, "write denyoom", keys=(1, 1, 1), group="list",
         summary="Sets the value of an element in a list by its index.",
         complexity="O(N) where N is the length of the list. Setting either the first or "
                    "the last element of the list is O(1).", since="1.0.0",
         key_specs=[key_spec(["RW", "update"], 1)])
def lset(c, argv):
    ks = c.server.keyspace
    lst = write_list(ks, argv[1])        # the key before the index, as in Redis
    if lst is None:
        raise ReplyError("ERR no such key")
    index = int_arg(argv[2])
    if index < 0:
        index += len(lst)
    if not 0 <= index < len(lst):
        raise ReplyError("ERR index out of range")
    lst[index] = argv[3]
    ks.modified(argv[1])
    notify_keyspace_event(ks, "l", b"lset", argv[1])
    return OK


@command("lrem", 4, "write", keys=(1, 1, 1), group="list",
         summary="Removes elements from a list. Deletes the list if the last element was "
                 "removed.",
         complexity="O(N+M) where N is the length of the list and M is the number of "
                    "elements removed.", since="1.0.0",
         key_specs=[key_spec(["RW", "delete"], 1)])
def lrem(c, argv):
    count = int_arg(argv[2])
    element = argv[3]
    ks = c.server.keyspace
    lst = write_list(ks, argv[1])
    if lst is None:
        return 0
    limit = abs(count)
    removed = 0
    kept = []
    seq = reversed(lst) if count < 0 else lst
    for item in seq:
        if item == element and (not limit or removed < limit):
            removed += 1
        else:
            kept.append(item)
    if removed:
        if count < 0:
            kept.reverse()
        lst.clear()
        lst.extend(kept)
        elements_removed(ks, argv[1], lst, b"lrem")
    return removed


@command("ltrim", 4, "write", keys=(1, 1, 1), group="list",
         summary="Removes elements from both ends a list. Deletes the list if all elements "
                 "were trimmed.",
         complexity="O(N) where N is the number of elements to be removed by the "
                    "operation.", since="1.0.0",
         key_specs=[key_spec(["RW", "delete"], 1)])
def ltrim(c, argv):
    start, end = int_arg(argv[2]), int_arg(argv[3])
    ks = c.server.keyspace
    lst = write_list(ks, argv[1])
    if lst is None:
        return OK
    bounds = clamp_range(start, end, len(lst))
    if bounds is None:
        lst.clear()
    else:
        first, last = bounds
        for _ in range(len(lst) - 1 - last):
            lst.pop()
        for _ in range(first):
            lst.popleft()
    elements_removed(ks, argv[1], lst, b"ltrim")     # even when nothing was trimmed
    return OK


@command("linsert", 5, "write denyoom", keys=(1, 1, 1), group="list",
         summary="Inserts an element before or after another element in a list.",
         complexity="O(N) where N is the number of elements to traverse before seeing the "
                    "value pivot. This means that inserting somewhere on the left end on "
                    "the list (head) can be considered O(1) and inserting somewhere on the "
                    "right end (tail) is O(N).", since="2.2.0",
         key_specs=[key_spec(["RW", "insert"], 1)])
def linsert(c, argv):
    where = argv[2].lower()
    if where not in (b"before", b"after"):
        raise ReplyError(SYNTAX_ERROR)
    ks = c.server.keyspace
    lst = write_list(ks, argv[1])
    if lst is None:
        return 0
    try:
        index = lst.index(argv[3])
    except ValueError:
        return -1
    lst.insert(index if where == b"before" else index + 1, argv[4])
    ks.modified(argv[1])
    notify_keyspace_event(ks, "l", b"linsert", argv[1])
    return len(lst)


# ---------------------------------------------------------------- moves

def move_element(ks, src, lst, dst, left_from: bool, left_to: bool):
    """Pop from `lst` (at src) and push to dst; WRONGTYPE (nothing popped) if dst is not a
    list. For src == dst the element is rotated. Events in Redis's order: the push to
    dst (after its 'new'), then the pop from src (and its 'del' if emptied)."""
    target = write_list(ks, dst)
    item = lst.popleft() if left_from else lst.pop()
    pop_event = b"lpop" if left_from else b"rpop"
    if dst == src:
        target = lst
    if target is lst:
        if left_to:
            lst.appendleft(item)
        else:
            lst.append(item)
        ks.modified(src)
        notify_keyspace_event(ks, "l", b"lpush" if left_to else b"rpush", dst)
        notify_keyspace_event(ks, "l", pop_event, src)
        return item
    ks.modified_or_deleted(src, lst)
    push(ks, dst, target, (item,), left_to)
    notify_keyspace_event(ks, "l", pop_event, src)
    if not lst:
        notify_keyspace_event(ks, "g", b"del", src)
    return item


def _lmove(c, src, dst, left_from, left_to):
    ks = c.server.keyspace
    lst = write_list(ks, src)
    if lst is None:
        return None
    return move_element(ks, src, lst, dst, left_from, left_to)


@command("lmove", 5, "write denyoom", keys=(1, 2, 1), group="list", since="6.2.0",
         summary="Returns an element after popping it from one list and pushing it to "
                 "another. Deletes the list if the last element was moved.",
         complexity="O(1)",
         key_specs=[key_spec(["RW", "access", "delete"], 1),
                    key_spec(["RW", "insert"], 2)])
def lmove(c, argv):
    left_from, left_to = _where(argv[3]), _where(argv[4])
    return _lmove(c, argv[1], argv[2], left_from, left_to)


@command("rpoplpush", 3, "write denyoom", keys=(1, 2, 1), group="list", since="1.2.0",
         summary="Returns the last element of a list after removing and pushing it to "
                 "another list. Deletes the list if the last element was popped.",
         complexity="O(1)",
         key_specs=[key_spec(["RW", "access", "delete"], 1),
                    key_spec(["RW", "insert"], 2)])
def rpoplpush(c, argv):
    return _lmove(c, argv[1], argv[2], False, True)


def _blocking_move(c, src, dst, left_from, left_to, timeout):
    ks = c.server.keyspace
    lst = write_list(ks, src)
    if lst is not None:
        return move_element(ks, src, lst, dst, left_from, left_to)
    if not can_block(c):
        return None

    def serve(key):
        current = ks.get(key)
        if type(current) is not ListValue or not current:
            return None
        try:
            return move_element(ks, key, current, dst, left_from, left_to)
        except ReplyError as exc:
            return exc                 # WRONGTYPE destination: the waiter gets the error
    # A timeout answers a null ARRAY, as for every blocked list command in Redis 7.0
    # (replyToBlockedClientTimedOut), though the command's own empty reply is a null bulk.
    return block(c, [src], timeout, serve, NULL_ARRAY)


@command("blmove", 6, "write denyoom noscript blocking", keys=(1, 2, 1), group="list",
         since="6.2.0", complexity="O(1)",
         summary="Pops an element from a list, pushes it to another list and returns it. "
                 "Blocks until an element is available otherwise. Deletes the list if the "
                 "last element was moved.",
         key_specs=[key_spec(["RW", "access", "delete"], 1),
                    key_spec(["RW", "insert"], 2)])
def blmove(c, argv):
    left_from, left_to = _where(argv[3]), _where(argv[4])
    timeout = parse_timeout(argv[5])
    return _blocking_move(c, argv[1], argv[2], left_from, left_to, timeout)


@command("brpoplpush", 4, "write denyoom noscript blocking", keys=(1, 2, 1), group="list",
         since="2.2.0", complexity="O(1)",
         summary="Pops an element from a list, pushes it to another list and returns it. "
                 "Block until an element is available otherwise. Deletes the list if the "
                 "last element was popped.",
         key_specs=[key_spec(["RW", "access", "delete"], 1),
                    key_spec(["RW", "insert"], 2)])
def brpoplpush(c, argv):
    timeout = parse_timeout(argv[3])
    return _blocking_move(c, argv[1], argv[2], False, True, timeout)


# ---------------------------------------------------------------- BLPOP / BRPOP

def _blocking_pop(c, argv, left: bool):
    timeout = parse_timeout(argv[-1])
    ks = c.server.keyspace
    return pop_first_or_block(c, argv[1:-1], write_list, ListValue,
                              lambda key, lst: [key, pop_one(ks, key, lst, left)], timeout)


@command("blpop", -3, "write noscript blocking", keys=(1, -2, 1), group="list",
         since="2.0.0", complexity="O(N) where N is the number of provided keys.",
         summary="Removes and returns the first element in a list. Blocks until an element "
                 "is available otherwise. Deletes the list if the last element was popped.")
def blpop(c, argv):
    return _blocking_pop(c, argv, left=True)


@command("brpop", -3, "write noscript blocking", keys=(1, -2, 1), group="list",
         since="2.0.0", complexity="O(N) where N is the number of provided keys.",
         summary="Removes and returns the last element in a list. Blocks until an element "
                 "is available otherwise. Deletes the list if the last element was popped.")
def brpop(c, argv):
    return _blocking_pop(c, argv, left=False)


# ---------------------------------------------------------------- LMPOP / BLMPOP

def _lmpop(c, argv, numkeys_index: int, timeout):
    n = parse_numkeys(argv, numkeys_index)
    keys = argv[numkeys_index + 1:numkeys_index + 1 + n]
    left, count = parse_mpop_tail(argv, numkeys_index + 1 + n,
                                  {b"left": True, b"right": False})
    ks = c.server.keyspace
    return pop_first_or_block(c, keys, write_list, ListValue,
                              lambda key, lst: [key, pop_many(ks, key, lst, left, count)],
                              timeout)


@command("lmpop", -4, "write", keys=None, key_finder=numkeys_finder(1), group="list",
         since="7.0.0",
         complexity="O(N+M) where N is the number of provided keys and M is the number of "
                    "elements returned.",
         summary="Returns multiple elements from a list after removing them. Deletes the "
                 "list if the last element was popped.")
def lmpop(c, argv):
    return _lmpop(c, argv, 1, None)


@command("blmpop", -5, "write blocking", keys=None, key_finder=numkeys_finder(2),
         group="list", since="7.0.0",
         complexity="O(N+M) where N is the number of provided keys and M is the number of "
                    "elements returned.",
         summary="Pops the first element from one of multiple lists. Blocks until an "
                 "element is available otherwise. Deletes the list if the last element was "
                 "popped.")
def blmpop(c, argv):
    timeout = parse_timeout(argv[1])
    return _lmpop(c, argv, 2, timeout)
