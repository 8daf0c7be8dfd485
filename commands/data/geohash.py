"""Redis's geohash, as geohash.c and geohash_helper.c of Redis 7.0 compute it.

A geo set is a sorted set whose scores are 52-bit integers: 26 bits of longitude and 26 bits
of latitude interleaved (latitude in the even bits, longitude in the odd ones), each the
coordinate's offset in its range scaled to 2**26. The latitude range is Redis's
-85.05112878..85.05112878 (the Web Mercator limits), not -90..90; GEOHASH re-encodes with
-90..90 to print the standard base-32 string.

Everything here is plain double arithmetic in Redis's order of operations, with the same
constants, so the decoded coordinates, the distances and the boxes a search visits are the
very doubles redis-server computes (Python's floats are C doubles and math.sin & co. are
the C library's). Nothing here knows of sorted sets or clients: commands/families/geo/
puts it to work.

    encode(lon, lat, step, lon_range, lat_range) -> bits  (interleaved, 2*step bits)
    decode_score(score) -> (lon, lat) | None              (a member's position)
    distance(lon1, lat1, lon2, lat2) -> metres            (haversine, Redis's radius)
    search_boxes(shape) -> [(bits, step), ...]            (the up to 9 boxes to scan)
    within(shape, lon, lat) -> metres | None              (is the point inside the shape?)
"""
import math

STEP_MAX = 26                              # 26 * 2 = 52 bits: a double holds them exactly
LAT_MIN, LAT_MAX = -85.05112878, 85.05112878
LONG_MIN, LONG_MAX = -180.0, 180.0
WGS84_LONG = (LONG_MIN, LONG_MAX)
WGS84_LAT = (LAT_MIN, LAT_MAX)
STANDARD_LAT = (-90.0, 90.0)               # what GEOHASH strings are computed with

EARTH_RADIUS_IN_METERS = 6372797.560856   # Redis's quadratic mean radius for WGS-84
MERCATOR_MAX = 20037726.37
D_R = math.pi / 180.0

CIRCLE, BOX = 1, 2

_MASK64 = (1 << 64) - 1
_EVEN = 0x5555555555555555                 # latitude bits
_ODD = 0xAAAAAAAAAAAAAAAA                  # longitude bits


# ---------------------------------------------------------------- bit interleaving

def _spread(v: int) -> int:
    """The 32 bits of v moved to the even positions of a 64-bit word."""
    v &= 0xFFFFFFFF
    v = (v | (v << 16)) & 0x0000FFFF0000FFFF
    v = (v | (v << 8)) & 0x00FF00FF00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v << 2)) & 0x3333333333333333
    return (v | (v << 1)) & _EVEN


def _squeeze(v: int) -> int:
    """The inverse of _spread: the even bits of v packed into 32 bits."""
    v &= _EVEN
    v = (v | (v >> 1)) & 0x3333333333333333
    v = (v | (v >> 2)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v >> 4)) & 0x00FF00FF00FF00FF
    v = (v | (v >> 8)) & 0x0000FFFF0000FFFF
    return (v | (v >> 16)) & 0xFFFFFFFF


def _uint32(x: float) -> int:
    """C's double -> uint32_t conversion for the offsets (0 .. 2**step): truncation."""
    return int(x) & 0xFFFFFFFF


def double_to_uint64(d: float) -> int:
    """`(uint64_t)score` as gcc compiles it on x86-64, out-of-range values included: a
    geo command may meet any score a client ZADDed."""
    if d != d:
        return 1 << 63
    if d >= 9223372036854775808.0:
        rest = d - 9223372036854775808.0
        if rest >= 9223372036854775808.0:
            return 0
        return int(rest) ^ (1 << 63)
    if d < -9223372036854775808.0:
        return 1 << 63
    return int(d) & _MASK64


# ---------------------------------------------------------------- encode / decode

def encode(lon: float, lat: float, step: int, lon_range=WGS84_LONG, lat_range=WGS84_LAT):
    """The interleaved hash of (lon, lat) with `step` bits per coordinate, or None where
    geohashEncode refuses (outside Redis's limits or the given ranges)."""
    if lon > LONG_MAX or lon < LONG_MIN or lat > LAT_MAX or lat < LAT_MIN:
        return None
    lat_min, lat_max = lat_range
    lon_min, lon_max = lon_range
    if lat < lat_min or lat > lat_max or lon < lon_min or lon > lon_max:
        return None
    lat_offset = (lat - lat_min) / (lat_max - lat_min)
    lon_offset = (lon - lon_min) / (lon_max - lon_min)
    lat_offset *= 1 << step
    lon_offset *= 1 << step
    return _spread(_uint32(lat_offset)) | (_spread(_uint32(lon_offset)) << 1)


