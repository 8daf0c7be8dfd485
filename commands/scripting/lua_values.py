"""Values across the Lua boundary, both ways, with Redis 7.0's rules (script_lua.c).

Redis -> Lua: Redis runs the command on a fake client and parses the RESP it wrote; we do
the same (encode the reply in the script's protocol, then parse it), so every reply
type converts exactly as Redis's does whatever value model the handler used:

    integer -> number          bulk -> string          null bulk / null array -> false
    array -> table (1..n)       status -> {ok=s}        error -> {err="CODE msg"}
    RESP3 (redis.setresp(3)):   map -> {map={k=v}}      set -> {set={m=true}}
    null -> nil   bool -> true/false   double -> {double=n}   big number -> {big_number=s}
    verbatim -> {verbatim_string={format=f, string=s}}   attributes are skipped

Lua -> Redis (a script's return value):

    string -> bulk      number -> integer (truncated toward zero)
    true -> 1 (RESP3 script: #t)   false -> null (RESP3 script: #f)   nil -> null
    table: {err=s} -> error, {ok=s} -> status, {double=n}, {big_number=s},
    {verbatim_string=...}, {map=...}, {set=...}, else an array of t[1], t[2], ...
    up to the first nil.
"""
import math

from lupa import lua51

from commands.server.resp import Bool, Raw, ReplyError, SetReply, Status

LLONG_MIN = -(1 << 63)


def lua_number_to_integer(number) -> int:
    """(long long)lua_Number: truncation toward zero; what C makes of NaN and the
    infinities on x86-64 (the "integer indefinite" value)."""
    if isinstance(number, int):
        return number
    if math.isnan(number) or math.isinf(number) or abs(number) >= 2.0 ** 63:
        return LLONG_MIN
    return int(number)


# ---------------------------------------------------------------- RESP -> Lua

class RespToLua:
    """Parses one RESP reply (bytes) into Lua values built in `runtime`."""

    def __init__(self, runtime):
        self.new_table = runtime.table
        self.table_from = runtime.table_from

    def table(self, **fields):
        """A Lua table with string fields (keyword names as Lua strings: the runtime has
        no encoding, so the keys must be bytes)."""
        return self.table_from({name.encode(): value for name, value in fields.items()})

    def convert(self, data: bytes):
        value, _ = self._parse(data, 0)
        return value

    def error_table(self, message: str):
        """{err="CODE msg"} as luaPushErrorBuff builds it: a message without a code gets
        ERR, the trailing newline is trimmed."""
        return self.table(err=normalize_error(message).encode("utf-8", "surrogateescape"))

    def _line(self, data, pos):
        end = data.index(b"\r\n", pos)
        return data[pos + 1:end], end + 2

    def _parse(self, data: bytes, pos: int):
        kind = data[pos:pos + 1]
        line, pos = self._line(data, pos)
        if kind == b"$":
            n = int(line)
            if n < 0:
                return False, pos
            return data[pos:pos + n], pos + n + 2
        if kind == b":":
            return int(line), pos
        if kind == b"+":
            return self.table(ok=line), pos
        if kind == b"-":
            return self.error_table("-" + line.decode("utf-8", "surrogateescape")), pos
        if kind == b"*":
            n = int(line)
            if n < 0:
                return False, pos
            result = self.new_table()
            for i in range(n):
                result[i + 1], pos = self._parse(data, pos)
            return result, pos
        if kind == b"%":
            inner = self.new_table()
            for _ in range(int(line)):
                key, pos = self._parse(data, pos)
                inner[key], pos = self._parse(data, pos)
            return self.table(map=inner), pos
        if kind == b"~":
            inner = self.new_table()
            for _ in range(int(line)):
                member, pos = self._parse(data, pos)
                inner[member] = True
            return self.table(set=inner), pos
        if kind == b"_":
            return None, pos
        if kind == b"#":
            return line == b"t", pos
        if kind == b",":
            return self.table(double=float(line)), pos
        if kind == b"(":
            return self.table(big_number=line), pos
        if kind == b"=":
            n = int(line)
            body = data[pos:pos + n]
            return self.table(verbatim_string=self.table(format=body[:3], string=body[4:])), \
                pos + n + 2
        if kind == b"|":
            for _ in range(2 * int(line)):
                _, pos = self._parse(data, pos)
            return self._parse(data, pos)
        if kind == b">":     # a push inside a reply does not happen; read it as an array
            return self._parse(b"*" + data[pos - len(line) - 2:], 0)
        raise ValueError("unexpected RESP type %r" % kind)


