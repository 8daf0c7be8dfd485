"""What the bit and HyperLogLog commands leave in the replication stream: a write that
changed something, verbatim; nothing for reads and no-ops; PFCOUNT (read-only) when it
stored a new cached count; PFDEBUG when it changed the encoding. As Redis counts them."""
from tests.unit.test_propagation import _run, _setup, _stream


def test_bit_commands():
    server, repl, c = _setup()
    _run(c, "SETBIT", "k", "7", "1")
    _run(c, "SETBIT", "k", "7", "1")              # no change
    _run(c, "SETBIT", "k", "3", "0")              # no change, no growth
    _run(c, "SETBIT", "k", "20", "0")             # grows the string: a change
    _run(c, "GETBIT", "k", "7")
    _run(c, "BITCOUNT", "k")
    _run(c, "BITPOS", "k", "1")
    _run(c, "BITOP", "NOT", "d", "k")
    _run(c, "BITOP", "AND", "gone", "nokey")      # nothing to delete
    _run(c, "BITFIELD", "k", "GET", "u8", "0")
    _run(c, "BITFIELD_RO", "k", "GET", "u8", "0")
    _run(c, "BITFIELD", "n", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10")  # key, no change
    _run(c, "BITFIELD", "k", "SET", "u8", "0", "5", "SET", "u8", "8", "0")
    _run(c, "BITFIELD", "k", "SET", "u8", "0", "5")                        # same value
    _run(c, "SETBIT", "k", "-1", "1")             # an error
    assert _stream(repl) == [
        ["SETBIT", "k", "7", "1"], ["SETBIT", "k", "20", "0"], ["BITOP", "NOT", "d", "k"],
        ["BITFIELD", "k", "SET", "u8", "0", "5", "SET", "u8", "8", "0"]]
    assert server.keyspace.peek(b"n") == bytearray(1)


def test_hyperloglog_commands():
    server, repl, c = _setup()
    _run(c, "PFADD", "h", "a", "b")
    _run(c, "PFADD", "h", "a")                    # no register raised
    _run(c, "PFCOUNT", "h")                       # stores the count: propagated
    _run(c, "PFCOUNT", "h")                       # cached: nothing
    _run(c, "PFCOUNT", "h", "nokey")              # a union is never stored
    _run(c, "PFMERGE", "m", "h")
    _run(c, "PFDEBUG", "ENCODING", "h")
    _run(c, "PFDEBUG", "TODENSE", "h")
    _run(c, "PFDEBUG", "TODENSE", "h")            # already dense
    _run(c, "PFADD", "s", "x")
    _run(c, "PFDEBUG", "GETREG", "s")             # made dense on the way
    assert _stream(repl) == [
        ["PFADD", "h", "a", "b"], ["PFCOUNT", "h"], ["PFMERGE", "m", "h"],
        ["PFDEBUG", "TODENSE", "h"], ["PFADD", "s", "x"], ["PFDEBUG", "GETREG", "s"]]
    assert server.keyspace.dirty > 0
