"""RESP codec, no sockets: the request parser and the reply encoder.

Requests are parsed by hiredis.Reader (a C parser, ~15x faster than pure Python) with two
additions hiredis lacks, because it is a *reply* parser:

* inline commands (``PING\\r\\n`` typed into telnet or nc) are split here, with Redis's
  quoting rules;
* limits: hiredis waits forever for a declared ``$999999999999`` bulk. While a command is
  incomplete we walk its headers ourselves (``_HeaderScanner``), so an oversized bulk or
  multibulk count is refused at once with Redis's error, and the bytes buffered for one
  command are capped by ``client-query-buffer-limit``.

Replies are Python values; ``encode`` turns them into RESP2 or RESP3 bytes. The value
model: bytes = bulk string, int = integer, None = null, list/tuple = array, Status = simple
string, ReplyError = error, float = double, dict = map, SetReply = set, Verbatim = verbatim
string, Bool = boolean, Push = push message, Raw = bytes already encoded.
"""
import math

import hiredis

PROTO_INLINE_MAX_SIZE = 64 * 1024  # Redis: longest inline request / header line
PROTO_MAX_MULTIBULK = 1024 * 1024 * 1024


class ProtocolError(Exception):
    """A malformed request: answer '-ERR Protocol error: <msg>' and close the client."""


class QueryBufferLimit(Exception):
    """One incomplete command grew past client-query-buffer-limit: close the client."""


# ---------------------------------------------------------------- reply value types

class Status(str):
    """A simple string reply (+OK)."""


class ReplyError(Exception):
    """An error reply. The message starts with its code: 'ERR ...', 'WRONGTYPE ...'."""

    @property
    def code(self) -> str:
        return self.args[0].split(" ", 1)[0]


class Bool(int):
    """A boolean: RESP3 #t/#f, RESP2 :1/:0."""


class SetReply(list):
    """A set: RESP3 '~', RESP2 array."""


class Verbatim(bytes):
    """Verbatim text: RESP3 '=N\\r\\ntxt:...', RESP2 bulk string."""


class Push(list):
    """An out-of-band message (pub/sub, MONITOR): RESP3 '>', RESP2 array."""


class Raw(bytes):
    """Bytes already encoded in RESP; written as they are."""


class NullArray:
    """The RESP2 null array '*-1' (RESP3 '_'), e.g. EXEC after a WATCHed key changed."""


NULL_ARRAY = NullArray()
OK = Raw(b"+OK\r\n")
QUEUED = Raw(b"+QUEUED\r\n")
PONG = Raw(b"+PONG\r\n")


# ---------------------------------------------------------------- request parsing