def normalize_error(message: str) -> str:
    """luaPushErrorBuff: "-CODE msg" loses its dash, a message without one gets ERR."""
    if message.startswith("-"):
        code, space, rest = message[1:].partition(" ")
        message = "%s %s" % (code, rest) if space else "ERR " + code
    else:
        message = "ERR " + message
    return message.strip("\r\n")


# ---------------------------------------------------------------- Lua -> reply

class LuaToReply:
    """A script's return value as a reply value (commands/server/resp.py's model). Fields
    are read with rawget, as Redis reads them: a table's metatable is not asked."""

    def __init__(self, runtime):
        self._rawget = runtime.globals().rawget

    def field(self, table, key):
        if lua51.lua_type(table) != "table":
            return None
        return self._rawget(table, key)

    def convert(self, value, script_resp3: bool, caller_resp3: bool):
        if value is None:
            return None
        kind = type(value)
        if kind is bytes:
            return value
        if kind is bool:
            if script_resp3:
                return Bool(value)
            return 1 if value else None
        if kind is int or kind is float:
            return lua_number_to_integer(value)
        if lua51.lua_type(value) != "table":
            return None          # functions, userdata, threads: a null, as in Redis
        field = self.field
        if type(field(value, b"err")) is bytes:
            return ReplyError(self.error_text(value))
        ok = field(value, b"ok")
        if type(ok) is bytes:
            return Status(ok.decode("utf-8", "surrogateescape").replace("\r", " ")
                          .replace("\n", " "))
        double = field(value, b"double")
        if type(double) in (int, float):
            return float(double)
        big = field(value, b"big_number")
        if type(big) is bytes:
            big = big.replace(b"\r", b" ").replace(b"\n", b" ")
            if caller_resp3:
                return Raw(b"(%s\r\n" % big)
            return big
        verbatim = field(value, b"verbatim_string")
        if lua51.lua_type(verbatim) == "table":
            fmt = field(verbatim, b"format")
            text = field(verbatim, b"string")
            if type(fmt) is bytes and type(text) is bytes:
                if caller_resp3:
                    return Raw(b"=%d\r\n%s:%s\r\n" % (len(text) + 4, fmt[:3], text))
                return text
        mapping = field(value, b"map")
        if lua51.lua_type(mapping) == "table":
            return {_hashable(self.convert(k, script_resp3, caller_resp3)): self.convert(v, script_resp3, caller_resp3)
                    for k, v in mapping.items()}
        members = field(value, b"set")
        if lua51.lua_type(members) == "table":
            return SetReply(self.convert(k, script_resp3, caller_resp3) for k in members.keys())
        items = []
        index = 1
        while True:
            item = field(value, index)
            if item is None:
                return items
            items.append(self.convert(item, script_resp3, caller_resp3))
            index += 1

    def error_text(self, table) -> str:
        """The error reply of an {err=...} table: its message, then where the script
        failed when the error handler recorded it (" script: <name>, on <source>:<line>.")."""
        field = self.field
        message = field(table, b"err").decode("utf-8", "surrogateescape")
        source = field(table, b"source")
        line = field(table, b"line")
        name = field(table, b"script_name")
        if source is not None and line is not None and name is not None:
            message += " script: %s, on %s:%s." % (
                name.decode(), source.decode("utf-8", "replace"), lua_number_to_integer(line))
        return message


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key
