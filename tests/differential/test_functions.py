"""FUNCTION and FCALL against redis-server: every FUNCTION LOAD error text (metadata,
names, engines, register_function's checks, the load-time sandbox, the timeout), the
LIST / STATS / DUMP / RESTORE replies in RESP2 and RESP3, FCALL's conversions and
errors, flags, and DUMP payloads taken across in both directions.

FLUSHALL leaves functions alone (as in Redis), so each test starts from FUNCTION FLUSH.
"""
import pytest

from tests.differential.collections_util import resp3

LIB = ("#!lua name=lib\n"
       "redis.register_function('echo', function(keys, args) return {keys, args} end)\n"
       "redis.register_function{function_name='ro', callback=function(keys) "
       "return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}\n"
       "redis.register_function('setter', function(keys, args) "
       "return redis.call('set', keys[1], args[1]) end)\n")


def lib(name, body):
    return "#!lua name=%s\n%s" % (name, body)


def reg(name, callback="function() return 1 end"):
    return "redis.register_function('%s', %s)" % (name, callback)


def normalized(reply):
    """FUNCTION LIST with its order removed: Redis lists libraries and functions in dict
    order (nondeterministic_output_order); arrays of aggregates are sorted."""
    kind, value = reply
    if kind == "%" and isinstance(value, list):
        return kind, sorted(((normalized(k), normalized(v)) for k, v in value), key=repr)
    if kind == "*" and isinstance(value, list):
        items = [normalized(item) for item in value]
        if all(item[0] in "*%" for item in items):
            items = sorted(items, key=repr)
        return kind, items
    return reply


def check_list(diff, *args):
    ours, ref = diff.both(*args)
    assert normalized(ours) == normalized(ref), \
        "command %r:\n  ours:  %r\n  redis: %r" % (args, ours, ref)


@pytest.fixture
def fdiff(diff):
    diff.check("FUNCTION", "FLUSH")
    yield diff
    diff.check("FUNCTION", "FLUSH")


LOAD_ERRORS = [
    "x", "#!lua", "#!lua\n", "#!\n", "#!lua x=1\n", "#!lua name=a name=b\n", "#!lua name=\n",
    "#!lua name=a-b\n", "#!js name=ab\n" + reg("f"), "#!lua name=ab \"\n", "#!lua name=ab",
    lib("c", "return 1"), lib("c", "local x = nil + 1"), lib("c", "error('x')"),
    lib("c", "x = 1"), lib("c", "redis.call('set', 'x', 1)"), lib("c", "string.len('a')"),
    lib("c", "redis.foo = 1"), lib("c", "return 'unfinished"),
    lib("c", reg("g") + " " + reg("g")), lib("c", reg("g-")), lib("c", reg("")),
    lib("c", "redis.register_function()"), lib("c", "redis.register_function(1, 2)"),
    lib("c", "redis.register_function('x', 2)"), lib("c", "redis.register_function({})"),
    lib("c", "redis.register_function('x')"),
    lib("c", "redis.register_function('x', function() end, 3)"),
    lib("c", "redis.register_function{function_name='x'}"),
    lib("c", "redis.register_function{callback=function() end}"),
    lib("c", "redis.register_function{function_name='x', callback=function() end, foo=1}"),
    lib("c", "redis.register_function{function_name='x', callback=function() end, "
             "flags='no-writes'}"),
    lib("c", "redis.register_function{function_name='x', callback=function() end, "
             "flags={'no-writes', 'bad'}}"),
    lib("c", "redis.register_function{function_name='x', callback=function() end, "
             "flags={{}}}"),
    lib("c", "redis.register_function{function_name={}, callback=function() end}"),
    lib("c", "redis.register_function{function_name='x', callback=1}"),
    lib("c", "redis.register_function{function_name='x', callback=function() end, "
             "description={}}"),
    lib("c", "redis.log(redis.LOG_WARNING, redis.REDIS_VERSION) redis.setresp(3)"),
    lib("c", "while true do end"),
]