class RequestParser:
    """Turns a byte stream into commands (lists of bytes arguments).

    feed() one chunk, then call get() until it returns None. get() raises ProtocolError
    or QueryBufferLimit; after that the stream is unusable and the client is closed.
    """

    __slots__ = ("_reader", "_inline", "_scanner", "_max_bulk", "_max_query", "_pending",
                 "_head")

    def __init__(self, max_bulk_len=512 * 1024 * 1024, max_query_buffer=1024 * 1024 * 1024):
        self._reader = hiredis.Reader()
        self._inline = bytearray()   # bytes of an inline command, or all input while inline
        self._scanner = None         # walks the headers of an incomplete multibulk command
        self._max_bulk = max_bulk_len
        self._max_query = max_query_buffer
        self._pending = []           # commands parsed from the last chunk
        self._head = 0               # index in _pending of the next command get() returns

    def set_limits(self, max_bulk_len, max_query_buffer):
        self._max_bulk = max_bulk_len
        self._max_query = max_query_buffer

    def feed(self, data) -> None:
        if self._inline or (self._scanner is None and data[:1] != b"*"):
            self._feed_inline(data)
            return
        self._reader.feed(data)
        pending = self._pending
        first_new = len(pending)
        gets = self._reader.gets
        error = None
        try:
            cmd = gets()
            while cmd is not False:
                pending.append(cmd)
                cmd = gets()
        except hiredis.ProtocolError as exc:
            error = exc
        try:
            view = memoryview(data)
            start = self._start_of_unparsed(view, pending[first_new:])
            if error is not None:
                self._after_hiredis_error(data, start, error)
            elif self._reader.len() > self._max_query and (start is None or start < len(data)):
                raise QueryBufferLimit()
            elif start is not None and start < len(data):
                # A command begins here and is incomplete: walk its headers for the limits.
                self._scanner = _HeaderScanner(self._max_bulk)
                self._scanner.scan(view[start:])
        except (ProtocolError, QueryBufferLimit) as exc:
            # Reported by get() after the commands that came before it, as Redis does.
            pending.append(exc)

    def _start_of_unparsed(self, view, completed):
        """Offset in this read where the bytes hiredis has not returned as commands begin,
        or None when that is still inside a command that began in an earlier read.

        Tracking this costs a little arithmetic per command, but hiredis cannot tell us:
        it consumes a lone type byte, so its buffer can look empty mid-command.
        """
        start = 0
        scanner = self._scanner
        if scanner is not None:
            # The first command completed now (if any) began in an earlier read.
            scanner.scan(view)
            if not scanner.done:
                return None
            self._scanner = None
            start = scanner.consumed_in_last
            completed = completed[1:]
        for cmd in completed:
            if type(cmd) is list:
                try:
                    start += _encoded_size(cmd)
                except TypeError:
                    return None                 # a nested non-bulk: get() reports it
            elif cmd is None:
                start += 5                      # '*-1\r\n'
            else:
                return None                     # not a command: get() reports it
        return start

    def _after_hiredis_error(self, data, start, exc) -> None:
        # Redis accepts an inline command right after a multibulk one in the same read;
        # hiredis does not. If the byte hiredis choked on starts a new command and is not
        # '*', it is an inline command: parse the rest of the read as inline.
        if start is not None and data[start:start + 1] not in (b"*", b""):
            self._reader = hiredis.Reader()
            self._scanner = None
            self._feed_inline(bytes(data[start:]))
            return
        self._pending.append(ProtocolError(_hiredis_error_text(str(exc))))

    def get(self):
        """The next complete command (a list of bytes), or None when more input is needed."""
        pending = self._pending
        while self._head < len(pending):
            cmd = pending[self._head]
            self._head += 1
            if type(cmd) is list:
                for arg in cmd:
                    if type(arg) is not bytes:
                        raise ProtocolError("expected '$', got '%s'" % _type_byte(arg))
                if cmd:
                    return cmd
                continue                      # '*0': Redis silently ignores it
            if cmd is None:                   # '*-1'
                continue
            if isinstance(cmd, Exception):
                raise cmd
            raise ProtocolError("expected '*', got '%s'" % _type_byte(cmd))
        pending.clear()
        self._head = 0
        return None

    # -- incomplete multibulk: enforce the limits hiredis does not know about

    # -- inline commands

    def _feed_inline(self, data) -> None:
        buf = self._inline
        buf += data
        while buf:
            if buf[:1] == b"*":
                rest = bytes(buf)
                buf.clear()
                self.feed(rest)
                return
            nl = buf.find(b"\n")
            if nl == -1:
                if len(buf) > PROTO_INLINE_MAX_SIZE:
                    self._pending.append(ProtocolError("too big inline request"))
                return
            line = bytes(buf[:nl])
            del buf[:nl + 1]
            if line.endswith(b"\r"):
                line = line[:-1]
            try:
                args = split_args(line)
            except ValueError:
                self._pending.append(ProtocolError("unbalanced quotes in request"))
                return
            if args:
                self._pending.append(args)


