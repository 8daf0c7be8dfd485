"""Function libraries beyond one node's replies: a replica gets them (full sync through
the RDB, then FUNCTION LOAD / DELETE / RESTORE / FLUSH on the stream, FCALL's effects);
the AOF and the RDB keep them over a restart; redis-server loads our RDB with libraries
and we load its; FCALL in a two-node cluster through redis-py's RedisCluster, with
MOVED and CROSSSLOT; FUNCTION KILL of a busy function while another client gets -BUSY,
side by side with redis-server.
"""
import os
import shutil
import subprocess

import pytest
from redis.cluster import RedisCluster

from commands.rdb import FunctionLibrary, KeyEntry, RdbReader
from tests.helpers import RawClient, start_node, start_redis, wait_until
from tests.integration.cluster_helpers import form_cluster, start_nodes, stop_all
from tests.integration.test_replication import attach, wait_converged, wait_link_up

LIB_A = ("#!lua name=liba\n"
         "redis.register_function('seta', function(keys, args) "
         "return redis.call('set', keys[1], args[1]) end)\n"
         "redis.register_function{function_name='geta', callback=function(keys) "
         "return redis.call('get', keys[1]) end, flags={'no-writes'}}\n")
LIB_B = "#!lua name=libb\nredis.register_function('b', function() return 'b' end)\n"


def names(client) -> set:
    reply = client.call("FUNCTION", "LIST")[1]
    return {dict(zip(lib[1][::2], lib[1][1::2]))[("$", b"library_name")][1] for lib in reply}


def restarted(proc, procs, *extra):
    """The node again on its port and folder; added to `procs`, which the test's
    teardown stops. (Keyless commands only after it: its slots come back with its
    nodes.conf, cluster_state:ok a while later.)"""
    proc.stop()
    new = start_node(*extra, port=proc.port, cwd=proc.cwd, slots=False, wait=False)
    procs.append(new)
    new.wait_ready()
    return new, RawClient(new.port)


# ---------------------------------------------------------------- replica, AOF, RDB

def test_replica_aof_and_rdb_keep_libraries():
    procs = []
    try:
        replica = start_node(slots=False, wait=False)     # starts while the master does
        procs.append(replica)
        master = start_node("--appendonly", "yes")
        procs.append(master)
        replica.wait_ready()
        mc = RawClient(master.port)
        assert mc.call("FUNCTION", "LOAD", LIB_A) == ("$", b"liba")
        assert mc.call("FCALL", "seta", "1", "{k}1", "v1") == ("+", "OK")
        # The full sync carries liba through the RDB; the rest comes on the stream.
        mc, rc = attach(master.port, replica.port)
        wait_link_up(rc)
        assert names(rc) == {b"liba"}
        assert mc.call("FUNCTION", "LOAD", LIB_B) == ("$", b"libb")
        assert mc.call("FCALL", "seta", "1", "{k}2", "v2") == ("+", "OK")
        dump = mc.call("FUNCTION", "DUMP")[1]
        assert mc.call("FUNCTION", "DELETE", "libb") == ("+", "OK")
        wait_converged(mc, rc)
        assert names(rc) == {b"liba"}
        assert rc.call("READONLY") == ("+", "OK")
        assert rc.call("GET", "{k}2") == ("$", b"v2")
        assert rc.call("FCALL_RO", "geta", "1", "{k}1") == ("$", b"v1")
        assert rc.call("FUNCTION", "LOAD", LIB_B)[1].startswith("READONLY")
        assert mc.call("FUNCTION", "RESTORE", dump, "REPLACE") == ("+", "OK")
        wait_converged(mc, rc)
        assert names(rc) == {b"liba", b"libb"}

        # A rewrite puts the libraries first (RDB preamble), and the AOF alone restores.
        assert mc.call("BGREWRITEAOF")[0] == "+"
        wait_until(lambda: b"aof_rewrite_in_progress:0" in mc.call("INFO", "persistence")[1]
                   and b"aof_rewrite_scheduled:0" in mc.call("INFO", "persistence")[1],
                   timeout=10, message="the rewrite")
        assert mc.call("FUNCTION", "DELETE", "libb") == ("+", "OK")  # in the incr file
        mc.close()
        master, mc = restarted(master, procs, "--appendonly", "yes")
        assert names(mc) == {b"liba"}
        assert mc.call("DBSIZE") == (":", 2)

        # Without the AOF: SAVE's RDB holds them.
        assert mc.call("FUNCTION", "LOAD", LIB_B) == ("$", b"libb")
        assert mc.call("SAVE") == ("+", "OK")
        mc.close()
        master, mc = restarted(master, procs, "--appendonly", "no")
        assert names(mc) == {b"liba", b"libb"}
        # A replica's full sync replaces its libraries with the master's.
        assert mc.call("FUNCTION", "DELETE", "liba") == ("+", "OK")
        assert mc.call("DEBUG", "RELOAD") == ("+", "OK")
        assert names(mc) == {b"libb"}
        mc.close()
    finally:
        stop_all(procs)


