"""Redis Streams: the stream value type and the X* commands.

    stream_type     StreamValue: entries in listpack-like nodes, consumer groups, PELs;
                    the neutral form for RDB/DUMP/MIGRATE (registered with value_types)
    stream_ids      parsing stream IDs and intervals as Redis reads them
    stream_cmds     XADD XLEN XRANGE XREVRANGE XDEL XTRIM XSETID
    stream_read     XREAD XREADGROUP and their blocked readers
    stream_groups   XGROUP XACK XPENDING XCLAIM XAUTOCLAIM
    stream_info     XINFO STREAM/GROUPS/CONSUMERS

A layer beside families/: it imports data, server, rdb, persistence and replication
(XREADGROUP and XCLAIM propagate what they did as XCLAIM / XGROUP SETID records).
"""