def score_of(lon: float, lat: float) -> float:
    """GEOADD's score: the 52-bit hash (as ZADD would read it back: a double)."""
    return float(encode(lon, lat, STEP_MAX))


def area(bits: int, step: int, lon_range=WGS84_LONG, lat_range=WGS84_LAT):
    """The box a hash stands for: (lon_min, lon_max, lat_min, lat_max), as geohashDecode."""
    lat_scale = lat_range[1] - lat_range[0]
    lon_scale = lon_range[1] - lon_range[0]
    ilat = _squeeze(bits)
    ilon = _squeeze(bits >> 1)
    cells = float(1 << step)
    # `+ 1` on a uint32_t in C: it wraps.
    return (lon_range[0] + (ilon * 1.0 / cells) * lon_scale,
            lon_range[0] + (((ilon + 1) & 0xFFFFFFFF) * 1.0 / cells) * lon_scale,
            lat_range[0] + (ilat * 1.0 / cells) * lat_scale,
            lat_range[0] + (((ilat + 1) & 0xFFFFFFFF) * 1.0 / cells) * lat_scale)


# decode_score's fast path: the even bits of every 16-bit value packed into 8 bits, so a
# 52-bit hash splits into its two coordinates with eight table lookups. A bytes object
# (64 KB; indexing it gives the int): a list of 65536 entries would hold 512 KB for the
# node's whole life.
_EVEN_OF_16 = bytes(_squeeze(v) for v in range(1 << 16))
_CELLS = float(1 << STEP_MAX)
_LAT_SCALE = LAT_MAX - LAT_MIN
_LON_SCALE = LONG_MAX - LONG_MIN


def decode_score(score: float):
    """A member's (lon, lat): the centre of its 52-bit box, clamped to Redis's limits --
    area() and geohashDecodeAreaToLongLat in one, as this runs for every member a search
    looks at."""
    bits = double_to_uint64(score)
    t = _EVEN_OF_16
    ilat = t[bits & 0xFFFF] | t[(bits >> 16) & 0xFFFF] << 8 | \
        t[(bits >> 32) & 0xFFFF] << 16 | t[bits >> 48] << 24
    odd = bits >> 1
    ilon = t[odd & 0xFFFF] | t[(odd >> 16) & 0xFFFF] << 8 | \
        t[(odd >> 32) & 0xFFFF] << 16 | t[odd >> 48] << 24
    lon = ((LONG_MIN + (ilon * 1.0 / _CELLS) * _LON_SCALE) +
           (LONG_MIN + (((ilon + 1) & 0xFFFFFFFF) * 1.0 / _CELLS) * _LON_SCALE)) / 2
    lat = ((LAT_MIN + (ilat * 1.0 / _CELLS) * _LAT_SCALE) +
           (LAT_MIN + (((ilat + 1) & 0xFFFFFFFF) * 1.0 / _CELLS) * _LAT_SCALE)) / 2
    if lon > LONG_MAX:
        lon = LONG_MAX
    elif lon < LONG_MIN:
        lon = LONG_MIN
    if lat > LAT_MAX:
        lat = LAT_MAX
    elif lat < LAT_MIN:
        lat = LAT_MIN
    return lon, lat


# Searches decode the same members again and again (every query scans whole geohash
# boxes): the last positions decoded are kept, keyed by score (a pure function of it, so
# never stale). Bounded: emptied when full, about 3 MB at most.
_DECODED_MAX = 1 << 14
_decoded = {}


def position_of(score: float):
    """decode_score, remembered."""
    pos = _decoded.get(score)
    if pos is None:
        if len(_decoded) >= _DECODED_MAX:
            _decoded.clear()
        pos = _decoded[score] = decode_score(score)
    return pos


_ALPHABET = b"0123456789bcdefghjkmnpqrstuvwxyz"


