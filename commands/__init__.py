"""Everything a client sees: the RESP server, the command table and the commands.

Each command family lives in its own module and registers its commands in the table
(commands/table.py) when imported; `load_all_commands` imports them all.
"""
import importlib

FAMILIES = ("connection_cmds", "strings", "keys", "transactions", "server", "introspection",
            "cluster", "cluster_debug", "dump", "migrate", "hashes", "sets",
            "lists", "zsets", "zsets_ranges", "zsets_setops", "blocking_cmds",
            "replication_cmds", "pubsub")


def load_all_commands() -> None:
    for family in FAMILIES:
        try:
            importlib.import_module("commands." + family)
        except ModuleNotFoundError as exc:
            if exc.name != "commands." + family:
                raise
