"""GEORADIUS GEORADIUS_RO GEORADIUSBYMEMBER GEORADIUSBYMEMBER_RO GEOSEARCH GEOSEARCHSTORE:
Redis's georadiusGeneric, step by step, because its order decides what a client sees.

1. The source key is looked up (WRONGTYPE first).
2. The centre and size: GEORADIUS reads lon lat radius unit; GEORADIUSBYMEMBER member
   radius unit (nothing is checked when the key is missing); GEOSEARCH[STORE] takes them
   from the options.
3. The options, left to right, each error raised where it is met.
4. The checks between options (STORE vs WITH*, FROM*, BY*, ANY without COUNT).
5. A missing key: an empty array, or 0 and the destination deleted for a STORE.
6. The search: the geohash boxes of geohash.search_boxes, each a score range of the sorted
   set scanned in score order, the points outside the shape dropped; ANY stops as soon as
   COUNT points are found. COUNT without ANY and without ASC/DESC sorts ascending.
7. The reply, or the STORE: a sorted set of the results scored by geohash (STORE) or by
   distance in the query's unit (STOREDIST).

Sorting is by distance only. Points at the same distance come out as redis-server puts
them: all results sorted by a stable sort (glibc's qsort is a merge sort at these sizes:
the order they were found in), the first COUNT of more by Redis's pqsort
(commands/data/partial_sort.py), which is not stable but is the same algorithm.
"""
from commands.data import geohash
from commands.data.notifications import notify_keyspace_event
from commands.data.numbers import NOT_INTEGER, parse_int64
from commands.data.partial_sort import partial_sort
from commands.data.zset_type import ZSet
from commands.families.geo.members import (double_arg, format_distance, lon_lat_args,
                                           member_position, position_reply, read_zset,
                                           unit_arg)
from commands.families.zsets import store_zset
from commands.server.args import SYNTAX_ERROR
from commands.server.resp import ReplyError
from commands.server.table import command, key_spec

# The variants (Redis's RADIUS_* / GEOSEARCH* flags).
BY_COORDS, BY_MEMBER, SEARCH = "coords", "member", "search"

NO_MEMBER = "ERR could not decode requested zset member"

_ASC, _DESC = 1, 2


class _Query:
    """What the arguments asked for."""
    __slots__ = ("shape", "store_key", "store_dist", "withdist", "withhash", "withcoord",
                 "sort", "any", "count", "from_member", "from_lonlat", "by_radius",
                 "by_box")

    def __init__(self):
        self.shape = None
        self.store_key = None
        self.store_dist = False
        self.withdist = self.withhash = self.withcoord = False
        self.sort = None
        self.any = False
        self.count = 0
        self.from_member = self.from_lonlat = self.by_radius = self.by_box = False


def _radius_args(radius_arg, unit_arg_):
    """extractDistanceOrReply: (radius, metres per unit)."""
    radius = double_arg(radius_arg, "ERR need numeric radius")
    if radius < 0:
        raise ReplyError("ERR radius cannot be negative")
    return radius, unit_arg(unit_arg_)


def _box_args(width_arg, height_arg, unit_arg_):
    """extractBoxOrReply: (width, height, metres per unit)."""
    width = double_arg(width_arg, "ERR need numeric width")
    height = double_arg(height_arg, "ERR need numeric height")
    if height < 0 or width < 0:
        raise ReplyError("ERR height or width cannot be negative")
    return width, height, unit_arg(unit_arg_)


def _parse_options(argv, base, variant, store_variant, zs, q):
    """Step 3: the options after the fixed arguments, as georadiusGeneric's loop."""
    searching = variant == SEARCH
    may_store = variant != SEARCH and store_variant
    remaining = len(argv) - base
    i = 0
    while i < remaining:
        arg = argv[base + i].lower()
        has = remaining - i - 1          # arguments after this one
        if arg == b"withdist":
            q.withdist = True
        elif arg == b"withhash":
            q.withhash = True
        elif arg == b"withcoord":
            q.withcoord = True
        elif arg == b"any":
            q.any = True
        elif arg == b"asc":
            q.sort = _ASC
        elif arg == b"desc":
            q.sort = _DESC
        elif arg == b"count" and has >= 1:
            count = parse_int64(argv[base + i + 1])
            if count is None:
                raise ReplyError(NOT_INTEGER)
            if count <= 0:
                raise ReplyError("ERR COUNT must be > 0")
            q.count = count
            i += 1
        elif arg in (b"store", b"storedist") and has >= 1 and may_store:
            q.store_key = argv[base + i + 1]
            q.store_dist = arg == b"storedist"
            i += 1
        elif arg == b"storedist" and searching and store_variant:
            q.store_dist = True
        elif arg == b"frommember" and has >= 1 and searching and not q.from_lonlat:
            if zs is not None:
                pos = member_position(zs, argv[base + i + 1])
                if pos is None:
                    raise ReplyError(NO_MEMBER)
                q.shape.lon, q.shape.lat = pos
            q.from_member = True
            i += 1
        elif arg == b"fromlonlat" and has >= 2 and searching and not q.from_member:
            lon, lat = lon_lat_args(argv[base + i + 1], argv[base + i + 2])
            q.shape.lon, q.shape.lat = lon, lat
            q.from_lonlat = True
            i += 2
        elif arg == b"byradius" and has >= 2 and searching and not q.by_box:
            radius, conversion = _radius_args(argv[base + i + 1], argv[base + i + 2])
            q.shape.kind, q.shape.radius, q.shape.conversion = \
                geohash.CIRCLE, radius, conversion
            q.by_radius = True
            i += 2
        elif arg == b"bybox" and has >= 3 and searching and not q.by_radius:
            width, height, conversion = _box_args(*argv[base + i + 1:base + i + 4])
            q.shape.kind, q.shape.width, q.shape.height = geohash.BOX, width, height
            q.shape.conversion = conversion
            q.by_box = True
            i += 3
        else:
            raise ReplyError(SYNTAX_ERROR)
        i += 1


