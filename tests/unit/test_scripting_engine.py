"""The Lua engine in-process (no server): what the differential tests cannot ask
redis-server (error({}) crashes redis-server 7.0.15) and the kill path of the hook."""
import pytest

from commands.scripting import lua_engine
from commands.scripting.lua_engine import LuaEngine, ScriptRun


class _Settings:
    busy_reply_threshold = 0
    loglevel = "notice"


class _Server:
    router = None
    propagator = None
    monitors = ()
    masterdown = False
    yielding_script = None
    settings = _Settings()


class _Client:
    resp3 = False
    prop_depth = 0
    is_master_link = False
    deny_blocking = False
    script_run = None


@pytest.fixture
def engine():
    return LuaEngine(_Server())


def run(engine, body, killed=False):
    script = ScriptRun(_Client(), "f" * 40, False, True)
    script.killed = killed
    return engine.execute(engine.compile(body), script, [b"k"], [b"a"])


def test_values(engine):
    assert run(engine, b"return {KEYS[1], ARGV[1], 1.9, true, false, {ok='S'}}") == \
        [b"k", b"a", 1, 1, None, "S"]


def test_an_error_without_a_message_does_not_crash(engine):
    reply = run(engine, b"error({})")
    assert str(reply).startswith("ERR Error running script (call to f_ffff")


def test_a_killed_script_stops_even_inside_pcall(engine, monkeypatch):
    monkeypatch.setattr(lua_engine, "YIELD_INTERVAL", 0)
    reply = run(engine, b"pcall(function() while true do end end)\nreturn 1", killed=True)
    assert str(reply) == ("ERR Script killed by user with SCRIPT KILL... script: %s, "
                          "on @user_script:2." % ("f" * 40))
    # The hook is gone afterwards: the next script runs normally.
    assert run(engine, b"local n = 0 for i = 1, 300000 do n = n + 1 end return n") == 300000


def test_globals_stay_protected_after_errors(engine):
    run(engine, b"error('x')")
    assert str(run(engine, b"x = 1")).startswith(
        "ERR user_script:1: Attempt to modify a readonly table")
