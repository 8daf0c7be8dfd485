"""Persistence: the dataset on disk in Redis's own formats.

    durable_file.py   incremental fsync and directory fsync for files that must survive
    background.py     forked children (BGSAVE, BGREWRITEAOF, the full-sync RDB), reaped
                      by the server cron, one at a time as in Redis
    rdb_snapshot.py   the keyspace written as an RDB stream, and an RDB stream loaded
                      into a keyspace (the codec is commands/rdb)
    rdb_save.py       SAVE, BGSAVE, save points, LASTSAVE, shutdown saves
    loading.py        loading at start-up: -LOADING replies and the loading_* INFO fields
    aof.py            the append-only file: appending the propagated stream, fsync
                      policies, rewrites (BGREWRITEAOF, automatic, CONFIG SET appendonly)
    aof_manifest.py   Redis 7's multi-part layout: the manifest format and file names
    aof_rewrite.py    a new base: the dataset as an RDB preamble or as commands
    aof_loading.py    start-up: base + incr files replayed, truncated and bad files
    aof_cmds.py       BGREWRITEAOF
    info.py           INFO persistence
"""
