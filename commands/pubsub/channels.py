"""Pub/Sub commands: SUBSCRIBE PSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE PUBLISH PUBSUB, on the
registry of commands/pubsub/hub.py.

Replies are those of redis-server 7.0.15 in cluster mode:

* (P|S)SUBSCRIBE and (P|S)UNSUBSCRIBE answer with one message per channel, e.g.
  ["subscribe", channel, count]: arrays in RESP2, push messages ('>') in RESP3. The count
  is the client's channels + patterns for the classic kinds, its shard channels alone for
  the sharded kind (Redis's pubsubtype.subscriptionCount).
* A client with at least one subscription is in "pub/sub mode" (client.pubsub_mode):
  in RESP2 the executor then refuses everything but (P|S)(UN)SUBSCRIBE, PING, QUIT and
  RESET (the "pubsub-ok" flag); RESP3 clients may run anything.
* PUBLISH answers how many clients *of this node* received the message, as Redis does in
  cluster mode, and hands the message to the cluster bus, which delivers it on every other
  node (server.deliver_publish is how the bus gets back to us).
"""
from commands.data.glob import matcher
from commands.pubsub.hub import (CHANNEL, PATTERN, SHARD, propagate, subscribe_many,
                                 unsubscribe_many)
from commands.server.resp import ReplyError, Status
from commands.server.table import command, container, subcommand

_FLAGS = "pubsub loading stale"
_SUBSCRIBE_FLAGS = "pubsub noscript loading stale pubsub-ok"


def deny_blocking(c) -> bool:
    """Scripts (and, for SSUBSCRIBE, transactions) expect one reply per command."""
    return c.deny_blocking


@command("subscribe", -2, _SUBSCRIBE_FLAGS, group="pubsub", since="2.0.0",
         summary="Listen for messages published to the given channels",
         complexity="O(N) where N is the number of channels to subscribe to.")
def subscribe(c, argv):
    # Inside MULTI it is allowed, for backward compatibility (Redis's subscribeCommand).
    if deny_blocking(c) and c.multi is None:
        raise ReplyError("ERR SUBSCRIBE isn't allowed for a DENY BLOCKING client")
    return subscribe_many(c, CHANNEL, argv[1:])


@command("psubscribe", -2, _SUBSCRIBE_FLAGS, group="pubsub", since="2.0.0",
         summary="Listen for messages published to channels matching the given patterns",
         complexity="O(N) where N is the number of patterns the client is already "
                    "subscribed to.")
def psubscribe(c, argv):
    if deny_blocking(c) and c.multi is None:
        raise ReplyError("ERR PSUBSCRIBE isn't allowed for a DENY BLOCKING client")
    return subscribe_many(c, PATTERN, argv[1:])


@command("unsubscribe", -1, _SUBSCRIBE_FLAGS, group="pubsub", since="2.0.0",
         summary="Stop listening for messages posted to the given channels",
         complexity="O(N) where N is the number of clients already subscribed to a "
                    "channel.")
def unsubscribe(c, argv):
    return unsubscribe_many(c, CHANNEL, argv[1:])


@command("punsubscribe", -1, _SUBSCRIBE_FLAGS, group="pubsub", since="2.0.0",
         summary="Stop listening for messages posted to channels matching the given "
                 "patterns",
         complexity="O(N+M) where N is the number of patterns the client is already "
                    "subscribed and M is the number of total patterns subscribed in the "
                    "system (by any client).")
def punsubscribe(c, argv):
    return unsubscribe_many(c, PATTERN, argv[1:])


@command("publish", 3, "pubsub loading stale fast may-replicate", group="pubsub",
         since="2.0.0", summary="Post a message to a channel",
         complexity="O(N+M) where N is the number of clients subscribed to the receiving "
                    "channel and M is the total number of subscribed patterns (by any "
                    "client).")
def publish(c, argv):
    server = c.server
    registry = server.pubsub
    receivers = registry.publish(argv[1], argv[2]) if registry is not None else 0
    propagate(server, argv[1], argv[2], sharded=False)
    return receivers


# ---------------------------------------------------------------- PUBSUB

PUBSUB = container("pubsub", -2, group="pubsub", since="2.8.0",
                   summary="A container for Pub/Sub commands")

_PUBSUB_HELP = [
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> "
    "(default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
]


def _table(c, kind) -> dict:
    registry = c.server.pubsub
    return registry.names(kind) if registry is not None else {}


def _active(c, argv, kind) -> list:
    """PUBSUB CHANNELS / SHARDCHANNELS [pattern]."""
    if len(argv) > 3:
        raise ReplyError("ERR unknown subcommand or wrong number of arguments for '%s'. "
                         "Try PUBSUB HELP." % argv[1].decode("utf-8", "replace"))
    names = list(_table(c, kind))
    if len(argv) == 3:
        match = matcher(argv[2])
        names = [name for name in names if match(name)]
    return names


def _numsub(c, argv, kind) -> list:
    table = _table(c, kind)
    reply = []
    for name in argv[2:]:
        reply.append(name)
        reply.append(len(table.get(name, ())))
    return reply


@subcommand(PUBSUB, "channels", -2, _FLAGS, since="2.8.0",
            summary="List active channels",
            complexity="O(N) where N is the number of active channels, and assuming "
                       "constant time pattern matching (relatively short channels and "
                       "patterns)")
def pubsub_channels(c, argv):
    return _active(c, argv, CHANNEL)


@subcommand(PUBSUB, "numpat", 2, _FLAGS, since="2.8.0",
            summary="Get the count of unique patterns pattern subscriptions",
            complexity="O(1)")
def pubsub_numpat(c, argv):
    return len(_table(c, PATTERN))


@subcommand(PUBSUB, "numsub", -2, _FLAGS, since="2.8.0",
            summary="Get the count of subscribers for channels",
            complexity="O(N) for the NUMSUB subcommand, where N is the number of "
                       "requested channels")
def pubsub_numsub(c, argv):
    return _numsub(c, argv, CHANNEL)


@subcommand(PUBSUB, "shardchannels", -2, _FLAGS, since="7.0.0",
            summary="List active shard channels",
            complexity="O(N) where N is the number of active shard channels, and assuming "
                       "constant time pattern matching (relatively short shard channels).")
def pubsub_shardchannels(c, argv):
    return _active(c, argv, SHARD)


@subcommand(PUBSUB, "shardnumsub", -2, _FLAGS, since="7.0.0",
            summary="Get the count of subscribers for shard channels",
            complexity="O(N) for the SHARDNUMSUB subcommand, where N is the number of "
                       "requested shard channels")
def pubsub_shardnumsub(c, argv):
    return _numsub(c, argv, SHARD)


@subcommand(PUBSUB, "help", 2, "loading stale", since="6.2.0", complexity="O(1)",
            summary="Show helpful text about the different subcommands")
def pubsub_help(c, argv):
    return [Status(line) for line in _PUBSUB_HELP]