def _check_combinations(argv, variant, store_variant, q):
    """Step 4."""
    if q.store_key is not None and (q.withdist or q.withhash or q.withcoord):
        raise ReplyError("ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD "
                         "options" % ("GEOSEARCHSTORE" if variant == SEARCH and store_variant
                                      else "STORE option in GEORADIUS"))
    name = argv[0].decode(errors="replace")
    if variant == SEARCH and not (q.from_member or q.from_lonlat):
        raise ReplyError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified "
                         "for %s" % name)
    if variant == SEARCH and not (q.by_radius or q.by_box):
        raise ReplyError("ERR exactly one of BYRADIUS and BYBOX can be specified for %s"
                         % name)
    if q.any and not q.count:
        raise ReplyError("ERR the ANY argument requires COUNT argument")


def find_points(zs, shape, limit: int) -> list:
    """Step 6: (distance in metres, score, member, lon, lat) of every member inside the
    shape, in the order Redis finds them; at most `limit` of them if limit > 0."""
    found = []
    inside = geohash.point_filter(shape)
    decode = geohash.position_of
    last = None                         # the last box scanned (Redis skips a repeat)
    for index, box in enumerate(geohash.search_boxes(shape)):
        if box is None:
            continue
        # Redis compares with the last box scanned only once one was scanned after the
        # centre (its `last_processed` index is 0 for the centre).
        if last is not None and last[0] != 0 and box == last[1]:
            continue
        if found and limit and len(found) >= limit:
            break
        low, high = geohash.box_score_range(*box)
        start, stop = zs.score_range((low, False, high, True))
        for score, member in zs.ordered.islice(start, stop):
            lon, lat = decode(score)
            dist = inside(lon, lat)
            if dist is not None:
                found.append((dist, score, member, lon, lat))
            if found and limit and len(found) >= limit:
                break
        last = (index, box)
    return found


def _all_distinct(points) -> bool:
    distances = {point[0] for point in points}
    return len(distances) == len(points) and all(d == d for d in distances)


def _by_distance(point):
    return point[0]


def _ascending(a, b) -> int:
    """sort_gp_asc (for pqsort, which takes a three-way comparison)."""
    return 1 if a[0] > b[0] else 0 if a[0] == b[0] else -1


def _descending(a, b) -> int:
    return -_ascending(a, b)


def _store(c, q, points, conversion, event: bytes) -> int:
    """Step 7 with STORE/STOREDIST: the results as a new sorted set, notified as `event`
    (or the key deleted, notified as 'del')."""
    out = ZSet()
    for dist, score, member, _, _ in points:
        out.add(member, dist / conversion if q.store_dist else score)
    return store_zset(c.server.keyspace, q.store_key, out, c.server.settings, event)


def _reply(c, q, points, conversion) -> list:
    options = q.withdist or q.withhash or q.withcoord
    out = []
    for dist, score, member, lon, lat in points:
        if not options:
            out.append(member)
            continue
        item = [member]
        if q.withdist:
            item.append(format_distance(dist / conversion))
        if q.withhash:
            item.append(int(score))
        if q.withcoord:
            item.append(position_reply(c, lon, lat))
        out.append(item)
    return out


