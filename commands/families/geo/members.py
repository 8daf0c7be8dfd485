"""GEOADD GEOPOS GEOHASH GEODIST, and what the searches (search.py) share with them: the
readers of coordinates, units and distances, and the two number formats of geo replies.

GEOADD is ZADD with each (longitude, latitude) turned into its 52-bit geohash score, as
Redis's geoaddCommand rewrites its arguments and calls zaddCommand. Positions read back
are the centres of the members' geohash boxes, so they differ from what was added in the
last digits -- the same digits Redis prints.

Numbers in replies, as Redis 7.0 writes them:

* distances: a bulk string with exactly four decimals (fixedpoint_d2string), in both
  protocols;
* coordinates: "%.17Lf" with the trailing zeros cut (addReplyHumanLongDouble): a bulk
  string in RESP2, a double in RESP3.
"""
from commands.data import geohash
from commands.data.numbers import NOT_FLOAT
from commands.data.zset_type import parse_score
from commands.families.zsets import _zadd, read_zset
from commands.server.args import SYNTAX_ERROR
from commands.server.resp import NULL_ARRAY, Raw, ReplyError
from commands.server.table import command, key_spec


# Metres per unit (extractUnitOrReply).
UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}
BAD_UNIT = "ERR unsupported unit provided. please use M, KM, FT, MI"


# ---------------------------------------------------------------- arguments

def double_arg(arg: bytes, error: str = NOT_FLOAT) -> float:
    """getDoubleFromObjectOrReply: the whole string as strtod reads it."""
    value = parse_score(arg)
    if value is None:
        raise ReplyError(error)
    return value


def lon_lat_args(lon_arg: bytes, lat_arg: bytes):
    """extractLongLatOrReply: two doubles inside Redis's limits."""
    lon = double_arg(lon_arg)
    lat = double_arg(lat_arg)
    if lon < geohash.LONG_MIN or lon > geohash.LONG_MAX or \
            lat < geohash.LAT_MIN or lat > geohash.LAT_MAX:
        raise ReplyError("ERR invalid longitude,latitude pair %f,%f" % (lon, lat))
    return lon, lat


def unit_arg(arg: bytes) -> float:
    conversion = UNITS.get(arg.lower())
    if conversion is None:
        raise ReplyError(BAD_UNIT)
    return conversion


def member_position(zs, member: bytes):
    """(lon, lat) of a member, or None when it is not in the set."""
    score = zs.scores.get(member)
    return None if score is None else geohash.decode_score(score)


# ---------------------------------------------------------------- reply formats

def format_distance(d: float) -> bytes:
    """fixedpoint_d2string(d, 4): rounded half to even (llrint) to four decimals."""
    if d == 0:
        return b"0.0000"
    scaled = round(d * 10000.0)
    sign = b"-" if scaled < 0 else b""
    whole, frac = divmod(abs(scaled), 10000)
    return b"%s%d.%04d" % (sign, whole, frac)


def format_coordinate(x: float) -> bytes:
    """ld2string(LD_STR_HUMAN): %.17f without trailing zeros ("-0" becomes "0")."""
    text = b"%.17f" % x
    if b"." in text:
        text = text.rstrip(b"0").rstrip(b".")
    return b"0" if text == b"-0" else text


def coordinate_reply(c, x: float):
    text = format_coordinate(x)
    return Raw(b",%s\r\n" % text) if c.resp3 else text


def position_reply(c, lon: float, lat: float) -> list:
    return [coordinate_reply(c, lon), coordinate_reply(c, lat)]


# ---------------------------------------------------------------- commands

_GEOADD_FLAGS = (b"nx", b"xx", b"ch")


@command("geoadd", -5, "write denyoom", keys=(1, 1, 1), group="geo", since="3.2.0",
         key_specs=[key_spec(["RW", "update"], 1)],
         complexity="O(log(N)) for each item added, where N is the number of elements in "
                    "the sorted set.",
         summary="Add one or more geospatial items in the geospatial index represented "
                 "using a sorted set")
def geoadd(c, argv):
    flags = set()
    i = 2
    while i < len(argv) and argv[i].lower() in _GEOADD_FLAGS:
        flags.add(argv[i].lower())
        i += 1
    rest = argv[i:]
    # No triple at all is ZADD's syntax error (Redis hands GEOADD's arguments to ZADD).
    if not rest or len(rest) % 3 or (b"nx" in flags and b"xx" in flags):
        raise ReplyError(SYNTAX_ERROR)
    pairs = []
    for j in range(0, len(rest), 3):
        lon, lat = lon_lat_args(rest[j], rest[j + 1])
        # As Redis: the score travels as the integer's text and ZADD reads it back.
        pairs.append((b"%d" % geohash.encode(lon, lat, geohash.STEP_MAX), rest[j + 2]))
    return _zadd(c, argv[1], flags, pairs)


@command("geopos", -2, "readonly", keys=(1, 1, 1), group="geo", since="3.2.0",
         complexity="O(N) where N is the number of members requested.",
         summary="Returns longitude and latitude of members of a geospatial index")
def geopos(c, argv):
    zs = read_zset(c, argv[1])
    out = []
    for member in argv[2:]:
        pos = None if zs is None else member_position(zs, member)
        out.append(NULL_ARRAY if pos is None else position_reply(c, *pos))
    return out


@command("geohash", -2, "readonly", keys=(1, 1, 1), group="geo", since="3.2.0",
         complexity="O(log(N)) for each member requested, where N is the number of "
                    "elements in the sorted set.",
         summary="Returns members of a geospatial index as standard geohash strings")
def geohash_(c, argv):
    zs = read_zset(c, argv[1])
    out = []
    for member in argv[2:]:
        pos = None if zs is None else member_position(zs, member)
        out.append(None if pos is None else geohash.standard_geohash(*pos))
    return out


@command("geodist", -4, "readonly", keys=(1, 1, 1), group="geo", since="3.2.0",
         complexity="O(log(N))",
         summary="Returns the distance between two members of a geospatial index")
def geodist(c, argv):
    conversion = 1.0
    if len(argv) == 5:
        conversion = unit_arg(argv[4])
    elif len(argv) > 5:
        raise ReplyError(SYNTAX_ERROR)
    zs = read_zset(c, argv[1])
    if zs is None:
        return None
    a = member_position(zs, argv[2])
    b = member_position(zs, argv[3])
    if a is None or b is None:
        return None
    return format_distance(geohash.distance(a[0], a[1], b[0], b[1]) / conversion)
