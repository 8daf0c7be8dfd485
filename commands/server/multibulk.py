"""One multibulk request parsed in Python, exactly as Redis's processMultibulkBuffer does.

hiredis (commands/server/resp.py) parses the ordinary requests of a read; this parser
takes the ones hiredis must not see or could not finish in that read:

* a huge declared count. hiredis allocates a list slot per declared element as soon as
  it reads ``*N``: ``*1073741824`` with no data behind it is 8 GB of (lazily mapped)
  list that every garbage-collection pass walks and that takes seconds to free. Here
  ``args`` grows only as arguments arrive, like Redis's argv.
* a big bulk. hiredis grows its buffer as the bytes arrive and then copies the whole
  bulk into a bytes object, so a 500 MB value peaks at twice its size. Here an argument
  of BIG_ARG bytes or more is written into one io.BytesIO as it arrives: its buffer
  grows by realloc, which for big blocks is mremap (no copy), and getvalue() hands the
  bytes over without copying, so the peak is the value's size. Nothing is allocated
  for bytes that have not arrived: a client that declares $536870912 and sends three
  bytes costs three bytes (Redis's SDS_NOINIT allocation is lazy in the same way; a
  zero-filled buffer of the declared size would be 512 MB of RSS and a 2 s stall).
* a request that spans reads, and anything malformed: the errors are Redis's, word for
  word, and the limits (proto-max-bulk-len, client-query-buffer-limit) are checked at
  each header, before anything is buffered for it.

The parser is resumable at any byte: feed() takes what the read has and says where it
stopped.
"""
import io
import re

PROTO_INLINE_MAX_SIZE = 64 * 1024   # Redis: longest inline request / header line
PROTO_MAX_MULTIBULK = 2 ** 31 - 1   # Redis 7.0: a count over INT_MAX is refused
BIG_ARG = 32 * 1024                 # Redis's PROTO_MBULK_BIG_ARG

# Redis's string2ll: optional '-', no leading zeros, no '+', no spaces. (int() would
# accept all of those, and "1_000".)
_INTEGER = re.compile(rb"-?[1-9][0-9]{0,18}|0")
_LLONG_MAX = 2 ** 63 - 1


class ProtocolError(Exception):
    """A malformed request: answer '-ERR Protocol error: <msg>' and close the client."""


class QueryBufferLimit(Exception):
    """One incomplete command grew past client-query-buffer-limit: close the client."""


def string2ll(text):
    """The integer Redis's string2ll reads from `text`, or None."""
    if _INTEGER.fullmatch(text) is None:
        return None
    value = int(text)
    return value if -_LLONG_MAX - 1 <= value <= _LLONG_MAX else None


class MultibulkCommand:
    """The arguments of one '*N' request, read from any number of chunks."""

    __slots__ = ("max_bulk", "max_query", "args", "left", "line", "bulk", "small", "big",
                 "skip", "held")

    def __init__(self, max_bulk, max_query):
        self.max_bulk = max_bulk
        self.max_query = max_query
        self.args = []             # grows per argument received, never per argument declared
        self.left = -1             # arguments still to read; -1 until '*N' is read
        self.line = b""            # a header line split across reads
        self.bulk = -1             # length of the argument being read, -1 between arguments
        self.small = bytearray()   # a small argument split across reads
        self.big = None            # io.BytesIO growing with a big argument's bytes
        self.skip = 0              # bytes still to skip after a payload (its CRLF)
        self.held = 0              # bytes of this request buffered so far (the query limit)

    def feed(self, data, pos):
        """Consume data[pos:]; return (where it stopped, whether the command is complete).

        Raises ProtocolError or QueryBufferLimit; the parser is unusable afterwards."""
        end = len(data)
        while pos < end:
            if self.skip:
                step = min(self.skip, end - pos)
                self.skip -= step
                pos += step
            elif self.bulk >= 0:
                pos = self._payload(data, pos, end)
            else:
                pos = self._header(data, pos, end)
            if self.left == 0 and not self.skip and self.bulk < 0:
                self._release()
                return pos, True
        return pos, False

    # -- headers: '*N' then '$N' per argument

    def _header(self, data, pos, end):
        # Like Redis: find the '\r', and wait until the byte after it has arrived too
        # (the two are skipped without looking at the second).
        window = data[pos:pos + PROTO_INLINE_MAX_SIZE + 2]
        text = self.line + window if self.line else window
        cr = text.find(b"\r")
        if cr == -1 or cr + 1 >= len(text):
            if len(text) > PROTO_INLINE_MAX_SIZE:
                raise ProtocolError("too big %s count string"
                                    % ("mbulk" if self.left < 0 else "bulk"))
            self.line = bytes(text)
            self.held += end - pos
            self._check_query_limit()
            return end
        used = cr + 2 - len(self.line)
        self.line = b""
        self.held += used
        line = bytes(text[:cr])
        if self.left < 0:
            count = string2ll(line[1:])
            if count is None or count > PROTO_MAX_MULTIBULK:
                raise ProtocolError("invalid multibulk length")
            self.left = max(count, 0)        # '*0' and '*-1' are empty requests
        else:
            if line[:1] != b"$":
                raise ProtocolError("expected '$', got '%s'" % line[:1].decode("latin-1"))
            size = string2ll(line[1:])
            if size is None or size < 0 or size > self.max_bulk:
                raise ProtocolError("invalid bulk length")
            self.bulk = size
        return pos + used

    # -- payloads

    def _payload(self, data, pos, end):
        size = self.bulk
        if self.big is None and not self.small and end - pos >= size:
            self.held += size
            self._check_query_limit()
            self._argument(bytes(data[pos:pos + size]))   # all here: one copy
            return pos + size
        if self.big is None and not self.small and size >= BIG_ARG:
            self.big = io.BytesIO()
        step = min(size - self.filled(), end - pos)
        if self.big is not None:
            self.big.write(data[pos:pos + step])
        else:
            self.small += data[pos:pos + step]
        self.held += step
        self._check_query_limit()
        pos += step
        if self.filled() == size:
            if self.big is not None:
                value = self.big.getvalue()
                self.big = None
            else:
                value = bytes(self.small)
                self.small = bytearray()
            self._argument(value)
        return pos

    def filled(self):
        """Bytes of the argument being read that have arrived."""
        return self.big.tell() if self.big is not None else len(self.small)

    def _argument(self, value):
        self.args.append(value)
        self.bulk = -1
        self.left -= 1
        self.skip = 2          # the CRLF after the payload (not checked, as in Redis)

    def _check_query_limit(self):
        if self.held > self.max_query:
            self._release()
            raise QueryBufferLimit()

    def _release(self):
        self.big = None
