import os
import random

import pytest

from cluster import nodesconf
from cluster.errors import ConfigFileError
from cluster.node_record import NODE_HANDSHAKE
from cluster.state import ClusterConfig, ClusterState
from tests.unit.cluster_net import Net

pytestmark = pytest.mark.timeout(30)


def cluster():
    net = Net(3)
    for i, s in enumerate(net.states):
        net.apply(i, s.add_slots_range([str(i * 5000), str(i * 5000 + 99)], net.now))
        net.apply(i, s.set_config_epoch(str(i + 1), net.now))
    net.settle()
    net.meet(1, 0)
    net.meet(2, 0)
    net.advance(3000)
    return net


def test_render_format():
    net = cluster()
    a = net.states[0]
    a.meet("127.0.0.1", 7999, None, net.now)  # a handshake node: not saved
    text = nodesconf.render(a)
    lines = text.splitlines()
    assert text.endswith("\n")
    assert lines[-1] == f"vars currentEpoch {a.current_epoch} lastVoteEpoch 0"
    assert len(lines) == 4
    me = [l for l in lines if "myself" in l][0]
    assert me.startswith(f"{a.myself.name} 127.0.0.1:7000@17000,,tls-port=0,shard-id={a.myself.shard_id} myself,master - 0 0 1 connected 0-99")


def test_save_load_round_trip(tmp_path):
    net = cluster()
    a = net.states[0]
    path = str(tmp_path / "nodes.conf")
    nodesconf.save(path, nodesconf.render(a), fsync=True)
    assert os.listdir(tmp_path) == ["nodes.conf"]  # the temp file was renamed
    loaded = nodesconf.load(path)
    restored = ClusterState(ClusterConfig(port=7000), random.Random(9), net.now + 5, loaded=loaded)
    assert restored.myself.name == a.myself.name
    assert restored.current_epoch == a.current_epoch
    assert set(restored.nodes) == {n for n, node in a.nodes.items() if not node.flags & NODE_HANDSHAKE}
    for slot in (0, 99, 5000, 10099):
        assert restored.slots[slot].name == a.slots[slot].name
    assert restored.slots[100] is None
    for name, node in restored.nodes.items():
        assert node.config_epoch == a.nodes[name].config_epoch
        assert node.shard_id == a.nodes[name].shard_id
    # Saving the restored state again gives the same node set.
    again = nodesconf.parse(nodesconf.render(restored))
    assert {n.name for n in again.nodes} == {n.name for n in loaded.nodes}


def test_overwrite_in_place(tmp_path):
    """The save without fsync writes over the file like Redis: same inode, no temp
    file, a longer old file padded then truncated to the new content."""
    net = cluster()
    a = net.states[0]
    path = str(tmp_path / "nodes.conf")
    text = nodesconf.render(a)
    nodesconf.overwrite(path, text)               # created when missing
    assert open(path).read() == text
    inode = os.stat(path).st_ino
    nodesconf.overwrite(path, text + "x" * 500)   # longer
    nodesconf.overwrite(path, text)               # shorter: truncated, not padded
    assert open(path).read() == text
    assert os.stat(path).st_ino == inode
    assert os.listdir(tmp_path) == ["nodes.conf"]
    # A crash between the padded write and the truncation leaves blank lines only.
    padded = nodesconf.parse(text + "\n" * 300)
    assert [n.name for n in padded.nodes] == [n.name for n in nodesconf.parse(text).nodes]


def test_missing_or_empty_file_means_new_node(tmp_path):
    assert nodesconf.load(str(tmp_path / "absent.conf")) is None
    (tmp_path / "empty.conf").write_text("")
    assert nodesconf.load(str(tmp_path / "empty.conf")) is None


def test_accepts_redis_70_lines_without_aux_fields():
    text = ("742e4b5ff830998c10aa30dd82fa6497d5068e46 127.0.0.1:27102@37102 master - 0 1795618988849 0 connected\n"
            "4b96f3a4b0c25bb0e4f29450c30b952f53421201 127.0.0.1:27101@37101 myself,master - 0 0 1 connected 0-100 200-300 5000 [7->-742e4b5ff830998c10aa30dd82fa6497d5068e46]\n"
            "vars currentEpoch 1 lastVoteEpoch 0\n")
    config = nodesconf.parse(text)
    me = config.nodes[1]
    assert me.slots == [(0, 100), (200, 300), (5000, 5000)]
    assert me.migrating == {7: "742e4b5ff830998c10aa30dd82fa6497d5068e46"}
    assert config.current_epoch == 1


@pytest.mark.parametrize("bad_line", [
    "zzz 127.0.0.1:1@2 myself,master - 0 0 0 connected",
    "4b96f3a4b0c25bb0e4f29450c30b952f53421201 127.0.0.1:1@2 myself,wizard - 0 0 0 connected",
    "4b96f3a4b0c25bb0e4f29450c30b952f53421201 127.0.0.1:1@2 myself,master - 0 0",
    "4b96f3a4b0c25bb0e4f29450c30b952f53421201 127.0.0.1:1@2 myself,master - 0 0 x connected",
    "4b96f3a4b0c25bb0e4f29450c30b952f53421201 127.0.0.1:1@2 myself,master - 0 0 0 connected 5-3",
    "4b96f3a4b0c25bb0e4f29450c30b952f53421201 127.0.0.1:1@2 myself,master - 0 0 0 connected 16384",
    "4b96f3a4b0c25bb0e4f29450c30b952f53421201 127.0.0.1 myself,master - 0 0 0 connected",
])
def test_corrupt_file_names_the_line(bad_line):
    text = "vars currentEpoch 0 lastVoteEpoch 0\n" + bad_line + "\n"
    with pytest.raises(ConfigFileError, match=r"line 2"):
        nodesconf.parse(text, "nodes.conf")


def test_no_myself_is_an_error():
    with pytest.raises(ConfigFileError, match="myself"):
        nodesconf.parse("vars currentEpoch 0 lastVoteEpoch 0\n")


def test_hostname_is_read_back():
    from cluster import nodesconf
    text = ("%s 10.0.0.1:7000@17000,n1.example,tls-port=0,shard-id=%s myself,master - 0 0 1 "
            "connected 0-10\n%s 10.0.0.2:7001@17001,,tls-port=0,shard-id=%s master - 0 0 2 "
            "connected\nvars currentEpoch 2 lastVoteEpoch 0\n") % ("a" * 40, "c" * 40, "b" * 40, "d" * 40)
    loaded = nodesconf.parse(text)
    assert [n.hostname for n in loaded.nodes] == ["n1.example", ""]
    # Redis 7.0 writes ip:port@cport,hostname without aux fields.
    seven = nodesconf.parse("%s 10.0.0.1:7000@17000,h.example myself,master - 0 0 1 connected\n"
                            "vars currentEpoch 1 lastVoteEpoch 0\n" % ("a" * 40))
    assert seven.nodes[0].hostname == "h.example"
