"""The numbers of the RDB format (Redis 7.0, RDB version 10), and their names.

A file is a 9-byte magic ("REDIS" + four-digit version), then a sequence of records,
each starting with one byte:

* 0..19 -- an object type: a key follows (an RDB string), then the value in the layout
  that type byte names (see rdb_encode / rdb_decode);
* 245..255 -- an opcode: auxiliary fields, function libraries, database selection,
  expire/LRU/LFU attributes of the *next* key, and EOF.

After EOF (version >= 5) come 8 bytes of CRC-64 (little-endian) over everything before
them, header included; 8 zero bytes mean "saved with rdbchecksum no".

Lengths are variable-size ("rdb lengths"), first byte's top two bits say which:

    00xxxxxx                  6-bit length
    01xxxxxx xxxxxxxx         14-bit length, big-endian
    10000000 <4 bytes>        32-bit length, big-endian
    10000001 <8 bytes>        64-bit length, big-endian
    11xxxxxx                  not a length: a specially encoded *string* follows,
                              xxxxxx = 0/1/2 for an 8/16/32-bit little-endian integer,
                              3 for an LZF-compressed string (RDB_ENC_LZF)
"""

RDB_VERSION = 10
REDIS_VERSION = "7.0.15"

# Length prefixes.
RDB_6BITLEN = 0
RDB_14BITLEN = 1
RDB_32BITLEN = 0x80
RDB_64BITLEN = 0x81
RDB_ENCVAL = 3

# Special string encodings (the low six bits after 11).
RDB_ENC_INT8 = 0
RDB_ENC_INT16 = 1
RDB_ENC_INT32 = 2
RDB_ENC_LZF = 3

# Object types.
RDB_TYPE_STRING = 0
RDB_TYPE_LIST = 1
RDB_TYPE_SET = 2
RDB_TYPE_ZSET = 3
RDB_TYPE_HASH = 4
RDB_TYPE_ZSET_2 = 5
RDB_TYPE_MODULE = 6
RDB_TYPE_MODULE_2 = 7
RDB_TYPE_HASH_ZIPMAP = 9
RDB_TYPE_LIST_ZIPLIST = 10
RDB_TYPE_SET_INTSET = 11
RDB_TYPE_ZSET_ZIPLIST = 12
RDB_TYPE_HASH_ZIPLIST = 13
RDB_TYPE_LIST_QUICKLIST = 14
RDB_TYPE_STREAM_LISTPACKS = 15
RDB_TYPE_HASH_LISTPACK = 16
RDB_TYPE_ZSET_LISTPACK = 17
RDB_TYPE_LIST_QUICKLIST_2 = 18
RDB_TYPE_STREAM_LISTPACKS_2 = 19

# Opcodes.
RDB_OPCODE_FUNCTION2 = 245
RDB_OPCODE_FUNCTION = 246          # 7.0-rc1/rc2 only
RDB_OPCODE_MODULE_AUX = 247
RDB_OPCODE_IDLE = 248
RDB_OPCODE_FREQ = 249
RDB_OPCODE_AUX = 250
RDB_OPCODE_RESIZEDB = 251
RDB_OPCODE_EXPIRETIME_MS = 252
RDB_OPCODE_EXPIRETIME = 253        # seconds; written before RDB v3
RDB_OPCODE_SELECTDB = 254
RDB_OPCODE_EOF = 255

# Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2 writes one before each node).
QUICKLIST_NODE_CONTAINER_PLAIN = 1
QUICKLIST_NODE_CONTAINER_PACKED = 2

# The value kind (what TYPE answers) of each type this codec reads.
KIND_OF_TYPE = {
    RDB_TYPE_STRING: "string",
    RDB_TYPE_LIST: "list",
    RDB_TYPE_SET: "set",
    RDB_TYPE_ZSET: "zset",
    RDB_TYPE_HASH: "hash",
    RDB_TYPE_ZSET_2: "zset",
    RDB_TYPE_HASH_ZIPMAP: "hash",
    RDB_TYPE_LIST_ZIPLIST: "list",
    RDB_TYPE_SET_INTSET: "set",
    RDB_TYPE_ZSET_ZIPLIST: "zset",
    RDB_TYPE_HASH_ZIPLIST: "hash",
    RDB_TYPE_LIST_QUICKLIST: "list",
    RDB_TYPE_HASH_LISTPACK: "hash",
    RDB_TYPE_ZSET_LISTPACK: "zset",
    RDB_TYPE_LIST_QUICKLIST_2: "list",
    RDB_TYPE_STREAM_LISTPACKS: "stream",
    RDB_TYPE_STREAM_LISTPACKS_2: "stream",
}

# Types that exist but that the project cannot hold yet; 20.. are from Redis 7.2+ (a
# 7.0 file never has them, a corrupt one might), named for a clearer error.
UNSUPPORTED_TYPES = {
    RDB_TYPE_MODULE: "module (pre-GA)",
    RDB_TYPE_MODULE_2: "module",
    20: "set listpack, Redis 7.2+",
    21: "stream, Redis 7.2+",
}

# Short names of the type bytes this codec reads (for events and messages).
TYPE_NAMES = {
    RDB_TYPE_STRING: "string", RDB_TYPE_LIST: "list", RDB_TYPE_SET: "set",
    RDB_TYPE_ZSET: "zset", RDB_TYPE_HASH: "hash", RDB_TYPE_ZSET_2: "zset-2",
    RDB_TYPE_HASH_ZIPMAP: "hash-zipmap", RDB_TYPE_LIST_ZIPLIST: "list-ziplist",
    RDB_TYPE_SET_INTSET: "set-intset", RDB_TYPE_ZSET_ZIPLIST: "zset-ziplist",
    RDB_TYPE_HASH_ZIPLIST: "hash-ziplist", RDB_TYPE_LIST_QUICKLIST: "list-quicklist",
    RDB_TYPE_HASH_LISTPACK: "hash-listpack", RDB_TYPE_ZSET_LISTPACK: "zset-listpack",
    RDB_TYPE_LIST_QUICKLIST_2: "list-quicklist-2",
    RDB_TYPE_STREAM_LISTPACKS: "stream-listpacks",
    RDB_TYPE_STREAM_LISTPACKS_2: "stream-listpacks-2",
}


def unsupported_type_message(rdb_type: int) -> str:
    name = UNSUPPORTED_TYPES.get(rdb_type)
    if name is not None:
        return "RDB type %d (%s) is not supported yet" % (rdb_type, name)
    return "Unknown RDB type %d" % rdb_type
