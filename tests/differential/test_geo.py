"""Geo commands: the same requests to node.py and redis-server, replies compared exactly --
positions, distances and hashes to the last digit -- in RESP2 and RESP3 (where
coordinates are doubles). Hypothesis draws point sets and searches of every kind."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.collections_util import check_cases
from tests.differential.notify_streams import StreamPair
from tests.differential.sequences import sequence_settings
from tests.differential import test_tracking as tracking

SICILY = ("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669",
          "Catania", "12.758489", "38.788135", "edge1", "17.241510", "38.788135", "edge2")
# Poles (Redis's latitude limit), both sides of the antimeridian, the origin, duplicates.
EDGES = ("GEOADD", "e", "0", "0", "origin", "0", "0", "origin2", "0", "0", "origin3",
         "180", "0", "east", "-180", "0", "west", "179.9999", "10", "e1", "-179.9999", "10",
         "w1", "0", "85.05112878", "north", "0", "-85.05112878", "south", "45", "85",
         "n45", "-135", "-84.9", "s135", "90", "-0.0000001", "q")

KEYS = {"g", "e", "dst", "none", "str"}

CASES = {
    "members": [
        SICILY, ("GEOADD", "g", "13.361389", "38.115556", "Palermo"),
        ("GEOADD", "g", "CH", "13.4", "38.1", "Palermo", "1", "1", "new"),
        ("GEOADD", "g", "NX", "CH", "1", "2", "Palermo", "1", "2", "new2"),
        ("GEOADD", "g", "XX", "1", "2", "new2", "1", "2", "new3"),
        ("GEOPOS", "g", "Palermo", "Catania", "nope", "new"), ("GEOPOS", "none", "a"),
        ("GEOHASH", "g", "Palermo", "Catania", "nope", "edge1"), ("GEOHASH", "none", "a"),
        ("GEODIST", "g", "Palermo", "Catania"), ("GEODIST", "g", "Palermo", "Catania", "km"),
        ("GEODIST", "g", "Palermo", "Catania", "MI"), ("GEODIST", "g", "Palermo", "Catania",
                                                       "ft"),
        ("GEODIST", "g", "Palermo", "nope"), ("GEODIST", "none", "a", "b"),
        ("GEODIST", "g", "Palermo", "Palermo"), ("ZRANGE", "g", "0", "-1", "WITHSCORES"),
        ("OBJECT", "ENCODING", "g")],
    "edges": [
        EDGES, ("GEOPOS", "e", "east", "west", "north", "south", "q"),
        ("GEOHASH", "e", "east", "west", "north", "south", "n45", "s135"),
        ("GEODIST", "e", "east", "west"), ("GEODIST", "e", "north", "south", "km"),
        ("GEODIST", "e", "e1", "w1", "m"),
        ("GEORADIUS", "e", "180", "0", "100", "km", "WITHDIST", "WITHCOORD", "WITHHASH"),
        ("GEORADIUS", "e", "-180", "5", "2000", "km", "WITHDIST", "ASC"),
        ("GEORADIUS", "e", "0", "85", "1000", "km", "WITHDIST", "DESC"),
        ("GEORADIUS", "e", "0", "-85.05112878", "3000", "km", "WITHCOORD"),
        ("GEORADIUS", "e", "0", "0", "0", "m", "WITHDIST"),
        ("GEORADIUS", "e", "0", "0", "1", "m", "COUNT", "2", "WITHDIST"),
        ("GEORADIUS", "e", "0", "0", "1", "m", "COUNT", "2", "ANY"),
        ("GEORADIUS", "e", "0", "0", "20000", "km", "WITHDIST"),
        ("GEORADIUS", "e", "0", "0", "50000", "km", "COUNT", "5", "DESC"),
        ("GEORADIUS", "e", "0", "0", "inf", "km", "WITHDIST", "ASC"),
        ("GEORADIUS", "e", "0", "0", "1e308", "mi", "COUNT", "3", "ANY", "DESC"),
        ("GEORADIUS", "e", "100", "-40", "1", "km"),
        ("GEOSEARCH", "e", "FROMLONLAT", "180", "0", "BYBOX", "500", "3000", "km",
         "WITHDIST", "ASC"),
        ("GEOSEARCH", "e", "FROMMEMBER", "north", "BYBOX", "40000", "100", "km", "WITHCOORD"),
        ("GEOSEARCH", "e", "FROMMEMBER", "south", "BYRADIUS", "600", "mi", "WITHDIST"),
        ("GEOSEARCH", "e", "FROMLONLAT", "0", "0", "BYBOX", "0", "0", "m", "WITHHASH"),
        ("GEOSEARCH", "e", "FROMLONLAT", "0", "0", "BYRADIUS", "30000", "ft", "COUNT", "2",
         "ANY", "WITHDIST")],
    "searches": [
        SICILY,
        ("GEORADIUS", "g", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH"),
        ("GEORADIUS", "g", "15", "37", "200", "km", "ASC", "COUNT", "1"),
        ("GEORADIUS", "g", "15", "37", "200", "km", "DESC", "COUNT", "3", "ANY"),
        ("GEORADIUS_RO", "g", "15", "37", "200000", "m", "WITHDIST"),
        ("GEORADIUSBYMEMBER", "g", "Palermo", "200", "km", "WITHDIST", "DESC"),
        ("GEORADIUSBYMEMBER_RO", "g", "Catania", "100", "mi", "WITHCOORD", "ASC"),
        ("GEORADIUSBYMEMBER", "none", "x", "whatever", "km"),
        ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"),
        ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km",
         "WITHDIST", "WITHCOORD", "WITHHASH", "ASC"),
        ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "COUNT",
         "2", "ANY", "ASC"),
        ("GEOSEARCH", "none", "FROMMEMBER", "x", "BYRADIUS", "1", "km")],
    "store": [
        SICILY, ("EXPIRE", "dst", "100"),
        ("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "dst"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"), ("TTL", "dst"),
        ("GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "dst", "COUNT", "1"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("GEORADIUSBYMEMBER", "g", "Palermo", "200", "km", "STORE", "x", "STOREDIST", "dst"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km",
         "STOREDIST", "DESC"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"), ("OBJECT", "ENCODING", "dst"),
        ("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "100", "37", "BYRADIUS", "1", "km"),
        ("EXISTS", "dst"), ("SET", "dst", "x"),
        ("GEOSEARCHSTORE", "dst", "none", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km"),
        ("EXISTS", "dst"), ("GEORADIUS", "none", "1", "2", "1", "km", "STORE", "dst")],
    "errors": [
        SICILY, ("SET", "str", "x"),
        ("GEOADD", "g", "200", "10", "a"), ("GEOADD", "g", "10", "86", "a"),
        ("GEOADD", "g", "inf", "10", "a"), ("GEOADD", "g", "x", "10", "a"),
        ("GEOADD", "g", "1e400", "10", "a"), ("GEOADD", "g", " 1", "10", "a"),
        ("GEOADD", "g", "1", "2"), ("GEOADD", "g", "1", "2", "a", "3"),
        ("GEOADD", "g", "NX", "XX", "1", "2", "a"), ("GEOADD", "g", "GT", "1", "2", "a"),
        ("GEOADD", "g", "CH", "CH", "CH"), ("GEOADD", "g", "XX", "XX", "XX"),
        ("GEOADD", "g", "NX", "CH", "XX"),
        ("GEOADD", "str", "1", "2", "a"), ("GEOADD", "str", "1", "200", "a"),
        ("GEOPOS", "str", "a"), ("GEOHASH", "str", "a"), ("GEODIST", "str", "a", "b"),
        ("GEODIST", "g", "a", "b", "parsec"), ("GEODIST", "str", "a", "b", "parsec"),
        ("GEODIST", "g", "a", "b", "km", "x"),
        ("GEORADIUS", "g", "1", "2", "-1", "km"), ("GEORADIUS", "g", "1", "2", "x", "km"),
        ("GEORADIUS", "g", "1", "2", "1", "yd"), ("GEORADIUS", "g", "1", "200", "1", "km"),
        ("GEORADIUS", "str", "1", "2", "1", "km"),
        ("GEORADIUS", "g", "1", "2", "1", "km", "COUNT"),
        ("GEORADIUS", "g", "1", "2", "1", "km", "COUNT", "0"),
        ("GEORADIUS", "g", "1", "2", "1", "km", "COUNT", "-3"),
        ("GEORADIUS", "g", "1", "2", "1", "km", "COUNT", "x"),
        ("GEORADIUS", "g", "1", "2", "1", "km", "ANY"),
        ("GEORADIUS", "g", "1", "2", "1", "km", "STORE"),
        ("GEORADIUS", "g", "1", "2", "1", "km", "STORE", "dst", "WITHDIST"),
        ("GEORADIUS", "g", "1", "2", "1", "km", "BYBOX"),
        ("GEORADIUS_RO", "g", "1", "2", "1", "km", "STORE", "dst"),
        ("GEORADIUSBYMEMBER", "g", "nope", "1", "km"),
        ("GEORADIUSBYMEMBER_RO", "g", "Palermo", "1", "km", "STOREDIST", "dst"),
        ("GEOSEARCH", "g", "BYRADIUS", "1", "km"), ("geosearch", "g", "FROMLONLAT", "1", "2"),
        ("GEOSEARCH", "g", "FROMMEMBER", "nope", "BYRADIUS", "1", "km"),
        ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "FROMLONLAT", "1", "2", "BYRADIUS", "1",
         "km"),
        ("GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "BYBOX", "1", "1",
         "km"),
        ("GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYBOX", "-1", "1", "km"),
        ("GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYBOX", "x", "1", "km"),
        ("GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYBOX", "1", "y", "km"),
        ("GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "STORE", "dst"),
        ("GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "STOREDIST"),
        ("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km",
         "WITHCOORD"),
        ("GEOSEARCHSTORE", "dst", "str", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km"),
        ("GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "WITHDIST",
         "COUNT", "1", "ANY", "FOO")],
    # A sorted set with scores no GEOADD makes: Redis decodes whatever is there.
    "foreign_scores": [
        ("ZADD", "g", "-5", "neg", "1e20", "big", "inf", "inf", "4503599627370495", "top",
         "0", "zero", "9007199254740993", "p53"),
        ("GEOPOS", "g", "neg", "big", "inf", "top", "zero", "p53"),
        ("GEOHASH", "g", "neg", "big", "inf", "top", "zero", "p53"),
        ("GEODIST", "g", "neg", "top", "km"),
        ("GEORADIUS", "g", "0", "0", "30000", "km", "WITHDIST", "WITHHASH")],
}


def test_geo_cases(diff):
    for commands in CASES.values():
        check_cases(diff, commands, KEYS)


def test_command_info_and_keys(diff):
    names = ["geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro",
             "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore"]
    diff.check("COMMAND", "INFO", *names)
    for args in [("georadius", "g", "1", "2", "3", "km", "store", "a", "storedist", "b"),
                 ("georadius", "g", "1", "2", "3", "km", "store", "a", "store", "b"),
                 ("georadiusbymember", "g", "m", "3", "km", "storedist", "a", "store"),
                 ("geosearchstore", "d", "s", "fromlonlat", "1", "2", "byradius", "1", "km"),
                 ("geoadd", "g", "1", "2", "m"), ("geosearch", "g", "x")]:
        diff.check("COMMAND", "GETKEYS", *args)
        diff.check("COMMAND", "GETKEYSANDFLAGS", *args)


DOC_FIELDS = (b"summary", b"since", b"group", b"complexity", b"doc_flags",
              b"deprecated_since", b"replaced_by")


def _doc_fields(reply):
    """COMMAND DOCS of one command, only the fields we keep (no history, no arguments)."""
    fields = reply[1][1][1]
    docs = dict(zip([name for _, name in fields[::2]], fields[1::2]))
    return {name: value for name, value in docs.items() if name in DOC_FIELDS}


@pytest.mark.parametrize("name", [
    "geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro",
    "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore", "sort",
    "sort_ro"])
def test_command_docs(diff, name):
    ours, ref = diff.both("COMMAND", "DOCS", name)
    assert _doc_fields(ours) == _doc_fields(ref)


def test_store_keys_must_share_a_slot(diff):
    diff.check(*SICILY)
    diff.check("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "elsewhere")
    diff.check("GEORADIUSBYMEMBER", "g", "Palermo", "200", "km", "STOREDIST", "elsewhere")
    diff.check("GEOSEARCHSTORE", "elsewhere", "g", "FROMLONLAT", "15", "37", "BYRADIUS",
               "200", "km")
    diff.check("GEOADD", "{g}src", "15", "37", "a")
    diff.check("GEOSEARCHSTORE", "{g}dst", "{g}src", "FROMLONLAT", "15", "37", "BYRADIUS",
               "200", "km")
    diff.check("ZRANGE", "{g}dst", "0", "-1", "WITHSCORES")


# ---------------------------------------------------------------- random points and queries

LATS = st.one_of(st.floats(-85.05112878, 85.05112878),
                 st.sampled_from([85.05112878, -85.05112878, 0.0, 85.0, -85.0, 66.5, -80.1]))
LONS = st.one_of(st.floats(-180, 180),
                 st.sampled_from([180.0, -180.0, 0.0, 179.99, -179.99, 90.0]))
UNITS = st.sampled_from(["m", "km", "mi", "ft"])
SIZES = st.one_of(st.floats(0, 500), st.floats(0, 5000), st.floats(0, 25000),
                  st.sampled_from([0.0, 1.0, 20037.0]))      # km, converted below
METRES = {"m": 1.0, "km": 1000.0, "mi": 1609.34, "ft": 0.3048}


@st.composite
def queries(draw, n):
    unit = draw(UNITS)
    size = "%r" % (draw(SIZES) * 1000 / METRES[unit])
    options = draw(st.lists(st.sampled_from(
        [("WITHDIST",), ("WITHCOORD",), ("WITHHASH",), ("ASC",), ("DESC",),
         ("COUNT", "1"), ("COUNT", "3"), ("COUNT", "7", "ANY"), ("COUNT", "2", "ANY")]),
        max_size=3))
    flat = tuple(word for option in options for word in option)
    if any("ANY" in option for option in options[:-1]):
        flat = tuple(w for w in flat if w != "ANY")     # ANY must follow its COUNT here
    member = "p%d" % draw(st.integers(0, n - 1))
    lon, lat = "%r" % draw(LONS), "%r" % draw(LATS)
    kind = draw(st.sampled_from(["radius", "bymember", "box", "search_member"]))
    if kind == "radius":
        return ("GEORADIUS", "g", lon, lat, size, unit) + flat
    if kind == "bymember":
        return ("GEORADIUSBYMEMBER", "g", member, size, unit) + flat
    if kind == "box":
        height = "%r" % (draw(SIZES) * 1000 / METRES[unit])
        return ("GEOSEARCH", "g", "FROMLONLAT", lon, lat, "BYBOX", size, height, unit) + flat
    return ("GEOSEARCH", "g", "FROMMEMBER", member, "BYRADIUS", size, unit) + flat


@st.composite
def scenarios(draw):
    points = draw(st.lists(st.tuples(LONS, LATS), min_size=1, max_size=60))
    n = len(points)
    return points, draw(st.lists(queries(n), min_size=1, max_size=12))


@given(scenario=scenarios())
@sequence_settings(40)
def test_random_points_and_searches(diff, scenario):
    points, searches = scenario
    diff.check("DEL", "g")
    args = [word for i, (lon, lat) in enumerate(points)
            for word in ("%r" % lon, "%r" % lat, "p%d" % i)]
    diff.check("GEOADD", "g", *args)
    names = ["p%d" % i for i in range(len(points))]
    diff.check("GEOPOS", "g", *names)
    diff.check("GEOHASH", "g", *names)
    diff.check("GEODIST", "g", names[0], names[-1], "km")
    for search in searches:
        diff.check(*search)


# ---------------------------------------------------------------- keyspace notifications

@pytest.fixture
def streams(diff_servers):
    ours, ref = diff_servers
    pair = StreamPair(ours.port, ref.port)
    pair.both("FLUSHALL")
    pair.both("CONFIG", "SET", "notify-keyspace-events", "KEAnm")
    pair.ours.drain(), pair.redis.drain()
    yield pair
    pair.both("CONFIG", "SET", "notify-keyspace-events", "")
    pair.both("FLUSHALL")
    pair.close()


def test_geo_event_streams(streams):
    """GEOADD is a ZADD ('zadd'); the STORE forms emit 'georadiusstore'/'geosearchstore',
    or 'del' when the result is empty; reads of missing keys emit 'keymiss'."""
    events = streams.run([
        ("GEOADD", "{g}src", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669",
         "Catania"),
        ("GEOADD", "{g}src", "NX", "13.361389", "38.115556", "Palermo"),
        ("GEOADD", "{g}src", "XX", "CH", "13.4", "38.1", "Palermo"),
        ("GEOPOS", "{g}none", "a"), ("GEODIST", "{g}none", "a", "b"),
        ("GEORADIUS", "{g}src", "15", "37", "200", "km", "STORE", "{g}dst"),
        ("GEORADIUS", "{g}src", "15", "37", "200", "km", "STOREDIST", "{g}dst"),
        ("GEORADIUSBYMEMBER", "{g}src", "Palermo", "1", "km", "STORE", "{g}dst"),
        ("GEORADIUS", "{g}src", "100", "37", "1", "km", "STORE", "{g}dst"),
        ("GEOSEARCHSTORE", "{g}dst", "{g}src", "FROMLONLAT", "15", "37", "BYRADIUS", "200",
         "km"),
        ("GEOSEARCHSTORE", "{g}dst", "{g}none", "FROMLONLAT", "15", "37", "BYRADIUS", "1",
         "km"),
        ("GEORADIUS", "{g}none", "15", "37", "1", "km", "STORE", "{g}dst"),
        ("GEOSEARCH", "{g}src", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km")])
    assert (b"__keyevent@0__:geosearchstore", b"{g}dst") in events


# ---------------------------------------------------------------- argument soup

WORDS = ["{a}g", "{a}l", "{a}str", "{a}none", "Palermo", "Catania", "x", "1", "2", "-1",
         "0", "200", "15", "37", "km", "m", "mi", "ft", "KM", "inf", "nan", "1e400",
         "WITHDIST", "WITHCOORD", "WITHHASH", "COUNT", "ANY", "ASC", "DESC", "STORE",
         "STOREDIST", "FROMMEMBER", "FROMLONLAT", "BYRADIUS", "BYBOX", "NX", "XX", "CH", "GT",
         "BY", "nosort", "GET", "#", "LIMIT", "ALPHA", "w_*", "", "-180", "180", "85.1"]
COMMANDS = ["GEOADD", "GEODIST", "GEOHASH", "GEOPOS", "GEORADIUS", "GEORADIUS_RO",
            "GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO", "GEOSEARCH", "GEOSEARCHSTORE",
            "SORT", "SORT_RO"]


@given(calls=st.lists(st.tuples(st.sampled_from(COMMANDS),
                                st.lists(st.sampled_from(WORDS), max_size=12)),
                      min_size=1, max_size=20))
@sequence_settings(15)
def test_random_argument_lists(diff, calls):
    """Any words in any order: the same reply or the same error, and never a crash."""
    diff.check("FLUSHALL")
    diff.check("GEOADD", "{a}g", "13.361389", "38.115556", "Palermo", "15.087269",
               "37.502669", "Catania")
    diff.check("RPUSH", "{a}l", "3", "1", "2")
    diff.check("SET", "{a}str", "x")
    for name, words in calls:
        reply = diff.check(name, *words)
        assert not (reply[0] == "-" and "internal error" in reply[1])


# ---------------------------------------------------------------- client-side caching

@pytest.fixture
def caching(diff):
    """test_tracking's Scenarios (named connections) on both servers."""
    ours_port, redis_port = diff.ours.sock.getpeername()[1], diff.redis.sock.getpeername()[1]
    scenarios = (tracking.Scenario(ours_port, redis_port),
                 tracking.Scenario(redis_port, ours_port))
    yield scenarios
    for scenario in scenarios:
        scenario.shut()


