"""The one effect interpreter: dispatch by type, the durable-save barrier, the vote check."""
import random

import pytest

from cluster import messages as m
from cluster.config import ClusterConfig
from cluster.effect_runner import EffectRunner, NotDurable, VoteNotDurable
from cluster.effects import (CloseLink, Connect, DeliverPublish, Log, ReplicationChanged,
                             SaveConfig, Send)
from cluster.state import ClusterState


class Recorder(EffectRunner):
    """Records what it was asked to do; a durable save fails when told to."""

    def __init__(self, fail_durable_saves=False, check_votes=False):
        super().__init__(check_votes=check_votes)
        self.done = []
        self.fail_durable_saves = fail_durable_saves
        self.state = ClusterState(ClusterConfig(port=7000), random.Random(1), 0)
        if check_votes:
            self.reset_vote_check()

    def send(self, e):
        self.done.append(("send", type(e.message).__name__))

    def connect(self, e):
        self.done.append(("connect", e.node_name))

    def close_link(self, e):
        self.done.append(("close", e.link_id))

    def save_config(self, e):
        if e.fsync and self.fail_durable_saves:
            raise NotDurable("disk full")
        self.done.append(("save", e.fsync))

    def log(self, e):
        self.done.append(("log", e.text))


def ack(epoch):
    return m.FailoverAuthAck(m.Header(
        sender="a" * 40, current_epoch=epoch, config_epoch=0, repl_offset=0, flags=0,
        master_id=None, ip="", port=7000, cport=17000, cluster_ok=True, mflags=0,
        shard_id="b" * 40))


def test_each_effect_goes_to_its_handler_in_order():
    r = Recorder()
    r.execute([Log("notice", "x"), Connect("n", "127.0.0.1", 17000, 100), Send(1, ack(1)),
               CloseLink(1), SaveConfig(False), DeliverPublish(b"c", b"m", False),
               ReplicationChanged(None)])
    assert r.done == [("log", "x"), ("connect", "n"), ("send", "FailoverAuthAck"),
                      ("close", 1), ("save", False)]  # publish and replication: ignored


def test_nothing_is_sent_after_a_durable_save_that_failed():
    r = Recorder(fail_durable_saves=True)
    r.execute([Send(1, ack(1)), SaveConfig(True), Send(1, ack(2)), Log("warning", "granted"),
               CloseLink(1)])
    assert r.done == [("send", "FailoverAuthAck"), ("log", "granted"), ("close", 1)]


def test_vote_check_refuses_an_ack_sent_before_its_durable_save():
    r = Recorder(check_votes=True)
    r.state.current_epoch = r.state.last_vote_epoch = 7   # the vote was just given
    with pytest.raises(VoteNotDurable, match="epoch 7"):
        r.execute([Send(1, ack(7)), SaveConfig(True)])
    r = Recorder(check_votes=True)
    r.state.current_epoch = r.state.last_vote_epoch = 7
    r.execute([SaveConfig(False), SaveConfig(True), Send(1, ack(7))])
    assert r.done[-1] == ("send", "FailoverAuthAck")


def test_vote_check_trusts_what_a_restarted_state_loaded():
    r = Recorder(check_votes=True)
    r.state.last_vote_epoch = 9       # as if restored from nodes.conf
    r.reset_vote_check()
    r.execute([Send(1, ack(9))])
    assert r.done == [("send", "FailoverAuthAck")]
