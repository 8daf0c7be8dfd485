"""What an operator asks the node about itself:

    observability_cmds.py   SLOWLOG GET/LEN/RESET/HELP, LATENCY LATEST/HISTORY/RESET/
                            GRAPH/DOCTOR/HISTOGRAM/HELP, over what commands/metrics measures
                            (the server layer holds the slow log, the latency monitor and
                            the per-command histograms)
    memory_cmds.py          MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP, on
                            the estimate of commands/data/memory_model.py and
                            commands/server/memory.py
"""
