"""The cluster view (scripts/cluster_view.py): a web page that shows a live cluster, or
replays a simulator run, from the same snapshots.

    snapshot.py  what one poll round (or one recorded sample) holds, parsed
    model.py     the merged picture of the cluster the page draws
    timeline.py  events found by comparing two successive pictures
    live.py      polls real nodes (node.py or redis-server) with one greenlet each
    replay.py    plays a recording written by scripts/simulate.py --record
    server.py    the WSGI app: the page, its CSS and JavaScript, and /state.json
"""
