"""cluster-bus-secret: an HMAC on every compact frame, so only nodes that share the
secret can talk on the bus. Ours only: Redis's bus has no authentication at all.

Without a secret, anyone who can reach a bus port is a peer: a MEET makes it a member,
a PING can claim slots with a higher configEpoch, a FAIL marks a healthy node failed,
a gossip section can fill the node table. With a secret, every frame of the compact
format (cluster.messages) is *signed*: version byte SIGNED_VERSION, and the body is
followed by a tag::

    b"RCmp"  2:u8  length:u32  body[length - 16]  tag[16]
    tag = HMAC-SHA256(secret, everything before the tag)[:16]

The tag covers the prefix too, so the length and version cannot be changed either.
It is truncated to 128 bits: forging one is a 2**-128 guess per try, and each wrong
guess costs the attacker a TCP connection (the link is closed), so a longer tag would
add bytes to every heartbeat and no safety (truncation to >= 128 bits is what RFC 2104
section 5 and NIST SP 800-107 allow).

A node with a secret refuses (closes the link, counts, logs once per address):
an unsigned compact frame, a frame whose tag does not verify, and every message in
Redis's format (a redis-server cannot sign, so a secret means a cluster of our nodes
only). A node without a secret refuses signed frames the same way.

What it does not do (documented in the README): encrypt (use a private network or a
TLS tunnel for that), or stop a replay of a frame recorded on the wire by someone who
can also inject into it. A replayed heartbeat carries old epochs and old slots, which
the epoch rules already treat as stale.

Sans-I/O, like the codecs: bytes in, bytes out.
"""

from __future__ import annotations

import hashlib
import hmac

from cluster import messages as m
from cluster.errors import BusAuthError

SIGNED_VERSION = m.SIGNED_VERSION
TAG_LEN = 16


def _tag(secret: bytes, signed: bytes) -> bytes:
    return hmac.new(secret, signed, hashlib.sha256).digest()[:TAG_LEN]


def seal(secret: bytes, body: bytes) -> bytes:
    """One signed frame carrying ``body`` (a cluster.messages msgpack body)."""
    prefix = m.PREFIX.pack(m.SIGNATURE, SIGNED_VERSION, len(body) + TAG_LEN)
    return prefix + body + _tag(secret, prefix + body)


def open_frame(secret: bytes | None, frame: bytes) -> bytes:
    """The body of one complete compact frame, once it has passed the secret's check
    (see the module docstring); BusAuthError otherwise."""
    signed = frame[4] == SIGNED_VERSION
    if secret is None:
        if signed:
            raise BusAuthError("a signed frame, but this node has no cluster-bus-secret")
        return frame[m.PREFIX_LEN:]
    if not signed:
        raise BusAuthError("an unsigned frame (the sender has no cluster-bus-secret)")
    if len(frame) < m.PREFIX_LEN + TAG_LEN:
        raise BusAuthError("a signed frame shorter than its tag")
    if not hmac.compare_digest(frame[-TAG_LEN:], _tag(secret, frame[:-TAG_LEN])):
        raise BusAuthError("a frame whose HMAC does not verify (another "
                           "cluster-bus-secret, or forged)")
    return frame[m.PREFIX_LEN:-TAG_LEN]
