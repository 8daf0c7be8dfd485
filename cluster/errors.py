"""Exceptions of the cluster package."""


class ClusterError(Exception):
    """A CLUSTER command was refused; ``str(err)`` is Redis's exact error text
    without the ``ERR`` prefix (the command layer adds it)."""


class BusProtocolError(Exception):
    """A cluster-bus frame was malformed; the link that carried it must be closed."""


class ConfigFileError(Exception):
    """nodes.conf is corrupt. The message is the whole line node.py prints before
    exiting 1: Redis's "Unrecoverable error: corrupted cluster config file", then the
    file and line when known."""


class BusAuthError(BusProtocolError):
    """A cluster-bus frame failed cluster-bus-secret's check (unsigned, signed with
    another secret, forged, or Redis's format, which cannot be signed); the link that
    carried it must be closed, and the refusal is counted in CLUSTER INFO."""
