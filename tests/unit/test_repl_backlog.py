"""The replication backlog: circular buffer addressed by stream offsets."""
import random

from commands.replication.backlog import ReplBacklog


def test_empty_backlog_offsets():
    b = ReplBacklog(16)
    assert (b.end_offset, b.histlen, b.first_byte_offset) == (0, 0, 1)
    assert b.can_continue_from(1)          # the next byte: nothing to send, but valid
    assert not b.can_continue_from(2)
    assert b.read_from(1) == b""


def test_backlog_created_mid_stream_starts_after_the_current_offset():
    b = ReplBacklog(16, end_offset=100)
    assert b.first_byte_offset == 101
    b.append(b"abc")
    assert (b.end_offset, b.first_byte_offset) == (103, 101)
    assert b.read_from(101) == b"abc"
    assert b.read_from(103) == b"c"
    assert not b.can_continue_from(100)


def test_wraps_and_keeps_the_last_size_bytes():
    b = ReplBacklog(8)
    b.append(b"12345")
    b.append(b"6789AB")                    # 11 bytes written, 8 kept
    assert b.end_offset == 11 and b.histlen == 8
    assert b.first_byte_offset == 4
    assert b.read_from(4) == b"456789AB"
    assert b.read_from(10) == b"AB"
    assert not b.can_continue_from(3)
    assert b.can_continue_from(12) and not b.can_continue_from(13)


def test_append_larger_than_the_buffer():
    b = ReplBacklog(4)
    b.append(b"x")
    b.append(b"abcdefgh")
    assert b.read_from(b.first_byte_offset) == b"efgh"
    assert b.end_offset == 9


def test_matches_a_plain_bytes_model_under_random_appends():
    rng = random.Random(7)
    b = ReplBacklog(50)
    stream = bytearray()
    for _ in range(500):
        chunk = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 30)))
        b.append(chunk)
        stream += chunk
        assert b.end_offset == len(stream)
        first = b.first_byte_offset
        assert b.read_from(first) == bytes(stream[first - 1:])
        probe = rng.randint(first, b.end_offset + 1)
        assert b.read_from(probe) == bytes(stream[probe - 1:])


def test_resize_keeps_the_newest_bytes():
    b = ReplBacklog(10)
    b.append(b"0123456789abc")
    b.resize(4)
    assert b.read_from(b.first_byte_offset) == b"9abc"
    b.append(b"de")
    assert b.read_from(b.first_byte_offset) == b"bcde"
    b.resize(100)
    b.append(b"fg")
    assert b.read_from(b.first_byte_offset) == b"bcdefg"
    assert b.end_offset == 17
