"""Persistence: the dataset on disk in Redis's own formats.

    background.py     forked children (BGSAVE, BGREWRITEAOF, the full-sync RDB), reaped
                      by the server cron, one at a time as in Redis
    rdb_snapshot.py   the keyspace written as an RDB stream, and an RDB stream loaded
                      into a keyspace (the codec is commands/rdb)
    rdb_save.py       SAVE, BGSAVE, save points, LASTSAVE, shutdown saves
    loading.py        loading at start-up: -LOADING replies and the loading_* INFO fields
    aof.py            the append-only file, Redis 7's multi-part layout
    info.py           INFO persistence
"""
