"""RESP codec, no sockets: the request parser and the reply encoder.

Requests are parsed by hiredis.Reader (a C parser, ~15x faster than pure Python), which is
a *reply* parser, so it only gets what it handles like Redis does:

* hiredis sees only multibulk requests (``*``). A request that starts with any other byte
  is an inline command (``PING\r\n`` typed into telnet or nc), split here with Redis's
  quoting rules, whatever follows it.
* hiredis allocates a slot per declared element the moment it reads ``*N``, and grows
  then copies every bulk. So it never sees a count or length of five digits or more: the
  read is handed to it only up to such a header, and the request holding the header is
  parsed in Python (commands/server/multibulk.py) with Redis's limits and errors.
* A request hiredis did not finish in one read, or rejected, is parsed again from its
  first byte in Python: hiredis never carries state from one read to the next.

Replies are Python values; ``encode`` turns them into RESP2 or RESP3 bytes. The value
model: bytes = bulk string, int = integer, None = null, list/tuple = array, Status = simple
string, ReplyError = error, float = double, dict = map, SetReply = set, Verbatim = verbatim
string, Bool = boolean, Push = push message, Raw = bytes already encoded.
"""
import math
import re

import hiredis

from commands.server.multibulk import (PROTO_INLINE_MAX_SIZE, MultibulkCommand, ProtocolError,
                                       QueryBufferLimit)

__all__ = ["ProtocolError", "QueryBufferLimit", "RequestParser", "encode", "encode_one"]

# Any RESP header with a count or length of 10000 or more: an aggregate (*, %, ~, >, |) or
# a string (bulk, verbatim, blob error). It may match inside a payload too; then one
# request is parsed in Python for nothing. This is the definition (tests/unit/test_resp.py
# checks the search below against it).
_BIG_HEADER = re.compile(rb"[*%~>|$=!][0-9]{5}")
# The same search, 4x cheaper (it runs on every read): translate() maps every digit to
# "0", every header type byte to "*" and anything else to ".", then one find() of
# "*00000" (a C substring search) gives the position _BIG_HEADER.search would.
_HEADER_SHAPE = bytes(48 if b in b"0123456789" else 42 if b in b"*%~>|$=!" else 46
                      for b in range(256))
_BIG_SHAPE = b"*00000"
_STAR = 42   # b"*"[0]
# For checking a whole read at once (RequestParser._take_all_bulk): digits become "0",
# line ends "\n", array and bulk headers "*" and "$", every other type byte "+".
_READ_SHAPE = bytes(48 if b in b"0123456789" else 10 if b == 10 else 42 if b == 42
                    else 36 if b == 36 else 43 if b in b"+-:,#_(=%~>|!" else 46
                    for b in range(256))