class _HeaderScanner:
    """Walks the headers of one incomplete multibulk command, skipping payloads.

    It looks only at the bytes of the command hiredis is still waiting for, so the cost is
    one step per argument, paid only for commands that span reads.
    """

    __slots__ = ("max_bulk", "line", "args_left", "skip", "done", "consumed_in_last")

    def __init__(self, max_bulk):
        self.max_bulk = max_bulk
        self.line = bytearray()   # a header line split across reads
        self.args_left = -1       # -1: the '*N' header is not read yet
        self.skip = 0             # payload bytes (+ CRLF) still to skip
        self.done = False
        self.consumed_in_last = 0

    def scan(self, view) -> None:
        pos, end = 0, len(view)
        while pos < end and not self.done:
            if self.skip:
                step = min(self.skip, end - pos)
                self.skip -= step
                pos += step
                if not self.skip and self.args_left == 0:
                    self.done = True
                continue
            nl = bytes(view[pos:min(end, pos + PROTO_INLINE_MAX_SIZE + 2)]).find(b"\n")
            if nl == -1:
                self.line += view[pos:end]
                if len(self.line) > PROTO_INLINE_MAX_SIZE:
                    raise ProtocolError("too big %s count string"
                                        % ("mbulk" if self.args_left < 0 else "bulk"))
                pos = end
                break
            self.line += view[pos:pos + nl]
            pos += nl + 1
            self._header(bytes(self.line).rstrip(b"\r"))
            self.line.clear()
        self.consumed_in_last = pos

    def _header(self, line) -> None:
        if self.args_left < 0:
            if line[:1] != b"*":
                self.done = True        # not a multibulk: hiredis reports the error
                return
            count = _parse_int(line[1:])
            if count is None or count > PROTO_MAX_MULTIBULK:
                raise ProtocolError("invalid multibulk length")
            self.args_left = count
            if count <= 0:
                self.done = True
            return
        if line[:1] != b"$":
            raise ProtocolError("expected '$', got '%s'" % line[:1].decode("latin-1"))
        size = _parse_int(line[1:])
        if size is None or size < 0 or size > self.max_bulk:
            raise ProtocolError("invalid bulk length")
        self.args_left -= 1
        self.skip = size + 2


def _parse_int(text):
    try:
        return int(text)
    except ValueError:
        return None


def _encoded_size(cmd) -> int:
    """Bytes a command took on the wire as a multibulk (the canonical encoding).

    Runs for every command (see _start_of_unparsed), so the digit counts of the usual
    short lengths are spelled out instead of formatting each number."""
    count = len(cmd)
    size = (4 if count < 10 else 3 + len(str(count))) + 5 * count
    for arg in cmd:
        n = len(arg)
        size += n + (1 if n < 10 else 2 if n < 100 else len(str(n)))
    return size


def _type_byte(value) -> str:
    if isinstance(value, bool):
        return "#"
    if isinstance(value, int):
        return ":"
    if isinstance(value, float):
        return ","
    if isinstance(value, list):
        return "*"
    if isinstance(value, dict):
        return "%"
    if value is None:
        return "_"
    if isinstance(value, Exception):
        return "-"
    return "+"


def _hiredis_error_text(text: str) -> str:
    # hiredis: "Bulk string length out of range", "Multi-bulk length out of range", ...
    lowered = text.lower()
    if "multi-bulk" in lowered or "aggregate" in lowered:
        return "invalid multibulk length"
    if "bulk" in lowered:
        return "invalid bulk length"
    if "reply type byte" in lowered:
        return "expected '$', got '%s'" % text.rsplit('"', 2)[-2] if '"' in text else text
    return text


