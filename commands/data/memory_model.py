"""How much memory Redis would use for a value: the model behind used_memory, MEMORY
USAGE and maxmemory.

A Python process has no counter like Redis's zmalloc_used_memory(), and its real
footprint (the interpreter, the objects' headers, the RSS) says little about the data: an
empty node has 40 MB of RSS. So the node *estimates* what Redis 7.0 would allocate for
the data set, with Redis's own recipe (object.c objectComputeSize): the 16-byte robj,
sds strings with their 1-9 byte headers, 24-byte dict entries (+16 of cluster-mode
metadata for the slot-to-keys list) and their 8-byte buckets, listpacks for small
hashes and sorted sets, intsets, quicklist nodes, skip-list nodes, every allocation
rounded up to jemalloc's size classes. Collections are estimated from a sample of their
elements, as Redis does: the average of the first `samples` elements times the length
(samples=0: every element).

Each value type registers its estimator here (value_types.register_type(memory=...));
this module imports no type, so the keyspace can use it.
"""
import sys
from itertools import islice

ROBJ = 16                  # sizeof(robj)
DICT = 56                  # sizeof(dict)
DICT_ENTRY = 24            # sizeof(dictEntry)
SLOT_TO_KEYS_META = 16     # cluster mode: each key's dictEntry carries two pointers
BUCKET = 8                 # one slot of a dict's table
DEFAULT_SAMPLES = 5        # OBJ_COMPUTE_SIZE_DEF_SAMPLES
EMBSTR_SIZE_LIMIT = 44
LISTPACK_HEADER = 7        # total bytes (4) + count (2) + end byte (1)
QUICKLIST = 40             # sizeof(quicklist)
QUICKLIST_NODE = 32        # sizeof(quicklistNode)
LIST_NODE_BYTES = 8192     # list-max-listpack-size -2: 8 kB listpacks
ZSET_HEADS = 16 + 32       # sizeof(zset) + sizeof(zskiplist)
ZSKIPLIST_HEADER = 640     # the 32-level header node, jemalloc-rounded
ZSKIPLIST_NODE = 48        # an average node (1.33 levels), rounded

# What one string key costs in the keyspace's running total, beyond the bytes of its
# name and value: the dictEntry with its cluster metadata (40 -> 48 allocated), the sds
# header and terminator of the name (2), the robj and sds header of an embstr value
# (20), and jemalloc's rounding of the name and the value (4 to 14 bytes together for
# small keys). The hot path cannot afford the exact rounding, so this is the middle:
# redis-server 7.0.15 measures 99 bytes a key (buckets aside) for `key:N` -> `xxx`
# (this gives 92) and 96 for DEBUG POPULATE's `key:N` -> `value:N` (this gives 102).
STRING_KEY_COST = 80
# A key's entry in the expires dict (24 -> 32 allocated); its bucket is counted apart.
EXPIRE_ENTRY = 32


def jemalloc_size(n: int) -> int:
    """The size class jemalloc serves a request of n bytes from (8, 16, 32, 48, ...,
    then four classes per doubling)."""
    if n <= 8:
        return 8
    if n <= 128:
        return (n + 15) & ~15
    group = 1 << (n - 1).bit_length() - 3      # a quarter of the power of two below
    return (n + group - 1) // group * group


def sds_alloc(length: int) -> int:
    """sdsZmallocSize of an sds string of `length` bytes (header, bytes, terminator)."""
    header = 1 if length < 32 else 3 if length < 256 else 5 if length < 65536 else 9
    return jemalloc_size(header + length + 1)


def dict_slots(used: int) -> int:
    """The table size of a dict holding `used` entries: the power of two at or above
    it (at least 4), as _dictExpandIfNeeded grows it."""
    if used == 0:
        return 0
    return max(4, 1 << (used - 1).bit_length())


def is_int_string(value) -> bool:
    """Would Redis keep this string as an integer (OBJ_ENCODING_INT)?"""
    n = len(value)
    if n == 0 or n > 20:
        return False
    first = value[0]
    if not (48 <= first <= 57 or first == 45):
        return False
    try:
        number = int(value)
    except ValueError:
        return False
    return -(1 << 63) <= number < (1 << 63) and b"%d" % number == value


def string_object_size(value) -> int:
    """objectComputeSize of a string: int, embstr or raw encoding."""
    n = len(value)
    if type(value) is bytes:
        if n <= 20 and is_int_string(value):
            return ROBJ
        if n <= EMBSTR_SIZE_LIMIT:
            return jemalloc_size(ROBJ + 3 + n + 1)
    return ROBJ + sds_alloc(n)


def listpack_entry_size(element) -> int:
    """The bytes one element takes in a listpack: an integer encoding for canonical
    integers, else length prefix + bytes + back-length."""
    n = len(element)
    if n <= 20 and n and is_int_string(element):
        v = int(element)
        return 2 if 0 <= v <= 127 else 3 if -4096 <= v < 4096 else \
            4 if -32768 <= v < 32768 else 5 if -8388608 <= v < 8388608 else \
            6 if -2147483648 <= v < 2147483648 else 10
    if n < 64:
        return n + 2
    if n < 4096:
        return n + 4
    return n + 7


def sample(iterable, samples: int):
    """The first `samples` items (0: all of them), as objectComputeSize walks them."""
    return list(iterable) if samples <= 0 else list(islice(iterable, samples))


def scaled(total: float, counted: int, length: int) -> int:
    """The sampled average times the whole length."""
    return int(total / counted * length) if counted else 0


# ---------------------------------------------------------------- per-key figures

ESTIMATORS = {}            # python class -> fn(value, samples) -> bytes of the value


def value_size(value, samples: int = DEFAULT_SAMPLES) -> int:
    """objectComputeSize: the value's bytes (not its key's)."""
    kind = type(value)
    if kind is bytes or kind is bytearray:
        return string_object_size(value)
    estimator = ESTIMATORS.get(kind)
    if estimator is None:            # a type no Redis type mirrors (unit tests' stand-ins)
        return sys.getsizeof(value)
    return estimator(value, samples)


def key_usage(key: bytes, value, samples: int = DEFAULT_SAMPLES) -> int:
    """MEMORY USAGE: the value, the key's sds, its dictEntry and cluster metadata."""
    return value_size(value, samples) + sds_alloc(len(key)) + DICT_ENTRY + SLOT_TO_KEYS_META


def accounted_size(key: bytes, value) -> int:
    """What a key adds to the keyspace's running total (used_memory): for a string
    value the cheap formula of the hot path (see STRING_KEY_COST), else MEMORY USAGE
    with the default sample plus the allocation rounding of the entry."""
    if type(value) is bytes:
        return len(key) + len(value) + STRING_KEY_COST
    return key_usage(key, value) + 8
