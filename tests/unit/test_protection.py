"""Redis 7's safe defaults and islocalClient's exact rule (commands/server/settings.py)."""
from commands.server.settings import (is_local_address, protected_action_allowed,
                                        refused_by_protected_mode)
from commands.server.settings import Settings


class _Client:
    def __init__(self, addr_text, unix=False):
        self.addr_text, self.unix_socket = addr_text, unix


def test_defaults_are_redis_7s():
    values = Settings().values
    assert values["protected-mode"] is True
    assert values["enable-debug-command"] == "no"
    assert values["enable-protected-configs"] == "no"
    assert values["enable-module-command"] == "no"


def test_loopback_is_exactly_127_0_0_1_and_1():
    assert is_local_address("127.0.0.1") and is_local_address("::1")
    assert not is_local_address("127.0.0.2") and not is_local_address("10.0.0.1")
    assert is_local_address("/tmp/redis.sock", unix=True)


def test_protected_action_and_mode():
    assert protected_action_allowed("yes", _Client("10.0.0.1:5000"))
    assert protected_action_allowed("local", _Client("::1:5000"))
    assert not protected_action_allowed("local", _Client("10.0.0.1:5000"))
    assert not protected_action_allowed("no", _Client("127.0.0.1:5000"))
    server = _Server()
    assert refused_by_protected_mode(server, "10.0.0.1", False)
    assert not refused_by_protected_mode(server, "127.0.0.1", False)
    server.settings.values["requirepass"] = "secret"
    assert not refused_by_protected_mode(server, "10.0.0.1", False)
    server.settings.values["protected-mode"] = False
    server.settings.values["requirepass"] = ""
    assert not refused_by_protected_mode(server, "10.0.0.1", False)


class _Server:
    """Before the ACL is built (server.acl None), requirepass decides."""
    def __init__(self):
        self.settings = Settings()
        self.acl = None