_EMPTY_ARRAY = b"*0\r\n"
# The type bytes of the elements hiredis hands over as bytes and that take fewer bytes
# than the bulk string it makes of them: status (+) and big number ((); `int in bytes` is
# a memchr. A read without them whose one request, all bytes, takes exactly as many bytes
# as its canonical encoding is that encoding: hiredis refuses non-canonical headers, any
# other element type is not bytes, and a verbatim string (=) or a request left unfinished
# after it only add bytes.
_PLUS, _PAREN = b"+("
_ONLY_ARRAYS = {list}


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
    or QueryBufferLimit after the commands that came before it; after that the stream is
    unusable and the client is closed.
    """

    __slots__ = ("_reader", "_inline", "_command", "_max_bulk", "_max_query", "_pending",
                 "_taken", "_head", "_failed", "_python_only", "failure")

    def __init__(self, max_bulk_len=512 * 1024 * 1024, max_query_buffer=1024 * 1024 * 1024):
        self._reader = hiredis.Reader()
        self._inline = b""           # the start of an inline command split across reads
        self._command = None         # a MultibulkCommand parsed in Python, across reads
        self._max_bulk = max_bulk_len
        self._max_query = max_query_buffer
        self._pending = []           # commands parsed, then at most one error at the end
        # The list take() handed out, and how much of it has run (mark()): what is left
        # is still the client's query buffer for CLIENT LIST (buffered()).
        self._taken = []
        self._head = 0
        # The ProtocolError or QueryBufferLimit that ended the stream, once take() has
        # handed over the requests before it.
        self.failure = None
        self._failed = False
        self._python_only = False    # hiredis miscounted this read: Python parses the rest

    def set_limits(self, max_bulk_len, max_query_buffer):
        self._max_bulk = max_bulk_len
        self._max_query = max_query_buffer

    def feed(self, data) -> None:
        if self._failed:
            return
        if self._command is None and not self._inline and data[:1] == b"*" and \
                self._take_all_bulk(data):
            return                                  # the usual read, checked at once
        pos, end = 0, len(data)
        self._python_only = False
        try:
            while pos < end:
                if self._command is not None:
                    pos, done = self._command.feed(data, pos)
                    if done:
                        if self._command.args:         # '*0' and '*-1' are ignored
                            self._pending.append(self._command.args)
                        self._command = None
                elif self._inline or data[pos] != _STAR:
                    pos = self._feed_inline(data, pos)
                elif self._python_only:
                    self._command = MultibulkCommand(self._max_bulk, self._max_query)
                else:
                    pos = self._feed_hiredis(data, pos)
        except (ProtocolError, QueryBufferLimit) as exc:
            # Reported by get() after the commands that came before it, as Redis does.
            self._pending.append(exc)
            self._failed = True
            self._command = None

    def _feed_hiredis(self, data, pos) -> int:
        """Parse complete requests from data[pos:] with hiredis, up to the first header it
        must not see; return where the first request it did not finish begins (then that
        one is parsed in Python from its first byte)."""
        big = data.translate(_HEADER_SHAPE).find(_BIG_SHAPE, pos)
        stop = len(data) if big < 0 else big
        offset = pos
        if stop > pos:
            reader = self._reader
            reader.feed(data, pos, stop - pos)
            pending = self._pending
            parsed_before = len(pending)
            drained = False       # hiredis said False: it holds nothing or part of a request
            try:
                cmd = reader.gets()
                while cmd is not False:
                    if type(cmd) is list:
                        # Where the next request starts, from the canonical encoding
                        # (hiredis refuses non-canonical headers). A non-bulk argument
                        # (nested array, integer, ...) stops here: Python reports it.
                        size = _encoded_size(cmd)
                        if size < 0:
                            break
                        if cmd:
                            pending.append(cmd)
                    elif cmd is None and data.startswith(b"*-1\r\n", offset):
                        size = 5            # '*-1': ignored, like '*0'
                    else:
                        # Not a '*' request ('$-1', '_' and the like are nulls too): an
                        # inline one, see feed().
                        break
                    offset += size
                    cmd = reader.gets()
                drained = True
            except hiredis.ProtocolError:
                pass                        # Python parses that request and says why
            if offset != stop:
                # hiredis holds part of a request (or choked on one): start it afresh.
                self._reader = hiredis.Reader()
            if offset > stop or (drained and offset < stop and data[offset] != _STAR) or \
                    data.translate(_READ_SHAPE).find(b"\n+", pos, min(offset, stop)) >= 0:
                # hiredis took a status, verbatim or big-number element for a bulk
                # ('*1\r\n+PING\r\n'): Redis refuses those; parse the read again in
                # Python, which does. Such an element starts a line with its type byte
                # (the search may also match inside a payload: then Python parses the
                # read for nothing), and it throws the sizes out.
                del pending[parsed_before:]
                self._python_only = True
                offset = pos
        if offset < len(data) and data[offset] == _STAR:
            self._command = MultibulkCommand(self._max_bulk, self._max_query)
        return offset

    def _take_all_bulk(self, data) -> bool:
        """The usual read: whole requests of bulk strings and nothing else. Checks the
        read and parses it with hiredis, at once and in C, rather than adding up each
        request's size: true if it holds only complete requests whose elements are all
        bulk strings (the requests are then pending). Otherwise nothing is taken and the
        reader is fresh: feed()'s request-by-request way must say what the read holds.

        Every header starts a line, so one translation (_READ_SHAPE) shows them all:
        no count or length of five digits (hiredis must never see one: it allocates on
        the count), then, parsed, no line starting with a type byte other than "*" or
        "$" (a status, verbatim or big number hiredis would hand over as bytes, or any
        other type), no "$-1" (the null hiredis reads as None), and exactly as many
        "*" headers as requests (no nested array, no request begun but not finished);
        an empty request fed after them comes back alone, so hiredis holds nothing else
        (no bulk string begun at the top level). A payload can only make a check fail
        for nothing, then the read is parsed request by request. A read of one request
        needs less: its size says it all (_PLUS)."""
        if data.translate(_HEADER_SHAPE).find(_BIG_SHAPE) >= 0:
            return False
        reader = self._reader
        reader.feed(data)
        requests = []
        try:
            request = reader.gets()
            while request is not False:
                requests.append(request)
                request = reader.gets()
            if len(requests) == 1 and type(requests[0]) is list and \
                    _encoded_size(requests[0]) == len(data) and _PLUS not in data and \
                    _PAREN not in data:
                # One request, the read of a request/response client: it is all bulk
                # strings, byte for byte (see _PLUS), and hiredis holds nothing.
                if requests[0]:                 # '*0' is ignored
                    self._pending.append(requests[0])
                return True
            shape = data.translate(_READ_SHAPE)
            # Every request an array, too: a top-level bulk string whose payload starts
            # with "*" would make up the count ('$2\r\n*=\r\n'), a null ('*-1')
            # is left to the request-by-request way.
            if shape.find(b"\n+") < 0 and shape.find(b"$+") < 0 and \
                    shape.count(b"\n*") + 1 == len(requests) and \
                    set(map(type, requests)) == _ONLY_ARRAYS:
                reader.feed(_EMPTY_ARRAY)
                if reader.gets() == []:
                    if [] in requests:          # '*0' requests are ignored
                        requests = [request for request in requests if request]
                    self._pending.extend(requests)
                    return True
        except hiredis.ProtocolError:
            pass
        self._reader = hiredis.Reader()
        return False

    def take(self) -> list:
        """Every request parsed so far, in one list, and forget them: the serve loop runs
        the list instead of calling get() per request, then raises `failure` if the
        stream ended in an error after them. The loop says with mark() how far it has
        got."""
        taken = self._taken = self._pending
        self._pending = []
        self._head = 0
        if taken and type(taken[-1]) is not list:
            self.failure = taken.pop()
        return taken

    def mark(self, done: int) -> None:
        """The first `done` requests of the last take() have run."""
        self._head = done

    def finished(self) -> None:
        """All of the last take() has run (or never will): let its arguments go."""
        self._taken.clear()
        self._head = 0

    def get(self):
        """The next complete command (a list of bytes), or None when more input is needed."""
        taken = self._taken
        head = self._head
        if head >= len(taken):
            self.finished()
            if self.failure is not None:
                raise self.failure
            if not self._pending:
                return None
            taken = self.take()
            if not taken:
                raise self.failure
            head = 0
        self._head = head + 1
        return taken[head]

    def buffered(self) -> tuple:
        """(query buffer bytes, argument bytes) as CLIENT LIST's qbuf and argv-mem count
        them for a client between commands: the commands parsed but not yet executed
        (as their multibulk encoding) and the part of an unfinished request that is not
        an argument yet, then the arguments of that request read so far (Redis moves
        each finished argument from the query buffer to argv). Computed only when
        asked: nothing is counted per read."""
        size = len(self._inline)
        argv = 0
        command = self._command
        if command is not None:
            size += len(command.line) + (command.filled() if command.bulk >= 0 else 0)
            argv = sum(len(arg) for arg in command.args)
        for cmd in self._taken[self._head:] + self._pending:
            if type(cmd) is list:
                size += request_size(cmd)
        return size, argv

    def _feed_inline(self, data, pos) -> int:
        """One inline command, a line of arguments (Redis's processInlineBuffer); returns
        where it ended, or buffers a line that has not ended yet."""
        nl = data.find(b"\n", pos)
        if nl == -1:
            self._inline += data[pos:]
            if len(self._inline) > PROTO_INLINE_MAX_SIZE:
                raise ProtocolError("too big inline request")
            return len(data)
        line = self._inline + data[pos:nl] if self._inline else data[pos:nl]
        self._inline = b""
        if line.endswith(b"\r"):
            line = line[:-1]
        try:
            args = split_args(line)
        except ValueError:
            raise ProtocolError("unbalanced quotes in request") from None
        if args:
            self._pending.append(args)
        return nl + 1


def request_size(cmd) -> int:
    """A command's size as a multibulk request, whatever its arguments were read as."""
    return 3 + len(str(len(cmd))) + sum(5 + len(str(len(a))) + len(a) for a in cmd)


def _encoded_size(cmd) -> int:
    """Bytes a command took on the wire as a multibulk (hiredis accepts only the canonical
    encoding), or -1 if an argument is not a bulk string.

    Runs for every command, so the digit counts of the usual short lengths are spelled out
    instead of formatting each number."""
    count = len(cmd)
    size = (4 if count < 10 else 3 + len(str(count))) + 5 * count
    for arg in cmd:
        if type(arg) is not bytes:
            return -1
        n = len(arg)
        size += n + (1 if n < 10 else 2 if n < 100 else len(str(n)))
    return size


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
            if type(item) is bytes:   # most arrays hold bulk strings: no call for those
                out.append(b"$%d\r\n%s\r\n" % (len(item), item))
            else:
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
