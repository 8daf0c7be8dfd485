"""String commands: GET SET and friends, with Redis 7 semantics and errors."""
from commands.keyspace import WRONGTYPE
from commands.resp import OK, ReplyError
from commands.table import command


def get_string(c, key):
    """The string at `key` (bytes/bytearray) or None; WRONGTYPE for another type."""
    value = c.server.keyspace.lookup_read(key)
    if value is not None and type(value) is not bytes and type(value) is not bytearray:
        raise ReplyError(WRONGTYPE)
    return value


@command("get", 2, "readonly fast", keys=(1, 1, 1), group="string",
         summary="Returns the string value of a key.")
def get(c, argv):
    value = get_string(c, argv[1])
    if type(value) is bytearray:
        return bytes(value)
    return value


@command("set", -3, "write denyoom", keys=(1, 1, 1), group="string",
         summary="Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.")
def set_(c, argv):
    if len(argv) == 3:
        c.server.keyspace.set(argv[1], argv[2])
        return OK
    raise ReplyError("ERR syntax error")
