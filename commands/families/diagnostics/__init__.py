"""What an operator asks the node about itself:

    memory_cmds.py   MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP, on the
                     estimate of commands/data/memory_model.py and commands/server/memory.py
"""