def test_tracked_geo_and_sort_keys_are_invalidated(caching):
    """Keys read by geo commands and SORT_RO are remembered; GEOADD, the STORE forms and
    SORT STORE invalidate them, message by message as on redis-server."""
    log = tracking.run(caching, [("a", True), ("b", False)], [
        ("b", "GEOADD", "{c}g", "13.361389", "38.115556", "Palermo", "15.087269",
         "37.502669", "Catania"),
        ("b", "RPUSH", "{c}l", "2", "1"),
        ("a", "CLIENT", "TRACKING", "on"),
        ("a", "GEOPOS", "{c}g", "Palermo"), ("b", "GEOADD", "{c}g", "1", "1", "x"),
        ("a", "GEOSEARCH", "{c}g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
        ("a", "GEODIST", "{c}dst", "a", "b"),
        ("b", "GEOSEARCHSTORE", "{c}dst", "{c}g", "FROMLONLAT", "15", "37", "BYRADIUS",
         "200", "km"),
        ("a", "SORT_RO", "{c}l"), ("a", "GEOHASH", "{c}s", "m"),
        ("b", "SORT", "{c}g", "ALPHA", "STORE", "{c}s"), ("b", "RPUSH", "{c}l", "3"),
        ("a", "GEORADIUS_RO", "{c}g", "15", "37", "200", "km"),
        ("b", "GEORADIUS", "{c}l", "15", "37", "200", "km", "STORE", "{c}g")])
    assert len([entry for entry in log if entry[1] == "push"]) >= 4
