"""The Router tells the keyspace the slot of every key of a multi-key request it let
through (keyspace.hint_argv): MSET stores and MIGRATE looks up without hashing each key
again. The hint belongs to one argv list; any other list is hashed key by key."""

import socket

from cluster.slots import key_hash_slot
from commands import load_all_commands
from commands.families import migrate as migrate_module
from commands.server.connection import Client
from commands.server.executor import process_command
from commands.server.resp import ReplyError
from tests.unit.one_node import one_node_server

load_all_commands()


def _client():
    return Client(one_node_server())


def test_a_routed_mset_leaves_its_slot_and_the_keys_land_in_it():
    c = _client()
    ks = c.server.keyspace
    argv = [b"MSET", b"{u}a", b"1", b"{u}b", b"2", b"{u}a", b"3"]
    process_command(c, argv)
    assert ks.hint_argv is argv and ks.hint_argv_slot == key_hash_slot(b"u")
    slot = key_hash_slot(b"u")
    assert dict(ks.slots[slot]).keys() == {b"{u}a", b"{u}b"}
    assert ks.get(b"{u}a") == b"3" and ks.get(b"{u}b") == b"2" and ks.size == 2


def test_crossslot_is_refused_and_other_lists_are_hashed_key_by_key():
    c = _client()
    ks = c.server.keyspace
    refused = process_command(c, [b"MSET", b"x", b"1", b"y", b"2"])
    assert isinstance(refused, ReplyError) and refused.code == "CROSSSLOT"
    assert ks.size == 0
    process_command(c, [b"MSET", b"{u}a", b"1", b"{u}b", b"2"])
    # An MSET that did not come through the Router (a script, the master's stream, the
    # AOF) may hold keys of several slots: each goes to its own.
    ks.set_strings([b"MSET", b"x", b"1", b"y", b"2"])
    assert ks.get(b"x") == b"1" and ks.get(b"y") == b"2"
    assert b"x" in ks.slots[key_hash_slot(b"x")] and b"y" in ks.slots[key_hash_slot(b"y")]


def test_migrate_moves_the_keys_of_a_routed_request(monkeypatch):
    sent = []

    class Target(migrate_module._TargetConnection):
        def send(self, data):
            sent.append(data)
            self.reader.feed(b"+OK\r\n" * data.count(b"RESTORE-ASKING"))
    target = Target(socket.socket())
    monkeypatch.setattr(migrate_module, "_checkout", lambda *args, **kwargs: target)
    monkeypatch.setattr(migrate_module, "_checkin", lambda *args, **kwargs: target.close())
    c = _client()
    ks = c.server.keyspace
    process_command(c, [b"MSET", b"{u}a", b"1", b"{u}b", b"2"])
    argv = [b"MIGRATE", b"127.0.0.1", b"1", b"", b"0", b"1000", b"KEYS", b"{u}a", b"{u}b",
            b"{u}missing"]
    assert process_command(c, argv) == migrate_module.OK
    assert ks.hint_argv is argv
    assert ks.size == 0 and sent and sent[0].count(b"RESTORE-ASKING") == 2
    assert process_command(c, argv) == migrate_module.NOKEY


class _Other:
    is_master = True
    master_name = None
    name = "other"
    port = 7002
    pport = 0


def test_multi_key_requests_of_a_stable_cluster_are_decided_as_route_decides():
    """The Router's shortcut for several keys at fixed places (MSET, MGET, DEL...) while
    no slot is open serves only one slot of ours; every other answer is route()'s."""
    c = _client()
    view = c.server.cluster
    view.preferred_endpoint = lambda node: "127.0.0.1"
    theirs = key_hash_slot(b"t")
    view.slots[theirs] = _Other()
    mine = [b"{u}a", b"{u}b", b"{u}a"]
    assert process_command(c, [b"DEL"] + mine) == 0
    assert process_command(c, [b"MSET", b"{u}a", b"1", b"{u}b", b"2"]) is not None
    assert process_command(c, [b"MGET"] + mine) == [b"1", b"2", b"1"]
    moved = process_command(c, [b"MGET", b"{t}a", b"{t}b"])
    assert isinstance(moved, ReplyError) and str(moved) == "MOVED %d 127.0.0.1:7002" % theirs
    crossslot = process_command(c, [b"EXISTS", b"{u}a", b"{t}a"])
    assert isinstance(crossslot, ReplyError) and crossslot.code == "CROSSSLOT"
    # Keys of a slot of ours that is migrating, missing here: -ASK (route()).
    mine_slot = key_hash_slot(b"u")
    view.migrating_slots_to = {mine_slot: _Other()}
    ask = process_command(c, [b"EXISTS", b"{u}x", b"{u}y"])
    assert isinstance(ask, ReplyError) and str(ask) == "ASK %d 127.0.0.1:7002" % mine_slot
    view.migrating_slots_to = {}
    # A slot of another node being imported here, without ASKING: -MOVED to its owner.
    view.importing_slots_from = {theirs: _Other()}
    moved = process_command(c, [b"EXISTS", b"{t}a", b"{t}b"])
    assert isinstance(moved, ReplyError) and str(moved).startswith("MOVED")
    # While some other slot is imported, keys of ours are still served.
    assert process_command(c, [b"EXISTS", b"{u}a", b"{u}b"]) == 2
    view.importing_slots_from = {}
    # The cluster down: even keys of a slot of ours are refused.
    view.cluster_ok = False
    down = process_command(c, [b"EXISTS", b"{u}a", b"{u}b"])
    assert isinstance(down, ReplyError) and str(down).startswith("CLUSTERDOWN")
