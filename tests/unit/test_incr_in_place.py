"""INCR and its kin replace the string they just read in place (keyspace.replace_string):
what set() would also have done must still happen."""

from cluster.slots import key_hash_slot
from commands import load_all_commands
from commands.families.strings import incr_by
from commands.server.connection import Client
from commands.server.executor import process_command
from commands.server.resp import NULL_ARRAY
from tests.unit.one_node import one_node_server

load_all_commands()


def test_incr_in_place_keeps_the_ttl_counts_memory_and_touches_watchers():
    server = one_node_server()
    a, b = Client(server), Client(server)
    ks = server.keyspace
    assert process_command(a, [b"SET", b"n", b"9", b"EX", b"100"]) is not None
    memory, dirty = ks.used_memory, ks.dirty
    assert process_command(a, [b"WATCH", b"n"]) is not None
    assert process_command(b, [b"INCR", b"n"]) == 10
    assert ks.used_memory == memory + 1 and ks.dirty == dirty + 1
    assert 0 < process_command(b, [b"TTL", b"n"]) <= 100
    process_command(a, [b"MULTI"])
    process_command(a, [b"GET", b"n"])
    assert process_command(a, [b"EXEC"]) is NULL_ARRAY    # the watched key changed
    # The key's LRU clock is the keyspace's now, and a client blocked on the key would
    # be looked at (what set() did too): the handler alone, before the executor serves
    # the ready keys.
    slot = key_hash_slot(b"n")
    ks.lru_clock += 1000
    ks.blocking_keys[b"n"] = []
    assert incr_by(b, b"n", -20) == -10
    assert ks.clocks[slot][ks.slots[slot][b"n"]] == ks.lru_clock
    assert b"n" in ks.ready_keys
    del ks.blocking_keys[b"n"]
    ks.ready_keys.clear()
    assert process_command(b, [b"GET", b"n"]) == b"-10"
    # A value that is not bytes (APPEND's buffer) takes set() as before.
    process_command(b, [b"SET", b"m", b"1"])
    process_command(b, [b"APPEND", b"m", b"2"])
    assert process_command(b, [b"INCRBY", b"m", b"3"]) == 15
    assert process_command(b, [b"GET", b"m"]) == b"15"