def test_rdb_with_libraries_crosses_to_and_from_redis():
    ours = start_node("--appendonly", "no")
    redis = None
    try:
        oc = RawClient(ours.port)
        assert oc.call("FUNCTION", "LOAD", LIB_A) == ("$", b"liba")
        assert oc.call("SET", "plain", "x") == ("+", "OK")
        assert oc.call("SAVE") == ("+", "OK")
        # redis-cli --functions-rdb: REPLCONF rdb-filter-only functions, libraries only.
        functions_rdb = os.path.join(ours.cwd, "functions.rdb")
        subprocess.run(["redis-cli", "-p", str(ours.port), "--functions-rdb", functions_rdb],
                       check=True, capture_output=True, timeout=20)
        with open(functions_rdb, "rb") as f:
            events = list(RdbReader(f))
        assert [e.code for e in events if isinstance(e, FunctionLibrary)] == \
            [LIB_A.encode()]
        assert not [e for e in events if isinstance(e, KeyEntry)]
        folder = os.path.join(ours.cwd, "to-redis")
        os.makedirs(folder)
        shutil.copy(os.path.join(ours.cwd, "dump.rdb"), folder)
        redis = start_redis("--dir", folder, "--dbfilename", "dump.rdb")
        cli = RawClient(redis.port)
        assert names(cli) == {b"liba"}
        assert cli.call("FCALL_RO", "geta", "1", "plain") == ("$", b"x")
        # And back: redis-server's RDB (libraries before the keys) into a fresh node.
        assert cli.call("FUNCTION", "LOAD", LIB_B) == ("$", b"libb")
        assert cli.call("SAVE") == ("+", "OK")
        ours_dump = oc.call("FUNCTION", "DUMP")[1]
        redis_dump = cli.call("FUNCTION", "DUMP")[1]
        cli.close()
        # Its file in place of ours; DEBUG RELOAD NOSAVE loads it (a start-up load is
        # in the test above).
        shutil.copy(os.path.join(folder, "dump.rdb"), os.path.join(ours.cwd, "dump.rdb"))
        assert oc.call("DEBUG", "RELOAD", "NOSAVE") == ("+", "OK")
        assert oc.call("GET", "plain") == ("$", b"x")
        assert names(oc) == {b"liba", b"libb"}
        assert oc.call("FCALL", "b", "0") == ("$", b"b")
        # FUNCTION DUMP payloads go both ways too.
        assert oc.call("FUNCTION", "RESTORE", redis_dump, "FLUSH") == ("+", "OK")
        assert names(oc) == {b"liba", b"libb"}
        cli = RawClient(redis.port)
        assert cli.call("FUNCTION", "RESTORE", ours_dump, "FLUSH") == ("+", "OK")
        assert names(cli) == {b"liba"}
        cli.close()
        oc.close()
    finally:
        if redis is not None:
            redis.stop()
        ours.stop()


# ---------------------------------------------------------------- cluster

@pytest.fixture(scope="module")
def two_nodes():
    procs = []
    try:
        start_nodes(2, procs=procs)
        ports = form_cluster(procs)
        yield ports
    finally:
        stop_all(procs)


