import pytest
import redis


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def r(node, request):
    """A redis-py client of the shared node, once in RESP2 and once in RESP3, on an empty
    keyspace. Files that need another client (test_pubsub, test_server_connection)
    override `r` with their own."""
    client = redis.Redis(port=node.port, protocol=request.param, socket_timeout=10)
    client.flushall()
    yield client
    client.close()
