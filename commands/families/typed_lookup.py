"""Redis's lookupKeyRead/lookupKeyWrite + checkType, made once for each value type.

`typed_lookups(cls)` returns the pair every collection family needs:

* `read(c, key)`: the value at `key` or None, counting a keyspace hit or miss;
* `write(ks, key)`: the value at `key` or None, without counting (lookupKeyWrite);

both raise WRONGTYPE when the key holds a value of another type. The two are closures
over `cls` rather than one function taking the type, so the hot paths (HSET, SADD,
LPUSH, ZADD...) pay no extra call. Strings accept two classes (bytes and bytearray) and
keep their own check in strings.py, on GET's hot path.
"""
from commands.data.keyspace import WRONGTYPE
from commands.server.resp import ReplyError


def typed_lookups(cls):
    def read(c, key):
        value = c.server.keyspace.lookup_read(key)
        if value is not None and type(value) is not cls:
            raise ReplyError(WRONGTYPE)
        return value

    def write(ks, key):
        value = ks.get(key)
        if value is not None and type(value) is not cls:
            raise ReplyError(WRONGTYPE)
        return value

    read.__doc__ = "lookupKeyRead + checkType: the %s at `key` or None." % cls.__name__
    write.__doc__ = "lookupKeyWrite + checkType: the %s at `key` or None." % cls.__name__
    return read, write
