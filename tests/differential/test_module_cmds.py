"""MODULE against redis-server: refused by default (enable-module-command no) with
Redis's text, HELP always answered; with `yes`, LIST is empty, UNLOAD finds no module and
LOAD of a path that is no module fails the same way on both."""
import pytest

from tests.differential.conftest import Differential
from tests.helpers import start_node, start_redis

COMMANDS = [
    ("MODULE", "HELP"), ("MODULE", "LIST"), ("MODULE", "LOAD", "/nonexistent/mod.so"),
    ("MODULE", "LOADEX", "/nonexistent/mod.so", "CONFIG", "a", "b"),
    ("MODULE", "UNLOAD", "nosuch"), ("MODULE",), ("MODULE", "NOSUCH"),
    ("MODULE", "LIST", "extra"), ("MODULE", "UNLOAD"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_module_refused_by_default(diff, args):
    diff.check(*args)


def test_module_when_enabled():
    ours = start_node("--enable-module-command", "yes")
    try:
        redis = start_redis("--enable-module-command", "yes")
        try:
            diff = Differential(ours.port, redis.port)
            diff.check_all(COMMANDS)
            diff.close()
        finally:
            redis.stop()
    finally:
        ours.stop()