def test_load_errors(fdiff):
    for code in LOAD_ERRORS:
        fdiff.check("FUNCTION", "LOAD", code)
    fdiff.check("FUNCTION", "LOAD", "foo", "x")
    fdiff.check("FUNCTION", "LOAD", "replace")
    fdiff.check("FUNCTION", "LOAD")
    fdiff.check("FUNCTION", "LIST")


def test_load_replace_and_clashes(fdiff):
    fdiff.check("FUNCTION", "LOAD", lib("a", reg("f")))
    fdiff.check("FUNCTION", "LOAD", lib("a", reg("g")))
    fdiff.check("FUNCTION", "LOAD", lib("b", reg("f")))
    fdiff.check("FUNCTION", "LOAD", lib("b", reg("F")))        # names ignore case
    fdiff.check("FUNCTION", "LOAD", "REPLACE", lib("a", reg("f2", "function() return 2 end")))
    fdiff.check("FCALL", "f", "0")
    fdiff.check("FCALL", "F2", "0")
    fdiff.check("FUNCTION", "LOAD", "replace", lib("b", reg("f2")))   # clash: a keeps it
    fdiff.check("FCALL", "f2", "0")
    fdiff.check("FUNCTION", "LOAD", "#!LUA name=up\n" + reg("u"))
    fdiff.check("FUNCTION", "LIST", "LIBRARYNAME", "up")
    fdiff.check("FUNCTION", "DELETE", "up")
    fdiff.check("FUNCTION", "DELETE", "up")
    fdiff.check("FUNCTION", "DELETE", "A")
    fdiff.check("FUNCTION", "DELETE")
    fdiff.check("FUNCTION", "STATS")


def test_list_and_stats_shapes(fdiff):
    fdiff.check("FUNCTION", "LOAD", LIB)
    fdiff.check("FUNCTION", "LOAD", lib("flags", "redis.register_function{function_name="
                                        "'fl', callback=function() end, flags={'no-writes',"
                                        " 'allow-oom', 'allow-stale', 'no-cluster', "
                                        "'allow-cross-slot-keys'}}"))
    for args in [("LIBRARYNAME", "lib"), ("LIBRARYNAME", "LIB", "WITHCODE"),
                 ("WITHCODE", "LIBRARYNAME", "fl*"), ("LIBRARYNAME", "nomatch"),
                 ("LIBRARYNAME",), ("LIBRARYNAME", "a", "LIBRARYNAME", "b"),
                 ("WITHCODE", "WITHCODE"), ("bogus",)]:
        check_list(fdiff, "FUNCTION", "LIST", *args)
        with resp3(fdiff):
            check_list(fdiff, "FUNCTION", "LIST", *args)
    fdiff.check("FUNCTION", "STATS")
    with resp3(fdiff):
        fdiff.check("FUNCTION", "STATS")
    fdiff.check("FUNCTION", "STATS", "x")
    fdiff.check("FUNCTION", "KILL")
    fdiff.check("FUNCTION", "HELP")
    fdiff.check("FUNCTION")
    fdiff.check("FUNCTION", "DUMP", "x")
    fdiff.check("FUNCTION", "DELETE", "a", "b")
    fdiff.check("FUNCTION", "NOPE")
    fdiff.check("FUNCTION", "FLUSH", "bad")
    fdiff.check("FUNCTION", "FLUSH", "SYNC", "x")
    fdiff.check("FUNCTION", "FLUSH", "ASYNC")
    fdiff.check("FUNCTION", "LIST")


