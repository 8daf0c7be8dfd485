import shutil

import pytest

from tests.helpers import RawClient, start_node, start_redis


@pytest.fixture(scope="session")
def node():
    """One node.py process shared by a test session (tests FLUSHALL what they use)."""
    proc = start_node()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def redis_server():
    """A real redis-server in cluster mode, the reference for differential tests."""
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed: run scripts/test.sh, which installs it")
    proc = start_redis(cluster=True)
    yield proc
    proc.stop()


@pytest.fixture
def raw(node):
    client = RawClient(node.port)
    client.call("FLUSHALL")
    yield client
    client.close()
