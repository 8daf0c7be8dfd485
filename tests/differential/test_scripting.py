"""EVAL & co. against redis-server: the conversions both ways (RESP2 and RESP3), the error
texts with their "script: <sha>, on @user_script:<line>." tail, the sandbox, the redis.*
helpers, shebang flags, the script cache and the cluster rules for keys.
"""
from tests.differential.collections_util import resp3


def ev(script, *args, numkeys=0):
    return ("EVAL", script, str(numkeys), *args)


REDIS_TO_LUA = [
    "return redis.call('set', 'k', 'v')",
    "return redis.call('get', 'k')",
    "return redis.call('get', 'missing')",
    "return type(redis.call('get', 'missing'))",
    "return redis.call('incr', 'n')",
    "return type(redis.call('incr', 'n'))",
    "redis.call('rpush', 'l', 'a', 'b', 'c') return redis.call('lrange', 'l', 0, -1)",
    "return #redis.call('lrange', 'l', 0, -1)",
    "return redis.call('ping').ok",
    "return redis.call('hgetall', 'h')",
    "redis.call('hset', 'h', 'f', 'v') return redis.call('hgetall', 'h')",
    "return redis.call('zadd', 'z', 1.5, 'm')",
    "return redis.call('zscore', 'z', 'm')",
    "return redis.call('blpop', 'nolist', 0)",
    "return {redis.call('exists', 'k'), redis.call('type', 'k')}",
    "return redis.call('type', 'k').ok",
]

LUA_TO_REDIS = [
    "return 1", "return 3.99", "return -3.99", "return 0.5", "return 1e20", "return -1e300",
    "return 'str'", "return true", "return false", "return nil",
    "return {1, 2, 3}", "return {1, 2, nil, 4}", "return {1, {2, {3, 'x'}}, false}",
    "return {}", "return {ok = 'FINE'}", "return {err = 'MYERR custom'}",
    "return {err = 'nocode'}", "return {ok = 'a\\r\\nb'}", "return {ok = 1}",
    "return {1, true, false, 'a'}", "return {x = 1, y = 2}", "return {double = 3.5}",
    "return {map = {a = 1}}", "return {set = {a = true}}", "return {big_number = '123'}",
    "return redis.status_reply('STATUS')", "return redis.error_reply('MYCODE text')",
    "return redis.error_reply('-DASH code')", "return redis.error_reply('plain')",
    "return redis.error_reply(1)", "return redis.status_reply()",
    "return function() end",
]

ERRORS = [
    "return redis.call('incr', 'k')",
    "return redis.pcall('incr', 'k')",
    "return redis.call('nosuchcommand')",
    "return redis.call('get')",
    "return redis.call()",
    "return redis.call('get', {})",
    "return redis.call('get', true)",
    "return redis.call('multi')",
    "return redis.call('eval', 'return 1', 0)",
    "error('boom')",
    "error({err = 'TABLE err'})",
    "local x = nil; return x.field",
    "\n\nreturn redis.call('incr', 'k')",
    "local ok, e = pcall(function() redis.call('incr', 'k') end) return e",
    "local ok, e = pcall(function() redis.call('incr', 'k') end) return ok",
    "local ok, e = pcall(error, 'x') return e",
    "return pcall(function() error({err = 'T'}) end)",
    "return 'unfinished",
    "return 1 +",
    "redis.log(redis.LOG_WARNING, 'from a script')",
    "return tostring(redis.log(redis.LOG_WARNING, 'x'))",
    "redis.log(9, 'x')",
    "redis.log('a', 'x')",
    "redis.log(1)",
    "redis.setresp(4)",
    "redis.setresp()",
    "redis.set_repl(9)",
    "redis.set_repl()",
    "return redis.sha1hex()",
]

SANDBOX = [
    "x = 1", "return undefined_global", "_G.x = 1", "redis.x = 1", "string.x = 1",
    "math.pi = 3", "table.insert = nil", "return os", "return io", "return debug",
    "return dofile", "return loadfile", "return print", "return require",
    "return type(loadstring)", "return type(pcall)", "return type(coroutine)",
    "return type(string.format)", "return string.format('%d-%s', 5, 'x')",
    "return math.floor(2.7)", "return table.concat({'a', 'b'}, ',')",
    "return _VERSION", "return type(getfenv)", "return type(setmetatable)",
    "local t = setmetatable({}, {__index = function() return 'meta' end}) return t.x",
    "return type(newproxy)", "return type(collectgarbage)", "return type(gcinfo)",
    "local f = loadstring('return 7') return f()", "return select('#', 1, 2, 3)",
    "return {unpack({1, 2, 3})}", "return tostring(nil)", "return tonumber('0x10')",
]