def test_fcall(fdiff):
    fdiff.check("FUNCTION", "LOAD", LIB)
    fdiff.check("FCALL", "echo", "2", "{t}a", "{t}b", "x", "y")
    fdiff.check("FCALL", "ECHO", "0")
    fdiff.check("FCALL", "setter", "1", "k", "v")
    fdiff.check("FCALL", "ro", "1", "k")
    fdiff.check("FCALL_RO", "ro", "1", "k")
    fdiff.check("FCALL_RO", "setter", "1", "k", "v")
    fdiff.check("FCALL_RO", "echo", "0")
    fdiff.check("FCALL", "nosuch", "0")
    for numkeys in ["-1", "3", "x", "99999999999999999999"]:
        fdiff.check("FCALL", "echo", numkeys, "a")
    fdiff.check("FCALL", "echo")
    fdiff.check("FCALL", "echo", "2", "a", "b")              # CROSSSLOT
    # In a transaction: queued, then run with the rest.
    for command in [("MULTI",), ("FCALL", "setter", "1", "{t}k", "m"),
                    ("FUNCTION", "LOAD", lib("inmulti", reg("im"))),
                    ("FCALL", "ro", "1", "{t}k"), ("FCALL", "im", "0"), ("EXEC",)]:
        fdiff.check(*command)
    # The two Lua VMs are apart: SCRIPT FLUSH leaves functions, FUNCTION FLUSH scripts.
    sha = fdiff.check("SCRIPT", "LOAD", "return 'script'")[1].decode()
    fdiff.check("SCRIPT", "FLUSH")
    fdiff.check("FCALL", "echo", "1", "k", "a")
    fdiff.check("SCRIPT", "LOAD", "return 'script'")
    fdiff.check("FUNCTION", "FLUSH")
    fdiff.check("EVALSHA", sha, "0")


def test_fcall_conversions_and_errors(fdiff):
    cases = ["return 3.99", "return {1, 2, nil, 4}", "return {ok = 'FINE'}",
             "return {err = 'MYERR custom'}", "return redis.error_reply('X y')",
             "return true", "return false", "return {double = 3.5}",
             "return {map = {a = 1}}", "return {set = {a = true}}",
             "return {big_number = '123'}", "redis.setresp(3) return redis.call('hgetall', 'h')",
             "return redis.call('incr', 'h')", "return redis.pcall('incr', 'h')",
             "error('boom')", "return nosuch_global", "return KEYS", "return ARGV",
             "return redis.register_function", "redis.register_function('z', print)",
             "return redis.call('fcall', 'f0', 0)", "return redis.call('function', 'list')",
             "redis.call('get', 'a') return redis.call('get', 'b')",
             "return redis.setresp(3)", "x = 1", "return type(cjson)",
             "return cjson.encode({1, 'a'})", "return redis.sha1hex('x')"]
    body = "\n".join("redis.register_function('f%d', function(keys, args) %s end)" % (i, c)
                     for i, c in enumerate(cases))
    fdiff.check("FUNCTION", "LOAD", lib("conv", body))
    fdiff.check("HSET", "h", "f", "v")
    for i in range(len(cases)):
        fdiff.check("FCALL", "f%d" % i, "0")
    with resp3(fdiff):
        for i in range(len(cases)):
            fdiff.check("FCALL", "f%d" % i, "0")
    fdiff.check("FUNCTION", "LOAD", lib("cross", "redis.register_function{function_name="
                                        "'cs', callback=function() redis.call('get', 'a') "
                                        "return redis.call('get', 'b') end, flags="
                                        "{'allow-cross-slot-keys'}}"))
    fdiff.check("FCALL", "cs", "0")


def test_flags(fdiff):
    fdiff.check("FUNCTION", "LOAD", lib("fl", "\n".join([
        "redis.register_function{function_name='nc', callback=function() return 1 end, "
        "flags={'no-cluster'}}",
        "redis.register_function{function_name='nw', callback=function(k) "
        "return redis.call('set', k[1], 1) end, flags={'no-writes'}}",
        "redis.register_function{function_name='nw2', callback=function(k) "
        "return redis.pcall('publish', 'c', 'm') end, flags={'no-writes'}}",
        "redis.register_function{function_name='oom', callback=function() return 1 end, "
        "flags={'allow-oom', 'allow-stale'}}"])))
    fdiff.check("FCALL", "nc", "0")            # both run in cluster mode
    fdiff.check("FCALL", "nw", "1", "k")
    fdiff.check("FCALL", "nw2", "0")
    fdiff.check("FCALL_RO", "oom", "0")
    fdiff.check("FCALL", "oom", "0")


