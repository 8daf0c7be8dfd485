"""INFO against redis-server 7.0.15: every field Redis's `INFO all` prints (cluster mode,
on a master and on a replica) is printed by our node too, section by section, except the
few listed in NO_MEANING_HERE; and a replica's replication offsets stay consistent,
before and after its master dies.

Values differ between the two servers (memory, ids, timings); the names, the sections
and the offsets' relations must not.
"""
import signal
import time

import pytest

from tests.helpers import RawClient, start_node, start_redis, wait_until
from tests.integration.test_replication import attach, info, wait_converged, wait_link_up

# Fields of redis-server 7.0's INFO all with no meaning in this node, by section.
NO_MEANING_HERE = {
    "server": {
        "atomicvar_api",          # the C atomics Redis was compiled with
        "gcc_version",            # the C compiler Redis was built with
    },
    "stats": {
        "reply_buffer_shrinks",   # resizing of a client's C reply buffer (Redis 7's
        "reply_buffer_expands",   # reply-buffer resizing); replies here are Python bytes
    },
    # jemalloc's own view (allocated/active/resident pages and the ratios between them
    # and RSS): Python has no allocator apart from the process, whose RSS is shown.
    "memory": {
        "allocator_allocated", "allocator_active", "allocator_resident",
        "allocator_frag_ratio", "allocator_frag_bytes", "allocator_rss_ratio",
        "allocator_rss_bytes", "rss_overhead_ratio", "rss_overhead_bytes",
    },
}


def sections(text: str) -> dict:
    """{section name: [field names]} of an INFO reply."""
    out, current = {}, None
    for line in text.split("\r\n"):
        if line.startswith("# "):
            current = out.setdefault(line[2:].lower(), [])
        elif ":" in line and current is not None:
            current.append(line.split(":", 1)[0])
    return out


def info_all(client) -> dict:
    return sections(client.call("INFO", "all")[1].decode())


def exercise(client):
    """The same commands on both servers, so dynamic fields (cmdstat_*, errorstat_*,
    latency_percentiles_usec_*, db0) appear on both."""
    client.call("SET", "{k}a", "1", "EX", "100")
    client.call("GET", "{k}a")
    client.call("INCR", "{k}a")           # an error: errorstat_ERR
    client.call("CONFIG", "GET", "maxmemory")


def missing_fields(ours: dict, ref: dict) -> dict:
    problems = {}
    for section, fields in ref.items():
        if section not in ours:
            problems[section] = "section missing"
            continue
        lacking = [f for f in fields if f not in ours[section]
                   and f not in NO_MEANING_HERE.get(section, ())]
        if lacking:
            problems[section] = lacking
    return problems


@pytest.fixture(scope="module")
def masters():
    ours = start_node()
    ref = start_redis(cluster=True)
    try:
        ref_client = RawClient(ref.port)
        assert ref_client.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == ("+", "OK")
        wait_until(lambda: b"cluster_state:ok" in ref_client.call("CLUSTER", "INFO")[1],
                   message="redis cluster_state:ok")
        yield RawClient(ours.port), ref_client
    finally:
        ours.stop()
        ref.stop()


def test_info_all_has_every_field_redis_prints(masters):
    ours, ref = masters
    exercise(ours)
    exercise(ref)
    ours_sections, ref_sections = info_all(ours), info_all(ref)
    assert missing_fields(ours_sections, ref_sections) == {}
    # and in Redis's order of sections
    assert [s for s in ours_sections if s in ref_sections] == list(ref_sections)


def test_memory_section_has_redis_s_fields(masters):
    ours, ref = masters
    lacking = [f for f in info_all(ref)["memory"] if f not in info_all(ours)["memory"]
               and f not in NO_MEANING_HERE["memory"]]
    assert lacking == []


def test_instantaneous_metrics_are_sampled(masters):
    ours, _ = masters
    stop = time.monotonic() + 1.5
    while time.monotonic() < stop:
        ours.pipeline([["PING"]] * 50)
    stats = info(ours, "stats")
    assert int(stats["instantaneous_ops_per_sec"]) > 0
    assert float(stats["instantaneous_input_kbps"]) > 0
    assert float(stats["instantaneous_output_kbps"]) > 0
    assert int(stats["total_reads_processed"]) > 0
    assert int(stats["total_writes_processed"]) > 0


def _redis_replica_pair():
    master = start_redis("--repl-diskless-sync-delay", "0", cluster=True)
    replica = start_redis(cluster=True)
    mc, rc = RawClient(master.port), RawClient(replica.port)
    assert mc.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == ("+", "OK")
    rc.call("CLUSTER", "MEET", "127.0.0.1", str(master.port))
    master_id = mc.call("CLUSTER", "MYID")[1]
    wait_until(lambda: master_id in rc.call("CLUSTER", "NODES")[1], message="meet")
    assert rc.call("CLUSTER", "REPLICATE", master_id.decode()) == ("+", "OK")
    return master, replica, mc, rc


def _offsets(client) -> tuple:
    r = info(client)
    return (int(r["slave_read_repl_offset"]), int(r["slave_repl_offset"]),
            int(r["master_repl_offset"]))


def test_replica_fields_and_offsets_before_and_after_the_master_dies():
    procs = []
    try:
        ours_master, ours_replica = start_node(), start_node(slots=False)
        procs += [ours_master, ours_replica]
        omc, orc = attach(ours_master.port, ours_replica.port)
        redis_master, redis_replica, rmc, rrc = _redis_replica_pair()
        procs += [redis_master, redis_replica]
        for mc, rc in ((omc, orc), (rmc, rrc)):
            wait_link_up(rc)
            for i in range(50):
                mc.call("SET", "{k}%d" % i, "x" * i)
            wait_converged(mc, rc)
        # The field names of a master with a replica and of a replica.
        for ours, ref in ((omc, rmc), (orc, rrc)):
            assert missing_fields({"replication": info_all(ours)["replication"]},
                                  {"replication": info_all(ref)["replication"]}) == {}
        # Linked: read == processed == the master's offset, on both kinds.
        for mc, rc in ((omc, orc), (rmc, rrc)):
            master_offset = int(info(mc)["master_repl_offset"])
            assert _offsets(rc) == (master_offset,) * 3
        # The link breaks and comes back (partial resync): still consistent.
        orc.call("CLIENT", "KILL", "TYPE", "master")
        wait_until(lambda: info(orc)["master_link_status"] == "up"
                   and int(info(omc, "stats")["sync_partial_ok"]) >= 1, timeout=15,
                   message="partial resync")
        omc.call("SET", "{k}after", "1")
        wait_converged(omc, orc)
        master_offset = int(info(omc)["master_repl_offset"])
        assert _offsets(orc) == (master_offset,) * 3
        # The master dies: the replica shows what it processed, not 1.
        for master, mc, rc in ((ours_master, omc, orc), (redis_master, rmc, rrc)):
            last = int(info(mc)["master_repl_offset"])
            master.proc.send_signal(signal.SIGKILL)
            wait_until(lambda: info(rc)["master_link_status"] == "down", timeout=15,
                       message="master_link_status:down")
            assert _offsets(rc) == (last,) * 3
            assert int(info(rc)["master_link_down_since_seconds"]) >= 0
    finally:
        for proc in procs:
            proc.stop()