HELPERS = [
    "return redis.sha1hex('')", "return redis.sha1hex('abc')", "return redis.sha1hex(123)",
    "return redis.REDIS_VERSION", "return redis.REDIS_VERSION_NUM",
    "return redis.replicate_commands()", "return redis.breakpoint()",
    "return redis.debug('x')", "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, "
    "redis.REPL_REPLICA, redis.REPL_ALL}",
    "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}",
    "redis.set_repl(redis.REPL_ALL) return 1",
    "redis.setresp(2) return redis.call('hgetall', 'h')",
]


def test_redis_replies_become_lua_values(diff):
    for script in REDIS_TO_LUA:
        diff.check(*ev(script))


def test_lua_values_become_replies(diff):
    for script in LUA_TO_REDIS:
        diff.check(*ev(script))


def test_lua_values_become_resp3_replies(diff):
    with resp3(diff):
        for script in LUA_TO_REDIS:
            diff.check(*ev(script))
        diff.check(*ev("redis.setresp(3) return true"))
        diff.check(*ev("redis.setresp(3) return false"))
        diff.check(*ev("redis.setresp(3) return {map = {a = 1}}"))


def test_resp3_replies_in_scripts(diff):
    diff.check("HSET", "h", "f", "v")
    diff.check("SADD", "s", "m")
    diff.check("ZADD", "z", "1.5", "m")
    for script in [
        "redis.setresp(3) return redis.call('hgetall', 'h')",
        "redis.setresp(3) return redis.call('hgetall', 'h').map.f",
        "redis.setresp(3) return redis.call('smembers', 's').set.m",
        "redis.setresp(3) return redis.call('zscore', 'z', 'm').double",
        "redis.setresp(3) return type(redis.call('get', 'missing'))",
        "redis.setresp(3) return redis.call('zscore', 'z', 'm')",
        "redis.setresp(3) return redis.call('exists', 'h')",
    ]:
        diff.check(*ev(script))
        with resp3(diff):
            diff.check(*ev(script))


def test_error_texts(diff):
    diff.check("SET", "k", "notanumber")
    for script in ERRORS:
        diff.check(*ev(script))


def test_sandbox(diff):
    for script in SANDBOX:
        diff.check(*ev(script))


def test_helpers(diff):
    diff.check("HSET", "h", "f", "v")
    for script in HELPERS:
        diff.check(*ev(script))


def test_keys_and_argv(diff):
    diff.check(*ev("return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}",
                   "{t}a", "{t}b", "x", "y", numkeys=2))
    diff.check(*ev("return redis.call('set', KEYS[1], ARGV[1])", "{t}k", "v", numkeys=1))
    diff.check(*ev("return redis.call('get', KEYS[1])", "{t}k", numkeys=1))
    diff.check(*ev("redis.call('set', 'num', 0.1) return redis.call('get', 'num')"))
    diff.check(*ev("redis.call('set', 'num', 1e100) return redis.call('get', 'num')"))
    for numkeys in ["-1", "3", "x", "99999999999999999999"]:
        diff.check("EVAL", "return 1", numkeys, "a")
    diff.check("EVAL", "return 1")


def test_read_only_scripts_and_shebang(diff):
    for cmd in [
        ("EVAL_RO", "return redis.call('set', 'a', 'b')", "0"),
        ("EVAL_RO", "return redis.call('get', 'a')", "0"),
        ("EVAL_RO", "return redis.call('publish', 'c', 'm')", "0"),
        ev("#!lua flags=no-writes\nreturn redis.call('set', 'a', 'b')"),
        ev("#!lua flags=no-writes\nreturn redis.call('get', 'a')"),
        ev("#!lua\nreturn redis.call('set', 'a', 'b')"),
        ("EVAL_RO", "#!lua\nreturn 1", "0"),
        ("EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"),
        ev("#!lua name=x\nreturn 1"), ev("#!lua flags=bad\nreturn 1"),
        ev("#!python\nreturn 1"), ev("#!lua"), ev("#!lua flags=no-cluster\nreturn 1"),
        ev("#!lua flags=allow-oom,allow-stale\nreturn 2"),
        ev("#!lua flags=no-writes\n\nreturn x"),
    ]:
        diff.check(*cmd)


