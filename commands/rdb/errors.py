"""The exceptions of the RDB / DUMP codec.

Everything malformed that the decoders meet is reported as an `RdbError` (or a subclass)
with a short reason, never as IndexError, struct.error or the like: callers (RESTORE, a
replica loading a snapshot, the node loading dump.rdb at start) catch one class.

    RdbError                      any malformed or unsupported input
     +-- RdbTruncated             the input ended before the structure did
     +-- DumpPayloadError         a DUMP payload's footer is wrong (RESTORE:
     |                            "DUMP payload version or checksum are wrong")
     +-- BadDataFormat            a DUMP payload whose footer is right but whose body
                                  does not decode (RESTORE: "Bad data format")

Arguments that make no sense to the *encoders* (a non-integer member for an intset, an
unknown encoding name) are programming errors of the caller and raise ValueError.
"""


class RdbError(Exception):
    """Malformed, truncated or unsupported RDB data."""


class RdbTruncated(RdbError):
    """The data ended early. `needed` is the offset (in the buffer being parsed) that the
    parser had to reach, when known: a streaming reader reads at least that far and
    retries; for data fully in memory it is simply an error."""

    def __init__(self, message="Unexpected EOF reading RDB file", needed=None):
        super().__init__(message)
        self.needed = needed


class DumpPayloadError(RdbError):
    """The DUMP payload's footer is wrong: too short, an RDB version newer than ours,
    or a CRC64 that does not match."""


class BadDataFormat(RdbError):
    """The DUMP payload's footer is right but its body is not a valid serialized value."""
