"""How commands whose effect depends on the moment or on chance are propagated.

A replica must end in its master's state, so such commands are propagated as their
effect, read from the command's reply and from the keyspace right after it ran, as Redis
rewrites them (rewriteClientCommandVector & co):

    SET .. EX/PX/EXAT, SETEX, PSETEX  -> SET key value PXAT <absolute ms>
    EXPIRE, PEXPIRE, EXPIREAT         -> PEXPIREAT key <absolute ms>
    GETEX EX/PX/EXAT/PXAT | PERSIST   -> PEXPIREAT key <ms> | PERSIST key
    (any of these when the key is gone: a time already past deleted it)  -> DEL key
    INCRBYFLOAT                       -> SET key <result> KEEPTTL
    HINCRBYFLOAT                      -> HSET key field <result>
    SPOP                              -> SREM key <popped members>
    RESTORE with a relative TTL       -> RESTORE key <absolute ms> payload ABSTTL
    BLPOP / BRPOP                     -> LPOP / RPOP key
    BLMOVE / BRPOPLPUSH               -> LMOVE / RPOPLPUSH
    BLMPOP                            -> LPOP / RPOP key <count popped>
    BZPOPMIN / BZPOPMAX / BZMPOP      -> ZREM key <popped members>
    MIGRATE (without COPY)            -> DEL <the keys moved away>

A blocking command that timed out propagates nothing. The blocking commands and MIGRATE
may yield while they run, so "the dataset changed during the call" says little about
them: their rewrite never falls back to argv. `rewrite_for` returns None to propagate argv as it is.
"""
from commands.server.resp import ReplyError
from commands.server.table import COMMANDS

_TTL_OPTIONS = (b"ex", b"px", b"exat")


def _server_del(c) -> bytes:
    """How Redis propagates a key a command deleted by itself (a time already past, an
    SPOP of the whole set): UNLINK under lazyfree-lazy-server-del, else DEL."""
    return b"UNLINK" if c.server.settings.values["lazyfree-lazy-server-del"] else b"DEL"


def _key_state(c, key, base, ttl_form):
    """base (+ the absolute expire time) for a live key; DEL/UNLINK when the key is gone."""
    ks = c.server.keyspace
    if ks.peek(key) is None:
        return [[_server_del(c), key]]
    when = ks.expires.get(key)
    return [ttl_form(when)] if when is not None else [base]


def _set(c, argv, reply):
    if len(argv) == 3 or not any(a.lower() in _TTL_OPTIONS for a in argv[3:]):
        return None                    # no relative time: already deterministic
    base = [b"SET", argv[1], argv[2]]
    return _key_state(c, argv[1], base, lambda when: base + [b"PXAT", b"%d" % when])


def _setex(c, argv, reply):
    base = [b"SET", argv[1], argv[3]]
    return _key_state(c, argv[1], base, lambda when: base + [b"PXAT", b"%d" % when])


def _expire(c, argv, reply):
    key = argv[1]
    return _key_state(c, key, argv, lambda when: [b"PEXPIREAT", key, b"%d" % when])


def _getex(c, argv, reply):
    key = argv[1]
    return _key_state(c, key, [b"PERSIST", key],
                      lambda when: [b"PEXPIREAT", key, b"%d" % when])


def _incrbyfloat(c, argv, reply):
    if type(reply) is not bytes:
        return []
    return [[b"SET", argv[1], reply, b"KEEPTTL"]]


def _hincrbyfloat(c, argv, reply):
    if type(reply) is not bytes:
        return []
    return [[b"HSET", argv[1], argv[2], reply]]


def _spop(c, argv, reply):
    """Redis 7.0's forms: SPOP key -> SREM key member; with a count, DEL when the whole
    set was popped, else one SREM per member (replicas publish what they apply, so the
    form shows in their keyspace events)."""
    if type(reply) is bytes:
        return [[b"SREM", argv[1], reply]]
    if isinstance(reply, list) and reply:
        if c.server.keyspace.peek(argv[1]) is None:
            return [[_server_del(c), argv[1]]]
        return [[b"SREM", argv[1], member] for member in reply]
    return []


def _restore(c, argv, reply):
    if argv[0].lower() == b"function":
        return None           # FUNCTION RESTORE (named "restore" too) goes as it came
    if isinstance(reply, ReplyError):
        return []
    key = argv[1]
    options = [a.lower() for a in argv[4:]]
    if argv[2] == b"0" or b"absttl" in options:
        return None
    replace = [b"REPLACE"] if b"replace" in options else []
    return _key_state(c, key, [b"DEL", key],
                      lambda when: [argv[0], key, b"%d" % when, argv[3], b"ABSTTL",
                                    *replace])


def _served(reply) -> bool:
    return isinstance(reply, list) and len(reply) >= 2


def _bpop(name):
    def rewrite(c, argv, reply):
        return [[name, reply[0]]] if _served(reply) else []
    return rewrite


def _blmove(c, argv, reply):
    return [[b"LMOVE", *argv[1:5]]] if type(reply) is bytes else []


def _brpoplpush(c, argv, reply):
    return [[b"RPOPLPUSH", argv[1], argv[2]]] if type(reply) is bytes else []


def _blmpop(c, argv, reply):
    if not _served(reply):
        return []
    numkeys = int(argv[2])
    left = argv[3 + numkeys].lower() == b"left"
    return [[b"LPOP" if left else b"RPOP", reply[0], b"%d" % len(reply[1])]]


def _bzpop(c, argv, reply):
    return [[b"ZREM", reply[0], reply[1]]] if _served(reply) else []


def _bzmpop(c, argv, reply):
    if not _served(reply):
        return []
    return [[b"ZREM", reply[0], *[pair[0] for pair in reply[1]]]]


def _migrate(c, argv, reply):
    if any(a.lower() == b"copy" for a in argv[6:]):
        return []
    ks = c.server.keyspace
    keys = [argv[i] for i in COMMANDS[b"migrate"].key_indexes(argv)]
    gone = [key for key in keys if key and ks.peek(key) is None]
    return [[b"DEL", *gone]] if gone else []


REWRITES = {
    "set": _set, "setex": _setex, "psetex": _setex,
    "expire": _expire, "pexpire": _expire, "expireat": _expire, "pexpireat": None,
    "getex": _getex, "incrbyfloat": _incrbyfloat, "hincrbyfloat": _hincrbyfloat,
    "spop": _spop, "restore": _restore, "restore-asking": _restore,
    "blpop": _bpop(b"LPOP"), "brpop": _bpop(b"RPOP"), "blmove": _blmove,
    "brpoplpush": _brpoplpush, "blmpop": _blmpop, "bzpopmin": _bzpop,
    "bzpopmax": _bzpop, "bzmpop": _bzmpop, "migrate": _migrate,
}


# Propagated even when they changed nothing (Redis's forceCommandPropagation).
ALWAYS_PROPAGATED = frozenset(("flushall", "flushdb"))


def rewrite_for(cmd, c, argv, reply):
    """The argvs to propagate for `cmd` (None: argv itself)."""
    if cmd is None:
        return None
    rewrite = REWRITES.get(cmd.name)
    return None if rewrite is None else rewrite(c, argv, reply)
