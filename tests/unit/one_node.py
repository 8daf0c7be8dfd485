"""A server whose cluster is one node owning every slot, for tests of the request path
in-process (routing, the serve loop, EXEC) without a cluster bus."""

from commands.data.keyspace import Keyspace
from commands.server import routing
from commands.server.context import Server
from commands.server.settings import Settings


class _Me:
    is_master = True
    master_name = None
    name = "me"


class OneNodeView:
    """The cluster view a one-node cluster gives the Router: every slot ours, nothing
    migrating."""

    def __init__(self):
        self.myself = _Me()
        self.slots = [self.myself] * 16384
        self.cluster_ok = True
        self.writes_held = False
        self.migrating_slots_to = {}
        self.importing_slots_from = {}


def one_node_server() -> Server:
    server = Server(Settings(), Keyspace())
    server.cluster = OneNodeView()
    server.router = routing.Router(server.cluster, server.keyspace, server.settings)
    return server
