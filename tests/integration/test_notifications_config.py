"""notify-keyspace-events from a config file and the command line (which wins): the
events flow from start-up, CONFIG REWRITE keeps the setting, a bad value stops the node
with one line."""
import os
import tempfile

from tests.differential.notify_streams import EventStream
from tests.helpers import RawClient, free_port, start_node
from tests.integration.test_node_config import run_node_expecting_failure


def test_setting_from_a_config_file_a_flag_and_rewrite():
    folder = tempfile.mkdtemp(prefix="notify-conf-")
    port = free_port()
    conf = os.path.join(folder, "node.conf")
    with open(conf, "w") as f:
        f.write('notify-keyspace-events "Kl"\nsave ""\n')
    node = start_node(conf, "--notify-keyspace-events", "Eg$", port=port, cwd=folder)
    client = RawClient(port)
    stream = EventStream(port)
    try:
        assert client.call("CONFIG", "GET", "notify-keyspace-events")[1][1] == ("$", b"g$E")
        client.call("SET", "a", "1")
        client.call("DEL", "a")
        assert stream.drain() == [(b"__keyevent@0__:set", b"a"), (b"__keyevent@0__:del", b"a")]
        assert client.call("CONFIG", "SET", "notify-keyspace-events", "KA") == ("+", "OK")
        assert client.call("CONFIG", "REWRITE") == ("+", "OK")
        with open(conf) as f:
            assert "notify-keyspace-events \"AK\"" in f.read().splitlines()    # quoted, as Redis writes it
    finally:
        stream.close()
        client.close()
        node.stop()


def test_a_bad_value_exits_1_with_redis_error_block():
    code, output = run_node_expecting_failure("--notify-keyspace-events", "KEQ")
    assert code == 1
    assert output.startswith("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n")
    assert output.endswith("\nInvalid event class character. Use 'Ag$lshzxeKEtmdn'.\n")