def test_fcall_in_a_cluster(two_nodes):
    ports = two_nodes
    for port in ports:
        assert RawClient(port).call("FUNCTION", "LOAD", LIB_A) == ("$", b"liba")
    rc = RedisCluster(host="127.0.0.1", port=ports[0], socket_timeout=10)
    try:
        keys = ["key%d" % i for i in range(20)]      # spread over both nodes
        for key in keys:
            assert rc.fcall("seta", 1, key, "v-" + key) in (b"OK", "OK")
        for key in keys:
            assert rc.fcall_ro("geta", 1, key) == ("v-" + key).encode()
            assert rc.get(key) == ("v-" + key).encode()
    finally:
        rc.close()
    first = RawClient(ports[0])
    slot_owner = {}
    for key in keys:
        reply = first.call("FCALL", "geta", "1", key)
        slot_owner[key] = reply[0]
        if reply[0] == "-":
            assert reply[1].startswith("MOVED ") and reply[1].endswith(":%d" % ports[1])
    assert set(slot_owner.values()) == {"$", "-"}
    assert first.call("FCALL", "seta", "2", "a", "b", "v")[1].startswith("CROSSSLOT")
    # A key the function touches without declaring it, on the other node.
    remote = next(key for key, kind in slot_owner.items() if kind == "-")
    assert first.call("FUNCTION", "LOAD", "#!lua name=undeclared\nredis.register_function("
                      "'peek', function(k, a) return redis.call('get', a[1]) end)") == \
        ("$", b"undeclared")
    assert first.call("FCALL", "peek", "0", remote) == \
        ("-", "ERR Script attempted to access a non local key in a cluster node script: "
              "peek, on @user_function:2.")
    # A slot on its way out: a key that is not here any more is asked for elsewhere.
    local = next(key for key, kind in slot_owner.items() if kind == "$")
    slot = first.call("CLUSTER", "KEYSLOT", local)[1]
    other_id = RawClient(ports[1]).call("CLUSTER", "MYID")[1].decode()
    assert first.call("CLUSTER", "SETSLOT", str(slot), "MIGRATING", other_id) == ("+", "OK")
    try:
        assert first.call("FCALL_RO", "geta", "1", local) == ("$", ("v-" + local).encode())
        assert first.call("DEL", local) == (":", 1)
        assert first.call("FCALL_RO", "geta", "1", local) == \
            ("-", "ASK %d 127.0.0.1:%d" % (slot, ports[1]))
    finally:
        assert first.call("CLUSTER", "SETSLOT", str(slot), "STABLE") == ("+", "OK")
    assert first.call("FUNCTION", "LOAD", "#!lua name=nc\nredis.register_function{"
                      "function_name='nc', callback=function() return 1 end, "
                      "flags={'no-cluster'}}") == ("$", b"nc")
    assert first.call("FCALL", "nc", "0") == \
        ("-", "ERR Can not run script on cluster, 'no-cluster' flag is set.")
    first.close()


# ---------------------------------------------------------------- FUNCTION KILL

BUSY_LIB = ("#!lua name=busy\n"
            "redis.register_function{function_name='spin', callback=function() "
            "local i = 0 while true do i = i + 1 end end, flags={'no-writes'}}\n"
            "redis.register_function('wspin', function() redis.call('set', '{b}w', 1) "
            "local i = 0 while true do i = i + 1 end end)\n")


def kill_scenario(port) -> list:
    """What clients see around a busy function; duration_ms masked."""
    setup = RawClient(port)
    setup.call("FUNCTION", "FLUSH")
    assert setup.call("FUNCTION", "LOAD", BUSY_LIB) == ("$", b"busy")
    assert setup.call("CONFIG", "SET", "busy-reply-threshold", "100") == ("+", "OK")
    seen = [setup.call("FUNCTION", "KILL")]
    caller = RawClient(port)
    caller.send_raw(RawClient.encode(("FCALL", "spin", "0")))
    other = RawClient(port)
    wait_until(lambda: other.call("PING")[0] == "-", timeout=10, message="-BUSY")
    seen.append(other.call("ECHO", "x"))
    seen.append(other.call("SCRIPT", "KILL"))
    stats = other.call("FUNCTION", "STATS")
    running = dict(zip(stats[1][1][1][::2], stats[1][1][1][1::2]))
    running.pop(("$", b"duration_ms"))
    seen.append(sorted(running.items()))
    seen.append(other.call("FUNCTION", "KILL"))
    seen.append(caller.read_reply())
    seen.append(other.call("PING"))
    seen.append(other.call("FUNCTION", "KILL"))
    # EVAL's counterpart: FUNCTION KILL refuses a busy script.
    caller.send_raw(RawClient.encode(("EVAL", "while true do end", "0")))
    wait_until(lambda: other.call("PING")[0] == "-", timeout=10, message="-BUSY")
    seen.append(other.call("PING"))
    seen.append(other.call("FUNCTION", "KILL"))
    seen.append(other.call("FUNCTION", "STATS"))
    seen.append(other.call("SCRIPT", "KILL"))
    seen.append(caller.read_reply())
    # A function that wrote cannot be killed: SHUTDOWN NOSAVE is the way out.
    caller.send_raw(RawClient.encode(("FCALL", "wspin", "0")))
    wait_until(lambda: other.call("PING")[0] == "-", timeout=10, message="-BUSY")
    seen.append(other.call("FUNCTION", "KILL"))
    seen.append(other.call("SHUTDOWN"))
    for client in (other, caller):
        try:
            seen.append(client.call("SHUTDOWN", "NOSAVE"))
        except ConnectionError:
            seen.append("closed")
    for client in (setup, caller, other):
        client.close()
    return seen


