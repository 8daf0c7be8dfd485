"""SLOWLOG and LATENCY, over what commands/metrics measures (the server layer holds the
slow log, the latency monitor and the per-command histograms):

    observability_cmds.py   SLOWLOG GET/LEN/RESET/HELP, LATENCY LATEST/HISTORY/RESET/
                            GRAPH/DOCTOR/HISTOGRAM/HELP
"""
