"""The differential harness: the same commands to node.py and to a real redis-server.

Both run in cluster mode holding all 16384 slots, so keyed commands are served locally
on both. `diff.check(*args)` sends one command to each and asserts the replies are
identical, type by type (status vs bulk, error text included).
"""
import pytest

from tests.helpers import RawClient, own_all_slots


class Differential:
    def __init__(self, ours_port, redis_port):
        self.ours = RawClient(ours_port)
        self.redis = RawClient(redis_port)

    def both(self, *args):
        return self.ours.call(*args), self.redis.call(*args)

    def check(self, *args):
        """Send to both; assert identical replies; return the reply."""
        ours, ref = self.both(*args)
        assert ours == ref, "command %r:\n  ours:  %r\n  redis: %r" % (args, ours, ref)
        return ours

    def check_all(self, commands):
        for args in commands:
            self.check(*args)

    def close(self):
        self.ours.close()
        self.redis.close()


@pytest.fixture(scope="session")
def diff_servers(node, redis_server):
    own_all_slots(redis_server.port)   # our `node` fixture already owns them
    return node, redis_server


@pytest.fixture
def diff(diff_servers):
    ours, ref = diff_servers
    d = Differential(ours.port, ref.port)
    d.check("FLUSHALL")
    yield d
    d.close()