def test_function_kill_like_redis(two_nodes):
    """Ends with SHUTDOWN NOSAVE of the first cluster node: the last test of the module."""
    redis = start_redis()
    try:
        got, want = kill_scenario(two_nodes[0]), kill_scenario(redis.port)
        assert len(got) == len(want)
        for step, (g, w) in enumerate(zip(got, want)):
            assert g == w, "step %d:\n  ours:  %r\n  redis: %r" % (step, g, w)
    finally:
        redis.stop()


# ---------------------------------------------------------------- replicas and flags

FLAGS_LIB = ("#!lua name=fl\n"
             "redis.register_function('plain', function() return 1 end)\n"
             "redis.register_function{function_name='st', callback=function() return 2 end, "
             "flags={'allow-stale'}}\n"
             "redis.register_function{function_name='ro', callback=function(k) return 3 end, "
             "flags={'no-writes'}}\n"
             "redis.register_function{function_name='rost', callback=function() return 4 end, "
             "flags={'no-writes', 'allow-stale'}}\n")
KEYLESS = [("FCALL", "plain", "0"), ("FCALL", "st", "0"), ("FCALL", "ro", "0"),
           ("FCALL_RO", "ro", "0"), ("FCALL_RO", "plain", "0"), ("FCALL", "rost", "0"),
           ("EVAL", "#!lua\nreturn 1", "0"), ("EVAL", "return 1", "0"),
           ("EVAL", "#!lua flags=no-writes\nreturn 1", "0"),
           ("EVAL", "#!lua flags=no-writes,allow-stale\nreturn 1", "0")]


def replica_replies(client) -> list:
    return [client.call(*command) for command in KEYLESS]


def test_function_flags_on_a_replica_like_redis():
    """A function's flags make FCALL a write or not, stale or not, as processCommand
    sees it: the generic -READONLY / -MASTERDOWN texts, and MOVED for a write even from
    a READONLY client. redis-server (not clustered) answers the keyless ones the same."""
    procs = []
    try:
        replica = start_node("--replica-serve-stale-data", "no", slots=False, wait=False)
        procs.append(replica)
        master = start_node()
        procs.append(master)
        redis = start_redis("--replica-serve-stale-data", "no")
        procs.append(redis)
        replica.wait_ready()
        mc, rc = attach(master.port, replica.port)
        assert mc.call("FUNCTION", "LOAD", FLAGS_LIB) == ("$", b"fl")
        wait_link_up(rc)
        wait_converged(mc, rc)
        assert rc.call("READONLY") == ("+", "OK")
        assert rc.call("FCALL", "plain", "1", "k")[1].startswith("MOVED ")
        assert rc.call("FCALL", "ro", "1", "k") == (":", 3)
        up = replica_replies(rc)
        mc.close()
        master.stop()
        wait_until(lambda: b"master_link_status:down" in rc.call("INFO", "replication")[1],
                   timeout=10, message="the link down")
        stale = replica_replies(rc)
        rc.close()
        # redis-server as a replica of nothing: its link is down from the start.
        ref = RawClient(redis.port)
        assert ref.call("FUNCTION", "LOAD", FLAGS_LIB) == ("$", b"fl")
        assert ref.call("CONFIG", "SET", "replica-serve-stale-data", "yes") == ("+", "OK")
        assert ref.call("REPLICAOF", "127.0.0.1", "1") == ("+", "OK")
        want_up = replica_replies(ref)
        assert ref.call("CONFIG", "SET", "replica-serve-stale-data", "no") == ("+", "OK")
        want_stale = replica_replies(ref)
        ref.close()
        for command, got, want in zip(KEYLESS * 2, up + stale, want_up + want_stale):
            assert got == want, "%r:\n  ours:  %r\n  redis: %r" % (command, got, want)
    finally:
        stop_all(procs)