def test_dump_and_restore(fdiff):
    fdiff.check("FUNCTION", "DUMP")                         # empty: just the footer
    fdiff.check("FUNCTION", "LOAD", LIB)
    fdiff.check("FUNCTION", "LOAD", lib("other", reg("o") + "\n-- " + "padding " * 20))
    ours = fdiff.ours.call("FUNCTION", "DUMP")[1]
    theirs = fdiff.redis.call("FUNCTION", "DUMP")[1]
    # Redis's dict order may differ from our load order: each side takes the other's.
    assert ours[-10:-8] == theirs[-10:-8]                   # RDB version
    for payload in (ours, theirs):
        fdiff.check("FUNCTION", "RESTORE", payload, "FLUSH")
        # APPEND: both libraries clash; which one the error names is dict order.
        for reply in fdiff.both("FUNCTION", "RESTORE", payload):
            assert reply[0] == "-" and reply[1].endswith("already exists")
        fdiff.check("FUNCTION", "RESTORE", payload, "REPLACE")
        fdiff.check("FUNCTION", "RESTORE", payload, "FLUSH")
        fdiff.check("FUNCTION", "RESTORE", payload, "bogus")
        fdiff.check("FUNCTION", "RESTORE", payload, "FLUSH", "x")
        fdiff.check("FCALL", "echo", "1", "k", "a")
        fdiff.check("FUNCTION", "FLUSH")
        fdiff.check("FUNCTION", "RESTORE", payload)
        check_list(fdiff, "FUNCTION", "LIST", "LIBRARYNAME", "lib", "WITHCODE")
        fdiff.check("FUNCTION", "FLUSH")
    bad = bytearray(ours)
    bad[3] ^= 0xFF
    fdiff.check("FUNCTION", "RESTORE", bytes(bad))
    fdiff.check("FUNCTION", "RESTORE", "short")
    fdiff.check("FUNCTION", "RESTORE", ours[:5] + ours[-10:])   # wrong checksum
    # A payload of a key, not of functions.
    fdiff.check("SET", "k", "v")
    key_dump = fdiff.redis.call("DUMP", "k")[1]
    fdiff.check("FUNCTION", "RESTORE", key_dump)
    # One library's payload, the same bytes from both (a single library has one order).
    fdiff.check("FUNCTION", "LOAD", LIB)
    assert fdiff.check("FUNCTION", "DUMP")[0] == "$"


def info_counts(client) -> dict:
    text = client.call("INFO", "memory")[1].decode()
    fields = dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)
    return {name: fields[name] for name in
            ("number_of_cached_scripts", "number_of_functions", "number_of_libraries")}


def test_info_memory_counts(fdiff):
    fdiff.check("SCRIPT", "FLUSH")
    fdiff.check("FUNCTION", "LOAD", LIB)
    fdiff.check("SCRIPT", "LOAD", "return 1")
    fdiff.check("EVAL", "return 2", "0")
    assert info_counts(fdiff.ours) == info_counts(fdiff.redis) == {
        "number_of_cached_scripts": "2", "number_of_functions": "3",
        "number_of_libraries": "1"}
    text = fdiff.ours.call("INFO", "memory")[1].decode()
    assert int(text.split("used_memory_vm_functions:")[1].split("\r")[0]) > 10000
    assert int(text.split("used_memory_scripts_eval:")[1].split("\r")[0]) > 80
    fdiff.check("SCRIPT", "FLUSH")
