"""How a connection is served, beyond its commands' replies: the CLIENT subcommands for
client-side caching, pauses and reply modes (the CLIENT container itself and its plain
subcommands are in commands/families/connection_cmds.py).

    client_modes.py   CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO, PAUSE / UNPAUSE,
                      REPLY, NO-EVICT

The machinery they drive sits in the server layer, where the connection loop and the
executor reach it: commands/server/tracking.py and commands/server/client_pause.py.
"""
