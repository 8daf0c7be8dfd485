import pytest
import redis

from tests.helpers import RawClient, start_node, wait_until


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def r(node, request):
    """A redis-py client of the shared node, once in RESP2 and once in RESP3, on an empty
    keyspace. Files that need another client (test_pubsub, test_server_connection)
    override `r` with their own."""
    client = redis.Redis(port=node.port, protocol=request.param, socket_timeout=10)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def two_masters():
    """Two masters holding half the slots each (node timeout 1000), met and ok:
    (proc a, proc b, RawClient a, RawClient b)."""
    a = start_node("--cluster-node-timeout", "1000", slots=False)
    b = start_node("--cluster-node-timeout", "1000", slots=False)
    try:
        ca, cb = RawClient(a.port), RawClient(b.port)
        assert ca.call("CLUSTER", "ADDSLOTSRANGE", "0", "8191") == ("+", "OK")
        assert cb.call("CLUSTER", "ADDSLOTSRANGE", "8192", "16383") == ("+", "OK")
        assert ca.call("CLUSTER", "MEET", "127.0.0.1", str(b.port)) == ("+", "OK")
        for c in (ca, cb):
            wait_until(lambda c=c: b"cluster_state:ok" in c.call("CLUSTER", "INFO")[1],
                       timeout=15, message="cluster ok")
        yield a, b, ca, cb
    finally:
        a.stop()
        b.stop()
