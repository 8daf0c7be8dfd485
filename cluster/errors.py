"""Exceptions of the cluster package."""


class ClusterError(Exception):
    """A CLUSTER command was refused; ``str(err)`` is Redis's exact error text
    without the ``ERR`` prefix (the command layer adds it)."""


class BusProtocolError(Exception):
    """A cluster-bus frame was malformed; the link that carried it must be closed."""


class ConfigFileError(Exception):
    """nodes.conf is corrupt; the message names the file and line."""