def test_script_cache(diff):
    diff.check("SCRIPT", "FLUSH")
    sha = diff.check("SCRIPT", "LOAD", "return 'cached'")[1].decode()
    diff.check("EVALSHA", sha, "0")
    diff.check("EVALSHA", sha.upper(), "0")
    diff.check("EVALSHA_RO", sha, "0")
    diff.check("SCRIPT", "EXISTS", sha, sha.upper(), "f" * 40, "short")
    diff.check("EVALSHA", "f" * 40, "0")
    diff.check("EVALSHA", "short", "0")
    diff.check("SCRIPT", "LOAD", "return 'unfinished")
    diff.check("SCRIPT", "FLUSH", "ASYNC")
    diff.check("SCRIPT", "EXISTS", sha)
    diff.check("EVALSHA", sha, "0")
    diff.check(*ev("return 'cached'"))          # EVAL caches it again
    diff.check("EVALSHA", sha, "0")
    diff.check("SCRIPT", "FLUSH", "SYNC")
    diff.check("SCRIPT", "FLUSH", "bad")
    diff.check("SCRIPT", "FLUSH", "SYNC", "x")
    diff.check("SCRIPT", "HELP")
    diff.check("SCRIPT", "NOPE")
    diff.check("SCRIPT")


def test_cluster_key_rules(diff):
    # Declared keys in two slots: the ordinary CROSSSLOT, before the script runs.
    diff.check(*ev("return 1", "a", "b", numkeys=2))
    # Undeclared keys in more than one slot: refused inside shebang scripts only.
    diff.check(*ev("redis.call('get', 'a') return redis.call('get', 'b')"))
    diff.check(*ev("#!lua\nredis.call('get', 'a') return redis.call('get', 'b')"))
    diff.check(*ev("#!lua flags=allow-cross-slot-keys\nredis.call('get', 'a') "
                   "return redis.call('get', 'b')"))
    diff.check(*ev("#!lua\nredis.call('get', KEYS[1]) return redis.call('get', 'b')",
                   "a", numkeys=1))
    diff.check(*ev("#!lua\nreturn redis.pcall('mget', 'a', 'b')"))


def test_getkeys(diff):
    diff.check("COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c")
    diff.check("COMMAND", "GETKEYS", "EVALSHA", "x" * 40, "1", "a", "b")
    diff.check("COMMAND", "GETKEYS", "EVAL", "return 1", "0", "a")


def test_blocking_commands_in_scripts(diff):
    diff.check("XADD", "st", "1-1", "f", "v")
    diff.check("XGROUP", "CREATE", "st", "g", "0")
    for script in [
        "return redis.call('blpop', 'nolist', 0)",
        "return redis.call('brpoplpush', 'nolist', 'other', 0)",
        "return redis.call('bzpopmin', 'nozset', 0)",
        "return redis.call('xread', 'BLOCK', 0, 'STREAMS', 'st', '$')",
        "return redis.call('XREAD', 'block', 10, 'STREAMS', 'st', '0')",
        "return redis.call('xreadgroup', 'GROUP', 'g', 'c', 'BLOCK', 0, 'STREAMS', 'st', '>')",
        "return redis.call('xread', 'COUNT', 1, 'STREAMS', 'st', '0')",
        "return redis.call('xreadgroup', 'GROUP', 'g', 'c', 'STREAMS', 'st', '>')",
    ]:
        diff.check(*ev(script))


def test_bit_library(diff):
    for script in [
        "return {bit.tobit(0xffffffff), bit.tobit(2^40 + 5), bit.tobit(1.5), bit.tobit(2.5),"
        " bit.tobit(-1.5), bit.tobit(-2^31), bit.tobit(2^31), bit.tobit('0x10')}",
        "return {bit.tohex(65535), bit.tohex(-1, -4), bit.tohex(255, 3), bit.tohex(1, 0),"
        " bit.tohex(1, 9), bit.tohex(-1), bit.tohex(0x1234, -8)}",
        "return {bit.band(7, 3, 2), bit.bor(1, 2, 4), bit.bxor(5, 1), bit.bnot(0),"
        " bit.bnot(-1), bit.band(-1), bit.band('12', 4)}",
        "return {bit.lshift(1, 33), bit.lshift(1, 31), bit.rshift(-1, 28), bit.rshift(1, 32),"
        " bit.arshift(-256, 4), bit.arshift(256, 36)}",
        "return {bit.rol(0x12345678, 12), bit.ror(0x12345678, 12), bit.rol(1, 0),"
        " bit.ror(1, 32), bit.bswap(0x12345678), bit.bswap(-1)}",
        "return bit.tobit(0/0)", "return bit.tobit(1/0)",
        "return bit.band('x')", "return bit.band()", "return bit.bor(1, {})",
        "return bit.lshift(1)", "return bit.tohex(1, 'x')", "return bit.band(1, nil)",
        "local ok, e = pcall(bit.band, 'x') return e",
        "local x = bit.band('x')", "\nreturn bit.band(true)",
        "bit.x = 1", "return type(bit)",
    ]:
        diff.check(*ev(script))


