"""The ACL rule language in-process: what ACL LIST / ACL SAVE write is read back to the
same permissions (a user survives a save and a load), and the checks' choices."""
from hypothesis import given, settings
from hypothesis import strategies as st

from commands import load_all_commands
from commands.security.acl_rules import (DENIED_CHANNEL, DENIED_CMD, DENIED_KEY, OK,
                                         RuleError, User, merge_selector_args)
from commands.server.table import COMMANDS

load_all_commands()

RULES = st.sampled_from([
    b"on", b"off", b"nopass", b"resetpass", b">p1", b">p2", b"allkeys", b"resetkeys",
    b"~k*", b"%R~r*", b"%W~w*", b"%RW~b*", b"allchannels", b"resetchannels", b"&c*",
    b"+@all", b"-@all", b"+@read", b"-@write", b"+@string", b"-@keyspace", b"+get", b"-get",
    b"+config|get", b"-config", b"+client|id", b"+select|0", b"+select|1", b"-@dangerous",
    b"+@hash", b"(+get ~s*)", b"(-@all +@set %R~x*)", b"clearselectors", b"reset",
])


def _apply(user, rules):
    for rule in rules:
        try:
            user.apply(rule, False)
        except RuleError:
            pass
    user.changed()


def _permissions(user):
    # First arguments of a command allowed in full change nothing (and, as in Redis,
    # the description leaves them out: `+@all +select|0` reads back as `+@all`).
    return [(s.allkeys, s.allchannels, s.future, frozenset(s.allowed),
             {c: sorted(a) for c, a in s.firstargs.items()
              if not (s.allcommands or c in s.allowed)},
             sorted((p, f) for p, f, _ in s.patterns), sorted(s.channels))
            for s in user.selectors], user.enabled, user.nopass, sorted(user.passwords)


@settings(max_examples=60, deadline=None)
@given(st.lists(RULES, max_size=10))
def test_description_reads_back_to_the_same_user(rules):
    user = User(b"u")
    _apply(user, rules)
    words, _ = merge_selector_args(user.describe().encode().split(b" "))
    again = User(b"u")
    _apply(again, words)
    assert _permissions(again) == _permissions(user), user.describe()
    assert again.describe() == user.describe()


def test_checks_pick_redis_errors():
    user = User(b"u")
    _apply(user, [b"on", b"-@all", b"+get", b"+set", b"+publish", b"%R~r*", b"%W~w*",
                  b"&c*", b"(+hget ~h*)"])
    get, set_, hget, publish = (COMMANDS[n] for n in (b"get", b"set", b"hget", b"publish"))
    assert user.check(get, [b"get", b"r1"]) == (OK, 0)
    assert user.check(get, [b"get", b"w1"]) == (DENIED_KEY, 1)
    assert user.check(set_, [b"set", b"w1", b"v"]) == (OK, 0)          # OW: write only
    assert user.check(set_, [b"set", b"w1", b"v", b"GET"]) == (DENIED_KEY, 1)
    assert user.check(hget, [b"hget", b"h1", b"f"]) == (OK, 0)         # the selector
    assert user.check(hget, [b"hget", b"r1", b"f"]) == (DENIED_KEY, 1)
    assert user.check(COMMANDS[b"incr"], [b"incr", b"w1"]) == (DENIED_CMD, 0)
    assert user.check(publish, [b"publish", b"c1", b"m"]) == (OK, 0)
    assert user.check(publish, [b"publish", b"x", b"m"]) == (DENIED_CHANNEL, 1)
    assert user.restricted
    default = User(b"default")
    _apply(default, [b"on", b"nopass", b"+@all", b"~*", b"&*"])
    assert not default.restricted
