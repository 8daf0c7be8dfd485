"""INFO persistence, field for field as redis-server 7.0.15 prints it."""
import time

from commands.persistence.aof import AOF_OFF
from commands.persistence.background import CHILD_AOF, CHILD_RDB
from commands.server import info


def persistence_lines(server) -> list:
    rdb = server.persistence
    children = server.children
    child = children.active if children is not None else None
    loading = server.loading
    now = time.time()
    rdb_child = child is not None and child.kind == CHILD_RDB
    lines = [
        "loading:%d" % (loading is not None),
        "async_loading:0",
        "current_cow_peak:0",
        "current_cow_size:0",
        "current_cow_size_age:0",
        "current_fork_perc:0.00",
        "current_save_keys_processed:0",
        "current_save_keys_total:0",
        "rdb_changes_since_last_save:%d" % server.keyspace.dirty,
        "rdb_bgsave_in_progress:%d" % rdb_child,
        "rdb_last_save_time:%d" % server.last_save,
        "rdb_last_bgsave_status:%s" % ("ok" if rdb is None or rdb.last_bgsave_ok else "err"),
        "rdb_last_bgsave_time_sec:%d" % (rdb.last_bgsave_time_sec if rdb else -1),
        "rdb_current_bgsave_time_sec:%d" % (int(now - rdb.bgsave_started)
                                            if rdb and rdb.bgsave_started else -1),
        "rdb_saves:%d" % (rdb.saves if rdb else 0),
        "rdb_last_cow_size:%d" % (children.last_cow_size.get(CHILD_RDB, 0)
                                  if children else 0),
        "rdb_last_load_keys_expired:%d" % (rdb.last_load_keys_expired if rdb else 0),
        "rdb_last_load_keys_loaded:%d" % (rdb.last_load_keys_loaded if rdb else 0),
    ]
    aof = server.aof
    if aof is not None:
        lines += aof_lines(aof)
    else:
        lines += [
            "aof_enabled:0",
            "aof_rewrite_in_progress:%d" % (child is not None and child.kind == CHILD_AOF),
            "aof_rewrite_scheduled:0",
            "aof_last_rewrite_time_sec:-1",
            "aof_current_rewrite_time_sec:-1",
            "aof_last_bgrewrite_status:ok",
            "aof_rewrites:0",
            "aof_rewrites_consecutive_failures:0",
            "aof_last_write_status:ok",
            "aof_last_cow_size:0",
            "module_fork_in_progress:0",
            "module_fork_last_cow_size:0",
        ]
    if loading is not None:
        lines += loading.info_lines()
    return lines


def aof_lines(aof) -> list:
    """The aof_* lines of INFO persistence, as redis-server 7.0.15 prints them."""
    started = aof.rewrite_started
    lines = [
        "aof_enabled:%d" % (aof.state != AOF_OFF),
        "aof_rewrite_in_progress:%d" % aof.rewrite_in_progress(),
        "aof_rewrite_scheduled:%d" % aof.rewrite_scheduled,
        "aof_last_rewrite_time_sec:%d" % aof.last_rewrite_time,
        "aof_current_rewrite_time_sec:%d"
        % (-1 if started is None else int(time.time() - started)),
        "aof_last_bgrewrite_status:%s" % ("ok" if aof.last_bgrewrite_ok else "err"),
        "aof_rewrites:%d" % aof.rewrites,
        "aof_rewrites_consecutive_failures:%d" % aof.consecutive_failures,
        "aof_last_write_status:%s"
        % ("ok" if aof.last_write_ok and aof.fsync_error is None else "err"),
        "aof_last_cow_size:%d" % aof.children.last_cow_size.get(CHILD_AOF, 0),
        "module_fork_in_progress:0",
        "module_fork_last_cow_size:0",
    ]
    if aof.settings.appendonly:
        lines += [
            "aof_current_size:%d" % aof.current_size,
            "aof_base_size:%d" % aof.base_size,
            "aof_pending_rewrite:%d" % aof.rewrite_scheduled,
            "aof_buffer_length:%d" % aof.buf_len,
            "aof_pending_bio_fsync:%d" % aof.fsync_in_flight,
            "aof_delayed_fsync:%d" % aof.delayed_fsync,
        ]
    return lines


info.register_section("persistence", persistence_lines)