def geo_search(c, argv, source_index: int, variant: str, store_variant: bool):
    """georadiusGeneric."""
    zs = read_zset(c, argv[source_index])
    q = _Query()
    if variant == BY_COORDS:
        base = 6
        lon, lat = lon_lat_args(argv[2], argv[3])
        radius, conversion = _radius_args(argv[4], argv[5])
        q.shape = geohash.Shape(geohash.CIRCLE, lon, lat, conversion, radius=radius)
    elif variant == BY_MEMBER:
        base = 5
        if zs is not None:
            pos = member_position(zs, argv[2])
            if pos is None:
                raise ReplyError(NO_MEMBER)
            radius, conversion = _radius_args(argv[3], argv[4])
            q.shape = geohash.Shape(geohash.CIRCLE, pos[0], pos[1], conversion,
                                    radius=radius)
    else:
        base = 3 if store_variant else 2
        if store_variant:
            q.store_key = argv[1]
        # Filled in by the options: FROMMEMBER/FROMLONLAT the centre, BYRADIUS/BYBOX the rest.
        q.shape = geohash.Shape(geohash.CIRCLE, 0.0, 0.0, 1.0)
    _parse_options(argv, base, variant, store_variant, zs, q)
    _check_combinations(argv, variant, store_variant, q)

    if zs is None:
        if q.store_key is not None:
            ks = c.server.keyspace
            if ks.delete(q.store_key):
                notify_keyspace_event(ks, "g", b"del", q.store_key)
            return 0
        return []
    if q.count and q.sort is None and not q.any:
        q.sort = _ASC                   # "the closest N" needs an order
    points = find_points(zs, q.shape, q.count if q.any else 0)
    if not points and q.store_key is None:
        return []
    returned = min(q.count, len(points)) if q.count else len(points)
    if q.sort is not None:
        if returned == len(points) or _all_distinct(points):
            # A full sort; or, with no two distances equal (nor NaN), any sort gives the
            # first ranks pqsort gives.
            points.sort(key=_by_distance, reverse=q.sort == _DESC)
        else:
            partial_sort(points, _ascending if q.sort == _ASC else _descending,
                         0, returned - 1)
    del points[returned:]
    if q.store_key is not None:
        return _store(c, q, points, q.shape.conversion,
                      b"geosearchstore" if variant == SEARCH else b"georadiusstore")
    return _reply(c, q, points, q.shape.conversion)


# ---------------------------------------------------------------- the commands

def _store_key_indexes(argv) -> list:
    """georadiusGetKeys, what cluster routing checks: the source and the key after the
    last STORE or STOREDIST. (COMMAND GETKEYS reads the key specs instead, which find
    the first of each: redis-server answers the two questions differently too.)"""
    store = None
    i = 5
    while i < len(argv):
        if argv[i].lower() in (b"store", b"storedist") and i + 1 < len(argv):
            store = i + 1
            i += 1
        i += 1
    return [1] if store is None else [1, store]


def _source_spec():
    return key_spec(["RO", "access"], 1)


def _store_specs(startfrom: int) -> list:
    return [{"flags": ["OW", "update"],
             "begin_search": {"keyword": (keyword, startfrom)},
             "find_keys": {"range": (0, 1, 0)}} for keyword in ("STORE", "STOREDIST")]


_RADIUS_DOC = dict(group="geo", complexity="O(N+log(M)) where N is the number of elements "
                   "inside the bounding box of the circular area delimited by center and "
                   "radius and M is the number of items inside the index.")


@command("georadius", -6, "write denyoom", keys=(1, 1, 1), since="3.2.0",
         deprecated=("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` "
                     "argument"),
         key_finder=_store_key_indexes, key_specs=[_source_spec()] + _store_specs(6),
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "matching a given maximum distance from a point", **_RADIUS_DOC)
def georadius(c, argv):
    return geo_search(c, argv, 1, BY_COORDS, True)


@command("georadius_ro", -6, "readonly", keys=(1, 1, 1), since="3.2.10",
         deprecated=("6.2.0", "`GEOSEARCH` with the `BYRADIUS` argument"),
         key_specs=[_source_spec()],
         summary="A read-only variant for GEORADIUS", **_RADIUS_DOC)
def georadius_ro(c, argv):
    return geo_search(c, argv, 1, BY_COORDS, False)


@command("georadiusbymember", -5, "write denyoom", keys=(1, 1, 1), since="3.2.0",
         deprecated=("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and "
                     "`FROMMEMBER` arguments"),
         key_finder=_store_key_indexes, key_specs=[_source_spec()] + _store_specs(5),
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "matching a given maximum distance from a member", **_RADIUS_DOC)
def georadiusbymember(c, argv):
    return geo_search(c, argv, 1, BY_MEMBER, True)


@command("georadiusbymember_ro", -5, "readonly", keys=(1, 1, 1), since="3.2.10",
         deprecated=("6.2.0", "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments"),
         key_specs=[_source_spec()],
         summary="A read-only variant for GEORADIUSBYMEMBER", **_RADIUS_DOC)
def georadiusbymember_ro(c, argv):
    return geo_search(c, argv, 1, BY_MEMBER, False)


_SEARCH_DOC = dict(group="geo", since="6.2.0",
                   complexity="O(N+log(M)) where N is the number of elements in the grid-"
                   "aligned bounding box area around the shape provided as the filter and "
                   "M is the number of items inside the shape")


@command("geosearch", -7, "readonly", keys=(1, 1, 1), key_specs=[_source_spec()],
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "inside an area of a box or a circle.", **_SEARCH_DOC)
def geosearch(c, argv):
    return geo_search(c, argv, 1, SEARCH, False)


@command("geosearchstore", -8, "write denyoom", keys=(1, 2, 1),
         key_specs=[key_spec(["OW", "update"], 1), key_spec(["RO", "access"], 2)],
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "inside an area of a box or a circle, and store the result in another "
                 "key.", **_SEARCH_DOC)
def geosearchstore(c, argv):
    return geo_search(c, argv, 2, SEARCH, True)