def split_args(line: bytes) -> list:
    """Split an inline command like Redis's sdssplitargs: spaces, "quotes" with \\x..
    escapes, 'single quotes'. Raises ValueError on unbalanced quotes."""
    args = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in b" \t\n\r\x0b\x0c\x00":
            i += 1
        if i >= n:
            return args
        current = bytearray()
        in_dq = in_sq = False
        while True:
            if in_dq:
                if i >= n:
                    raise ValueError("unbalanced quotes")
                c = line[i]
                if c == 0x5C and i + 3 < n and line[i + 1] == 0x78 and \
                        _is_hex(line[i + 2]) and _is_hex(line[i + 3]):
                    current.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif c == 0x5C and i + 1 < n:
                    i += 1
                    current.append({0x6E: 10, 0x72: 13, 0x74: 9, 0x62: 8, 0x61: 7}
                                   .get(line[i], line[i]))
                elif c == 0x22:
                    if i + 1 < n and line[i + 1] not in b" \t\n\r\x0b\x0c":
                        raise ValueError("closing quote must be followed by a space")
                    in_dq = False
                    i += 1
                    break
                else:
                    current.append(c)
            elif in_sq:
                if i >= n:
                    raise ValueError("unbalanced quotes")
                c = line[i]
                if c == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                    i += 1
                    current.append(0x27)
                elif c == 0x27:
                    if i + 1 < n and line[i + 1] not in b" \t\n\r\x0b\x0c":
                        raise ValueError("closing quote must be followed by a space")
                    in_sq = False
                    i += 1
                    break
                else:
                    current.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in b" \n\r\t\x00":
                    break
                if c == 0x22:
                    in_dq = True
                elif c == 0x27:
                    in_sq = True
                else:
                    current.append(c)
            i += 1
        args.append(bytes(current))


def _is_hex(c) -> bool:
    return c in b"0123456789abcdefABCDEF"


# ---------------------------------------------------------------- reply encoding

_INF = math.inf


def format_double(value: float) -> bytes:
    """A double as Redis prints it (%.17g, with inf/-inf/nan spelled Redis's way)."""
    if value != value:
        return b"nan"
    if value == _INF:
        return b"inf"
    if value == -_INF:
        return b"-inf"
    if value == int(value) and abs(value) < 1e17:
        return b"%d" % int(value)
    return (b"%.17g" % value)


def encode(value, out: list, resp3: bool) -> None:
    """Append the RESP encoding of `value` to `out` (a list of bytes, joined once)."""
    t = type(value)
    if t is bytes:
        out.append(b"$%d\r\n%s\r\n" % (len(value), value))
    elif t is Raw:
        out.append(value)
    elif t is int:
        out.append(b":%d\r\n" % value)
    elif value is None:
        out.append(b"_\r\n" if resp3 else b"$-1\r\n")
    elif t is list or t is tuple:
        out.append(b"*%d\r\n" % len(value))
        for item in value:
            encode(item, out, resp3)
    elif t is Status:
        out.append(b"+%s\r\n" % value.encode())
    elif isinstance(value, ReplyError):
        msg = value.args[0]
        if isinstance(msg, str):
            msg = msg.encode()
        out.append(b"-%s\r\n" % msg.replace(b"\r", b" ").replace(b"\n", b" "))
    elif t is float:
        text = format_double(value)
        if resp3:
            out.append(b",%s\r\n" % text)
        else:
            out.append(b"$%d\r\n%s\r\n" % (len(text), text))
    elif t is dict:
        if resp3:
            out.append(b"%%%d\r\n" % len(value))
        else:
            out.append(b"*%d\r\n" % (2 * len(value)))
        for key, item in value.items():
            encode(key, out, resp3)
            encode(item, out, resp3)
    elif t is Bool:
        if resp3:
            out.append(b"#t\r\n" if value else b"#f\r\n")
        else:
            out.append(b":1\r\n" if value else b":0\r\n")
    elif t is SetReply or t is Push:
        kind = (b"~" if t is SetReply else b">") if resp3 else b"*"
        out.append(b"%s%d\r\n" % (kind, len(value)))
        for item in value:
            encode(item, out, resp3)
    elif t is Verbatim:
        if resp3:
            out.append(b"=%d\r\ntxt:%s\r\n" % (len(value) + 4, value))
        else:
            out.append(b"$%d\r\n%s\r\n" % (len(value), value))
    elif t is NullArray:
        out.append(b"_\r\n" if resp3 else b"*-1\r\n")
    elif t is str:
        data = value.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    elif isinstance(value, int):   # bool or another int subclass
        out.append(b":%d\r\n" % int(value))
    else:
        raise TypeError("cannot encode %r as RESP" % (value,))


def encode_one(value, resp3: bool = False) -> bytes:
    out = []
    encode(value, out, resp3)
    return b"".join(out)
