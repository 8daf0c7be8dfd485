"""MULTI / EXEC / DISCARD / WATCH: identical replies from our node and redis-server."""
from tests.helpers import RawClient, wait_until


def test_multi_exec_basic(diff):
    diff.check_all([
        ("MULTI",), ("SET", "a", "1"), ("INCR", "a"), ("GET", "a"), ("EXEC",),
        ("GET", "a"),
    ])


def test_errors_outside_multi(diff):
    diff.check_all([("EXEC",), ("DISCARD",), ("MULTI",), ("MULTI",), ("DISCARD",)])


def test_queued_command_errors_abort_with_execabort(diff):
    diff.check_all([
        ("MULTI",), ("SET", "a", "1"), ("GET",), ("NOSUCHCOMMAND", "x"), ("EXEC",),
        ("GET", "a"),
    ])


def test_runtime_errors_do_not_abort(diff):
    diff.check_all([
        ("SET", "{t}s", "notanumber"),
        ("MULTI",), ("INCR", "{t}s"), ("SET", "{t}b", "2"), ("EXEC",), ("GET", "{t}b"),
    ])


def test_watch_inside_multi_and_nested_multi(diff):
    diff.check_all([
        ("MULTI",), ("WATCH", "x"), ("MULTI",), ("SET", "x", "1"), ("EXEC",),
    ])


def test_discard_drops_the_queue(diff):
    diff.check_all([("MULTI",), ("SET", "d", "1"), ("DISCARD",), ("GET", "d")])


def _watch_scenario(port, other_action):
    """WATCH k, another client acts, then MULTI/SET/EXEC; returns the EXEC reply."""
    a, b = RawClient(port), RawClient(port)
    try:
        a.call("SET", "k", "0")  # one key per transaction: no cross-slot concerns
        a.call("WATCH", "k")
        if other_action:
            b.call(*other_action)
        a.call("MULTI")
        a.call("SET", "k", "mine")
        return a.call("EXEC"), a.call("GET", "k")
    finally:
        a.close()
        b.close()


def test_watch_detects_changes_like_redis(diff):
    for action in [None, ("SET", "k", "theirs"), ("DEL", "k"), ("SET", "{k}other", "x"),
                   ("EXPIRE", "k", "100"), ("FLUSHALL",)]:
        diff.check("FLUSHALL")
        ours = _watch_scenario(diff.ours.sock.getpeername()[1], action)
        ref = _watch_scenario(diff.redis.sock.getpeername()[1], action)
        assert ours == ref, (action, ours, ref)


def test_watched_key_that_expires_aborts_exec(diff):
    """Redis 7: a WATCHed key whose TTL passes before EXEC aborts the transaction, even
    if nothing deleted it yet (active expiry is off here, so only time changes)."""
    for client in (diff.ours, diff.redis):
        assert client.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == ("+", "OK")
    try:
        diff.check("SET", "{e}", "v", "PX", "200")
        diff.check("WATCH", "{e}")
        for client in (diff.ours, diff.redis):
            deadline = client.call("PEXPIRETIME", "{e}")[1]
            wait_until(lambda c=client: _server_ms(c) > deadline + 5, timeout=5,
                       message="the server clock to pass the key's expiry")
        diff.check("MULTI")
        diff.check("SET", "{e}x", "1")
        assert diff.check("EXEC")[0] in ("*", "_")
    finally:
        for client in (diff.ours, diff.redis):
            client.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def _server_ms(client) -> int:
    seconds, micros = client.call("TIME")[1]
    return int(seconds[1]) * 1000 + int(micros[1]) // 1000


def test_unwatch(diff):
    diff.check_all([("WATCH", "u"), ("UNWATCH",), ("SET", "u", "1"), ("MULTI",),
                    ("GET", "u"), ("EXEC",)])
