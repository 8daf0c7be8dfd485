"""Keys to hash slots, and slot-range helpers.

A key maps to one of 16384 slots by CRC16/XMODEM of the key, or of its hash tag:
the bytes between the first '{' and the first '}' after it, when at least one byte
lies between them (so "foo{}{bar}" hashes the whole key).
"""
from binascii import crc_hqx

CLUSTER_SLOTS = 16384


def key_hash_slot(key: bytes) -> int:
    """The slot of `key`, as Redis's keyHashSlot computes it."""
    start = key.find(b"{")
    if start != -1:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1:end]
    return crc_hqx(key, 0) & 0x3FFF
