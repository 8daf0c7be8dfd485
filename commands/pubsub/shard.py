"""Sharded Pub/Sub (Redis 7): SSUBSCRIBE SUNSUBSCRIBE SPUBLISH.

A shard channel lives in the hash slot of its name, like a key, and only the shard serving
that slot (its master and replicas) carries it. The command table declares the channels
as keys, so the router sends clients where the slot is served and refuses channels of
different slots with -CROSSSLOT; the "pubsubshard" flag tells the router to treat these
commands as Redis does (served by a replica of the slot's master without READONLY, no key
lookups during a migration, cluster-allow-pubsubshard-when-down).

SPUBLISH delivers to this node's shard subscribers and sends the message on the cluster
bus to the other nodes of my shard only. When the slot leaves the shard, its subscribers
get a "sunsubscribe" message (PubSubHub.cron, commands/pubsub/channels.py).

Registry, reply encoding and delivery are shared with classic Pub/Sub (commands/pubsub/channels.py).
"""
from commands.pubsub.hub import SHARD, propagate, subscribe_many, unsubscribe_many
from commands.server.resp import ReplyError
from commands.server.table import command

_FLAGS = "pubsub noscript loading stale pubsub-ok pubsubshard"
_CHANNELS = (1, -1, 1)              # every argument is a channel, routed like a key


@command("ssubscribe", -2, _FLAGS, keys=_CHANNELS, group="pubsub", since="7.0.0",
         summary="Listen for messages published to the given shard channels",
         complexity="O(N) where N is the number of shard channels to subscribe to.")
def ssubscribe(c, argv):
    # Unlike SUBSCRIBE, not even inside MULTI (Redis's ssubscribeCommand): EXEC runs its
    # commands with c.multi set.
    if c.deny_blocking or c.multi is not None:
        raise ReplyError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
    return subscribe_many(c, SHARD, argv[1:])


@command("sunsubscribe", -1, _FLAGS, keys=_CHANNELS, group="pubsub", since="7.0.0",
         summary="Stop listening for messages posted to the given shard channels",
         complexity="O(N) where N is the number of clients already subscribed to a "
                    "shard channel.")
def sunsubscribe(c, argv):
    return unsubscribe_many(c, SHARD, argv[1:])


@command("spublish", 3, "pubsub loading stale fast may-replicate pubsubshard",
         keys=(1, 1, 1), group="pubsub", since="7.0.0",
         summary="Post a message to a shard channel",
         complexity="O(N) where N is the number of clients subscribed to the receiving "
                    "shard channel.")
def spublish(c, argv):
    server = c.server
    registry = server.pubsub
    receivers = registry.publish(argv[1], argv[2], sharded=True) \
        if registry is not None else 0
    propagate(server, argv[1], argv[2], sharded=True)
    return receivers