def standard_geohash(lon: float, lat: float) -> bytes:
    """GEOHASH's 11 characters: re-encoded with latitude -90..90; the 11th is always '0'
    (52 bits make 10 characters and 2 bits; Redis pads with zero)."""
    bits = encode(lon, lat, STEP_MAX, WGS84_LONG, STANDARD_LAT) or 0
    chars = bytearray()
    for i in range(10):
        chars.append(_ALPHABET[(bits >> (52 - (i + 1) * 5)) & 0x1F])
    chars.append(_ALPHABET[0])
    return bytes(chars)


# ---------------------------------------------------------------- distances

def _cos(x: float) -> float:
    """C's cos: NaN for an infinite argument (Python's raises). A huge radius gets here."""
    return math.cos(x) if math.isfinite(x) else math.nan


def _asin(x: float) -> float:
    """C's asin: NaN outside [-1, 1] (rounding can push a haversine a hair above 1)."""
    return math.asin(x) if -1.0 <= x <= 1.0 else math.nan


def deg_rad(angle: float) -> float:
    return angle * D_R


def rad_deg(angle: float) -> float:
    return angle / D_R


def lat_distance(lat1: float, lat2: float) -> float:
    return EARTH_RADIUS_IN_METERS * abs(deg_rad(lat2) - deg_rad(lat1))


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Redis's haversine great-circle distance in metres."""
    lon1r = deg_rad(lon1)
    lon2r = deg_rad(lon2)
    v = math.sin((lon2r - lon1r) / 2)
    if v == 0.0:                   # same meridian: Redis skips the trigonometry
        return lat_distance(lat1, lat2)
    lat1r = deg_rad(lat1)
    lat2r = deg_rad(lat2)
    u = math.sin((lat2r - lat1r) / 2)
    a = u * u + math.cos(lat1r) * math.cos(lat2r) * v * v
    return 2.0 * EARTH_RADIUS_IN_METERS * _asin(math.sqrt(a))


# ---------------------------------------------------------------- search shapes

class Shape:
    """A search area: a circle (radius) or a box (width, height) around (lon, lat), the
    sizes in the query's unit and `conversion` metres per unit."""
    __slots__ = ("kind", "lon", "lat", "radius", "width", "height", "conversion")

    def __init__(self, kind, lon, lat, conversion, radius=0.0, width=0.0, height=0.0):
        self.kind = kind
        self.lon = lon
        self.lat = lat
        self.conversion = conversion
        self.radius = radius
        self.width = width
        self.height = height


def within(shape: Shape, lon: float, lat: float):
    """The distance in metres from the shape's centre to (lon, lat), or None outside."""
    return point_filter(shape)(lon, lat)


def point_filter(shape: Shape):
    """within() for one shape, as a function of (lon, lat): the centre's part of the
    haversine is computed once (the same operations, so the same doubles)."""
    clon, clat = shape.lon, shape.lat
    clon_r = deg_rad(clon)
    clat_r = deg_rad(clat)
    cos_clat = math.cos(clat_r)
    sin, sqrt = math.sin, math.sqrt

    def from_centre(lon, lat):            # distance(clon, clat, lon, lat)
        v = sin((deg_rad(lon) - clon_r) / 2)
        if v == 0.0:
            return lat_distance(clat, lat)
        lat_r = deg_rad(lat)
        u = sin((lat_r - clat_r) / 2)
        a = u * u + cos_clat * math.cos(lat_r) * v * v
        return 2.0 * EARTH_RADIUS_IN_METERS * _asin(sqrt(a))

    if shape.kind == CIRCLE:
        radius = shape.radius * shape.conversion

        # A point farther north or south than the radius is out whatever its longitude
        # (no great circle is shorter than the meridian arc between two parallels); the
        # margin is far above the rounding of both formulas, so no point Redis keeps is
        # dropped here, and the haversine still decides every other point.
        beyond = radius * (1 + 1e-9)

        def in_circle(lon, lat):
            if EARTH_RADIUS_IN_METERS * abs(lat * D_R - clat_r) > beyond:
                return None
            d = from_centre(lon, lat)
            return None if d > radius else d
        return in_circle

    half_height = shape.height * shape.conversion / 2
    half_width = shape.width * shape.conversion / 2

    def in_box(lon, lat):
        # Latitude first (cheaper), then the east-west distance along the point's own
        # parallel, as geohashGetDistanceIfInRectangle does.
        if lat_distance(lat, clat) > half_height:
            return None
        if distance(lon, lat, clon, lat) > half_width:
            return None
        return from_centre(lon, lat)
    return in_box