def test_cjson_library(diff):
    for script in [
        "return cjson.encode({1, 2, 3, 'a/b', true, {x = 1.5}, 1e20, 0.1, 2^53})",
        "return cjson.encode({})", "return cjson.encode({[1] = 1, [3] = 3})",
        "return cjson.encode({[1] = 1, [30] = 3})", "return cjson.encode(0/0)",
        "return cjson.encode(function() end)", "return cjson.encode({[true] = 1})",
        "return cjson.encode('\"\\\\\\n\\1\\127\\200')", "return cjson.encode({[1.5] = 1})",
        "return cjson.encode(cjson.null)", "return cjson.encode({a = {b = {c = 'd'}}})",
        "return cjson.encode(nil)", "return cjson.encode()", "return cjson.encode(1, 2)",
        "return cjson.decode('[1,2,{\"a\":null}]')[3].a == cjson.null",
        "return cjson.decode('{\"a\":[1,2.5,\"x\",true,false]}').a",
        "return cjson.decode('\"text\"')", "return cjson.decode('12')",
        "return cjson.decode('x')", "return cjson.decode()", "return cjson.decode({})",
        "return type(cjson.null)", "return cjson.null",
        "local t = cjson.decode('{\"k\":\"v\",\"n\":1}') return {t.k, t.n}",
        "return cjson.encode(cjson.decode('[1,\"two\",[3],{\"four\":4}]'))",
    ]:
        diff.check(*ev(script))


def test_cmsgpack_library(diff):
    for script in [
        "return cmsgpack.pack(1, -1, 127, 128, 255, 256, 65535, 65536, 2^32, -32, -33, -128,"
        " -129, -32768, -32769, -2^31, -2^31 - 1, 2^53)",
        "return cmsgpack.pack(0.5, 0.1, 1e300, -2.5, 1/0)",
        "return cmsgpack.pack('', 'abc', string.rep('x', 31), string.rep('x', 32),"
        " string.rep('y', 300), string.rep('z', 70000))",
        "return cmsgpack.pack(true, false, nil, {}, {1, 2, 3}, {1, nil, 3})",
        "return cmsgpack.pack({a = 1}, {[2] = 'x'}, {1, 2, k = 'v'})",
        "local t = {} for i = 1, 20 do t[i] = i end return cmsgpack.pack(t)",
        "local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)",
        "return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3, 4}, 0.5))}",
        "return cmsgpack.unpack(cmsgpack.pack({1, 2, {3}}))",
        "return cmsgpack.unpack(cmsgpack.pack({k = 'v'})).k",
        "return type(cmsgpack.unpack(cmsgpack.pack(nil)))",
        "return cmsgpack.pack()", "return cmsgpack.unpack()",
    ]:
        diff.check(*ev(script))


def test_struct_library(diff):
    for script in [
        "return struct.pack('>i', 1)", "return struct.pack('<i', -2)",
        "return struct.pack('bBhHlLT', -1, 255, -2, 65535, -3, 7, 9)",
        "return struct.pack('>I3', 65537)", "return struct.pack('<i12', -1)",
        "return struct.pack('>d', 1.5)", "return struct.pack('<f', 0.1)",
        "return struct.pack('c3', 'abcdef')", "return struct.pack('c0', 'abc')",
        "return struct.pack('s', 'zero')", "return struct.pack('!4 b i', 1, 2)",
        "return struct.pack('!bd', 1, 2)", "return struct.pack('bxb', 1, 2)",
        "return {struct.unpack('>i', struct.pack('>i', -5))}",
        "return {struct.unpack('<I2h', struct.pack('<I2h', 513, -7))}",
        "return {struct.unpack('bc0', struct.pack('b', 3) .. 'xyzw')}",
        "return {struct.unpack('s', 'abc\\0def')}", "return {struct.unpack('c2', 'abcd', 2)}",
        "return {struct.unpack('>d', struct.pack('>d', 2.5))}",
        "return {struct.size('>i'), struct.size('!8bd'), struct.size('c5'), struct.size('lh')}",
        "return struct.size('s')", "return struct.size('c0')",
        "return struct.pack('i', 'x')", "return struct.pack('c3', 'ab')",
        "return struct.pack('q', 1)", "return struct.pack('!3i', 1)",
        "return struct.pack('i33', 1)", "return struct.unpack('i', 'ab')",
        "return struct.unpack('s', 'abc')", "return struct.unpack('c0', 'abc')",
        "return struct.unpack('b', 'a', 0)", "return struct.pack()", "return struct.unpack('b')",
    ]:
        diff.check(*ev(script))
