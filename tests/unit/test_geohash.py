"""The geohash arithmetic (commands/data/geohash.py), the geo reply formats and Redis's
partial quicksort, against values redis-server 7.0.15 gives."""
import functools
import random

import pytest

from commands.data import geohash
from commands.data.partial_sort import partial_sort
from commands.families.geo.members import format_coordinate, format_distance


def test_scores_positions_and_hashes_of_known_points():
    # GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania on redis-server.
    assert geohash.score_of(13.361389, 38.115556) == 3479099956230698
    assert geohash.score_of(15.087269, 37.502669) == 3479447370796909
    lon, lat = geohash.decode_score(3479099956230698)
    assert (format_coordinate(lon), format_coordinate(lat)) == \
        (b"13.36138933897018433", b"38.11555639549629859")
    assert geohash.standard_geohash(lon, lat) == b"sqc8b49rny0"
    other = geohash.decode_score(3479447370796909)
    assert format_distance(geohash.distance(lon, lat, *other) / 1000) == b"166.2742"


def test_encode_refuses_points_outside_redis_limits():
    assert geohash.encode(180.0001, 0, 26) is None
    assert geohash.encode(0, 85.06, 26) is None
    assert geohash.encode(0, 89, 26, geohash.WGS84_LONG, geohash.STANDARD_LAT) is None


def test_odd_scores_decode_as_gcc_casts_them():
    assert geohash.double_to_uint64(-5.0) == (1 << 64) - 5
    assert geohash.double_to_uint64(float("inf")) == 0
    assert geohash.double_to_uint64(float("nan")) == 1 << 63
    assert geohash.double_to_uint64(1e19) == 10000000000000000000


def test_the_search_area_is_the_centre_box_and_its_neighbours():
    shape = geohash.Shape(geohash.CIRCLE, 15.0, 37.0, 1000.0, radius=200)
    boxes = geohash.search_boxes(shape)
    assert len(boxes) == 9
    kept = [box for box in boxes if box is not None]
    centre_bits, step = kept[0]
    assert all(s == step for _, s in kept) and 1 <= step <= 26
    low, high = geohash.box_score_range(centre_bits, step)
    assert low <= geohash.score_of(15.0, 37.0) < high


@pytest.mark.parametrize("d, text", [(0.0, b"0.0000"), (-0.0, b"0.0000"),
                                     (0.00005, b"0.0000"), (0.00015, b"0.0001"),
                                     (0.775, b"0.7750"), (12345.678949, b"12345.6789"),
                                     (1.5, b"1.5000")])
def test_distances_have_four_decimals_rounded_half_even(d, text):
    # llrint of d * 10000 in doubles: 0.00005 -> 0.5 -> 0; 0.00015 -> 1.4999999999999998
    assert format_distance(d) == text


@pytest.mark.parametrize("x, text", [(0.0, b"0"), (-0.0, b"0"), (1.5, b"1.5"),
                                     (-180.0, b"-180"), (1e-20, b"0")])
def test_coordinates_print_as_redis_human_long_doubles(x, text):
    assert format_coordinate(x) == text


def _cmp(a, b):
    return (a[0] > b[0]) - (a[0] < b[0])


def test_partial_sort_puts_the_wanted_ranks_in_place():
    rng = random.Random(3)
    for _ in range(300):
        items = [(rng.randrange(20), i) for i in range(rng.randrange(1, 120))]
        lo = rng.randrange(len(items))
        hi = rng.randrange(lo, len(items))
        expected = sorted(x[0] for x in items)[lo:hi + 1]
        work = list(items)
        partial_sort(work, _cmp, lo, hi)
        assert [x[0] for x in work[lo:hi + 1]] == expected
        assert sorted(work) == sorted(items)


def test_partial_sort_of_everything_is_a_sort():
    rng = random.Random(4)
    items = [rng.random() for _ in range(500)]
    partial_sort(items, lambda a, b: (a > b) - (a < b), 0, len(items) - 1)
    assert items == sorted(items, key=functools.cmp_to_key(lambda a, b: (a > b) - (a < b)))


def test_point_filter_keeps_exactly_the_points_within_the_radius():
    """The circle's latitude shortcut never decides differently from the haversine, even
    for points on the circle's north and south edges."""
    rng = random.Random(9)
    for _ in range(300):
        clon, clat = rng.uniform(-180, 180), rng.uniform(-85, 85)
        radius = rng.choice([rng.uniform(0, 1e3), rng.uniform(0, 1e6), rng.uniform(0, 2.1e7)])
        inside = geohash.point_filter(geohash.Shape(geohash.CIRCLE, clon, clat, 1.0,
                                                    radius=radius))
        dlat = radius / geohash.EARTH_RADIUS_IN_METERS / geohash.D_R
        for _ in range(50):
            if rng.random() < 0.5:
                lat = clat + rng.choice([-1, 1]) * dlat * (1 + rng.uniform(-1e-7, 1e-7))
                lon = clon + rng.choice([0.0, rng.uniform(-1e-6, 1e-6), rng.uniform(-1, 1)])
            else:
                lat, lon = rng.uniform(-85, 85), rng.uniform(-180, 180)
            if abs(lat) > geohash.LAT_MAX or abs(lon) > 180:
                continue
            d = geohash.distance(clon, clat, lon, lat)
            assert inside(lon, lat) == (None if d > radius else d)
