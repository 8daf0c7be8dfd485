"""Keyspace-notification streams of our node and of redis-server, side by side.

Each server gets a subscriber (PSUBSCRIBE __key*@*__:*, plus a sentinel channel) and a
command connection. After a command sequence, the command connection PUBLISHes to the
sentinel channel: both servers deliver messages in order, so the keyspace events read
before the sentinel's message are exactly those the sequence caused. Every read is
bounded by the subscriber's socket timeout.
"""
import time

from tests.helpers import RawClient

PATTERN = b"__key*@*__:*"
SENTINEL = b"notify-test-sentinel"


class EventStream:
    """One server's subscriber and command connection."""

    def __init__(self, port, timeout=5.0):
        self.port = port
        self.sub = RawClient(port, timeout=timeout)
        self.sub.call("PSUBSCRIBE", PATTERN)
        self.sub.call("SUBSCRIBE", SENTINEL)
        self.cmd = RawClient(port, timeout=timeout)

    def call(self, *args):
        return self.cmd.call(*args)

    def drain(self) -> list:
        """The (channel, message) pairs published since the last drain."""
        self.cmd.call("PUBLISH", SENTINEL, "x")
        events = []
        while True:
            _, message = self.sub.read_reply()
            parts = [value for _, value in message]
            if parts[0] == b"message" and parts[1] == SENTINEL:
                return events
            assert parts[0] == b"pmessage", parts
            events.append((parts[2], parts[3]))

    def close(self):
        self.sub.close()
        self.cmd.close()


class StreamPair:
    """Ours and redis-server's streams; run() replays commands on both."""

    def __init__(self, ours_port, redis_port):
        self.ours = EventStream(ours_port)
        self.redis = EventStream(redis_port)

    def both(self, *args):
        return self.ours.call(*args), self.redis.call(*args)

    def run(self, commands, same_replies=True) -> list:
        """Send each command to both (replies must agree unless told otherwise), then
        compare the event streams; returns the events."""
        for args in commands:
            ours, ref = self.both(*args)
            if same_replies:
                assert ours == ref, "command %r:\n  ours:  %r\n  redis: %r" % (args, ours, ref)
        return self.compare()

    def compare(self) -> list:
        ours, ref = self.ours.drain(), self.redis.drain()
        assert ours == ref, "events differ:\n  ours:  %r\n  redis: %r" % (ours, ref)
        return ours

    def wait_events(self, count, timeout=5.0) -> tuple:
        """Collect events on both until each has `count` (active expiry happens in the
        servers' own time); (ours, redis)."""
        deadline = time.monotonic() + timeout
        ours, ref = [], []
        while time.monotonic() < deadline and (len(ours) < count or len(ref) < count):
            ours += self.ours.drain()
            ref += self.redis.drain()
            time.sleep(0.02)
        return ours, ref

    def close(self):
        self.ours.close()
        self.redis.close()