def bounding_box(shape: Shape):
    """(min_lon, min_lat, max_lon, max_lat) of the search area (geohashBoundingBox)."""
    if shape.kind == CIRCLE:
        height = shape.conversion * shape.radius
        width = shape.conversion * shape.radius
    else:
        height = shape.conversion * (shape.height / 2)
        width = shape.conversion * (shape.width / 2)
    lat = shape.lat
    lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS)
    long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / _cos(deg_rad(lat + lat_delta)))
    long_delta_bottom = rad_deg(width / EARTH_RADIUS_IN_METERS /
                                _cos(deg_rad(lat - lat_delta)))
    # The widest parallel is the one nearer the equator.
    long_delta = long_delta_bottom if lat < 0 else long_delta_top
    return shape.lon - long_delta, lat - lat_delta, shape.lon + long_delta, lat + lat_delta


def estimate_steps(range_meters: float, lat: float) -> int:
    """geohashEstimateStepsByRadius: the coarsest step whose boxes still cover the range."""
    if range_meters == 0:
        return 26
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:      # boxes narrow towards the poles
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return min(max(step, 1), 26)


def _move(bits: int, step: int, direction: int, odd: bool) -> int:
    """One box east/west (odd: the longitude bits) or north/south, wrapping around as
    Redis's geohash_move_x/y do."""
    if direction == 0:
        return bits
    mine = bits & (_ODD if odd else _EVEN)
    other = bits & (_EVEN if odd else _ODD)
    shift = 64 - step * 2
    zz = (_EVEN if odd else _ODD) >> shift
    if direction > 0:
        mine = (mine + (zz + 1)) & _MASK64
    else:
        mine = ((mine | zz) - (zz + 1)) & _MASK64
    mine &= (_ODD if odd else _EVEN) >> shift
    return mine | other


def _neighbour(bits, step, dx, dy):
    return _move(_move(bits, step, dx, True), step, dy, False)


# The order Redis scans them in (membersOfAllNeighbors): centre, N, S, E, W, NE, NW, SE, SW.
_DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))


def search_boxes(shape: Shape) -> list:
    """The boxes to scan for `shape`, as (bits, step) in Redis's order, with None for a box
    Redis leaves out (geohashCalculateAreasByShapeWGS84)."""
    min_lon, min_lat, max_lon, max_lat = bounding_box(shape)
    if shape.kind == CIRCLE:
        radius_meters = shape.radius
    else:
        radius_meters = math.sqrt((shape.width / 2) * (shape.width / 2) +
                                  (shape.height / 2) * (shape.height / 2))
    radius_meters *= shape.conversion
    steps = estimate_steps(radius_meters, shape.lat)

    def around(step):
        centre = encode(shape.lon, shape.lat, step) or 0
        return centre, [_neighbour(centre, step, dx, dy) for dx, dy in _DIRECTIONS]

    centre, near = around(steps)
    # Near an edge of its box the estimated step may leave part of the area uncovered:
    # then one step coarser.
    north = area(near[0], steps)
    south = area(near[1], steps)
    east = area(near[2], steps)
    west = area(near[3], steps)
    if steps > 1 and (north[3] < max_lat or south[2] > min_lat or
                      east[1] < max_lon or west[0] > min_lon):
        steps -= 1
        centre, near = around(steps)
    boxes = [centre] + near
    if steps >= 2:
        lon_lo, lon_hi, lat_lo, lat_hi = area(centre, steps)
        drop = set()
        if lat_lo < min_lat:
            drop.update((2, 7, 8))         # south, south-east, south-west
        if lat_hi > max_lat:
            drop.update((1, 5, 6))         # north, north-east, north-west
        if lon_lo < min_lon:
            drop.update((4, 6, 8))         # west, north-west, south-west
        if lon_hi > max_lon:
            drop.update((3, 5, 7))         # east, north-east, south-east
        return [(None if i in drop else (bits, steps)) for i, bits in enumerate(boxes)]
    return [(bits, steps) for bits in boxes]


def box_score_range(bits: int, step: int):
    """The scores [min, max) of every member inside the box (scoresOfGeoHashBox)."""
    shift = 52 - step * 2
    return float((bits << shift) & _MASK64), float(((bits + 1) << shift) & _MASK64)
