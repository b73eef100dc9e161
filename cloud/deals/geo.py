"""Distances on the ground between two positions given in degrees (WGS-84, as phones
report them): the far-signing risk check's measure."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The great-circle distance in metres between (lat, lng) `a` and `b` (haversine:
    within 0.5 % of the ellipsoid's answer, far below what the check's metres need)."""
    lat1, lng1, lat2, lng2 = map(radians, (*a, *b))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h)))
