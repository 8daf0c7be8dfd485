"""The range of epochs, and the one way to take a new one.

Redis keeps currentEpoch and configEpoch as uint64 and adopts any greater epoch a known
peer announces. Its increment (``currentEpoch++``) wraps 2^64-1 to 0, and a replica
asking for votes at epoch 0 is refused by every master that has voted since: one frame
announcing 2^64-1 ends failover in a Redis cluster. Here (Python ints do not wrap) the
same frame made the next election's epoch 2^64, which the bus encoder cannot write.

The rule:

* An epoch is valid in 0..MAX_EPOCH, MAX_EPOCH = 2^63-1: the largest that CLUSTER
  SET-CONFIG-EPOCH (a long long) accepts, and a range no real cluster leaves, since
  epochs grow by one per election or configuration bump. A bus frame (or the Redis binary
  bus of a later codec) carrying a larger epoch is corrupt and refused at decode time,
  before any node can adopt it; its link is closed and logged like any malformed frame.
* next_epoch() never goes past MAX_EPOCH: it saturates. A cluster pushed to exactly
  MAX_EPOCH by a frame still runs elections (masters that have not voted at MAX_EPOCH
  grant their vote) instead of raising or wrapping to 0.
"""

MAX_EPOCH = 2 ** 63 - 1


def next_epoch(epoch: int) -> int:
    """The epoch after `epoch` for an election or a configEpoch bump (see the rule above)."""
    return epoch + 1 if epoch < MAX_EPOCH else MAX_EPOCH
