"""Redis 7's safe defaults: protected mode and the protected actions.

- **Protected mode** (`protected-mode yes`, the default): while the default user has no
  password, a client that connects from anywhere but the loopback interface gets
  Redis's -DENIED text and is closed (Redis's clientAcceptHandler). In Redis 7.0 this
  holds whatever `bind` says (Redis 6 also required "no explicit bind").
- **Protected actions** (`enable-debug-command`, `enable-protected-configs`,
  `enable-module-command`, all `no` by default): `yes` allows the action to every client,
  `local` only to loopback clients (Redis's allowProtectedAction).

"Loopback" is Redis's islocalClient, to the letter: a unix socket client, or a TCP peer
whose address is exactly 127.0.0.1 or ::1 (so 127.0.0.2 is not local).
"""

PROTECTED_MODE_DENIED = (
    b"-DENIED Redis is running in protected mode because protected "
    b"mode is enabled and no password is set for the default user. "
    b"In this mode connections are only accepted from the loopback interface. "
    b"If you want to connect from external computers to Redis you "
    b"may adopt one of the following solutions: "
    b"1) Just disable protected mode sending the command "
    b"'CONFIG SET protected-mode no' from the loopback interface "
    b"by connecting to Redis from the same host the server is "
    b"running, however MAKE SURE Redis is not publicly accessible "
    b"from internet if you do so. Use CONFIG REWRITE to make this "
    b"change permanent. "
    b"2) Alternatively you can just disable the protected mode by "
    b"editing the Redis configuration file, and setting the protected "
    b"mode option to 'no', and then restarting the server. "
    b"3) If you started the server manually just for testing, restart "
    b"it with the '--protected-mode no' option. "
    b"4) Setup a an authentication password for the default user. "
    b"NOTE: You only need to do one of the above things in order for "
    b"the server to start accepting connections from the outside.\r\n")

LOOPBACK_ADDRESSES = ("127.0.0.1", "::1")


def is_local_address(host: str, unix: bool = False) -> bool:
    """Redis's islocalClient on a peer address (a unix socket peer is local)."""
    return unix or host in LOOPBACK_ADDRESSES


def is_local_client(c) -> bool:
    host = c.addr_text.rsplit(":", 1)[0]
    return is_local_address(host, c.unix_socket)


def protected_action_allowed(option: str, c) -> bool:
    """Redis's allowProtectedAction: 'yes', or 'local' for a loopback client."""
    return option == "yes" or (option == "local" and is_local_client(c))


def refused_by_protected_mode(server, host: str, unix: bool) -> bool:
    """A new connection from `host` must get PROTECTED_MODE_DENIED and be closed: protected
    mode is on, the default user is `nopass` (no requirepass, no ACL password), and the
    peer is not loopback."""
    if not server.settings.protected_mode or is_local_address(host, unix):
        return False
    acl = server.acl
    return acl.default.nopass if acl is not None else not server.settings.requirepass
