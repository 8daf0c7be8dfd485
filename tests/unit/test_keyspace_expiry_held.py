"""Keyspace.set over a key past its time, with and without a pause holding expiry."""
from commands.data.keyspace import Keyspace, now_ms


def _expired_key(held: bool) -> Keyspace:
    ks = Keyspace()
    ks.set(b"k", b"old")
    ks.set_expire(b"k", now_ms() - 10)
    ks.expiry_held = lambda: held
    return ks


def test_set_over_an_expired_key_expires_it_first():
    ks = _expired_key(held=False)
    ks.set(b"k", b"new")
    assert ks.peek(b"k") == b"new" and ks.expired_keys == 1 and b"k" not in ks.expires


def test_set_over_an_expired_key_while_expiry_is_held_overwrites_it():
    # It used to recurse until RecursionError: the held expiry left the key in place.
    ks = _expired_key(held=True)
    ks.set(b"k", b"new")
    assert ks.peek(b"k") == b"new" and ks.size == 1 and ks.expired_keys == 0
    assert b"k" not in ks.expires
