"""commands/data/notifications.py: the notify-keyspace-events text and the publisher."""
import pytest

from commands.data.keyspace import Keyspace
from commands.data.notifications import (INVALID_CLASS, KeyspaceEventsError, effective_flags,
                                         format_keyspace_events, notify_keyspace_event,
                                         parse_keyspace_events)


@pytest.mark.parametrize("text, canonical", [
    ("", ""), ("KEA", "AKE"), ("AKEnm", "AKEm"), ("g$lshzxetd", "A"), ("ExK", "xKE"),
    ("nK", "nK"), ("m", "m"), ("zhslg$E", "g$lshzE"), ("KEKE", "KE")])
def test_canonical_letters(text, canonical):
    assert format_keyspace_events(parse_keyspace_events(text)) == canonical


@pytest.mark.parametrize("text", ["a", "KEQ", " ", "k"])
def test_invalid_letters(text):
    with pytest.raises(KeyspaceEventsError, match=INVALID_CLASS.replace("$", r"\$")):
        parse_keyspace_events(text)


def test_nothing_is_kept_without_a_class_and_a_channel():
    for text in ("", "K", "E", "KE", "A", "g", "m"):
        assert effective_flags(parse_keyspace_events(text)) == 0
    assert effective_flags(parse_keyspace_events("Kg")) != 0


def _keyspace(text):
    ks = Keyspace()
    published = []
    ks.notify_publish = lambda channel, message: published.append((channel, message))
    ks.notify_flags = effective_flags(parse_keyspace_events(text))
    return ks, published


def test_keyspace_then_keyevent_channel():
    ks, published = _keyspace("KEg")
    notify_keyspace_event(ks, "g", b"del", b"k")
    notify_keyspace_event(ks, "$", b"set", b"k")       # class not enabled
    assert published == [(b"__keyspace@0__:k", b"del"), (b"__keyevent@0__:del", b"k")]


def test_keyspace_emits_new_and_expired():
    ks, published = _keyspace("Enx")
    ks.set(b"a", b"1")
    ks.set(b"a", b"2")                                   # not new
    ks.set_expire(b"a", 1)
    assert ks.get(b"a") is None
    assert published == [(b"__keyevent@0__:new", b"a"), (b"__keyevent@0__:expired", b"a")]


def test_off_publishes_nothing():
    ks, published = _keyspace("")
    ks.set(b"a", b"1")
    notify_keyspace_event(ks, "g", b"del", b"a")
    assert published == []
