"""Positions on the ground, in degrees. Every stored position is WGS-84, as phones'
browsers (the W3C Geolocation API) and GPS report them; Chinese web maps (高德, 腾讯)
show and pick GCJ-02 (国测局坐标), and 百度地图 its own BD-09 (a further offset of
GCJ-02), so a position typed from one is converted here before it is stored (ADR 0060).
The far-signing risk check measures between two of them."""

from __future__ import annotations

from math import asin, atan2, cos, pi, radians, sin, sqrt
from typing import Literal

Datum = Literal["wgs84", "gcj02", "bd09"]

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)

# A rectangle around the mainland, Hainan and the South China Sea islands: what a sales
# office's position may be. GCJ-02 is defined only inside it.
CHINA_LAT = (3.8, 53.6)
CHINA_LNG = (73.5, 135.1)

# GCJ-02's published parameters: the Krasovsky 1940 ellipsoid's semi-major axis and
# eccentricity squared.
_A = 6_378_245.0
_EE = 0.006_693_421_622_965_943_23
# BD-09's published parameters: its shift of GCJ-02 and the factor of its small rotation.
_BD_LAT, _BD_LNG = 0.006, 0.0065
_BD_X = pi * 3000.0 / 180.0


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The great-circle distance in metres between (lat, lng) `a` and `b` (haversine:
    within 0.5 % of the ellipsoid's answer, far below what the check's metres need)."""
    lat1, lng1, lat2, lng2 = map(radians, (*a, *b))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h)))


def in_china(lat: float, lng: float) -> bool:
    return CHINA_LAT[0] <= lat <= CHINA_LAT[1] and CHINA_LNG[0] <= lng <= CHINA_LNG[1]


def _offset(lat: float, lng: float) -> tuple[float, float]:
    """GCJ-02 minus WGS-84 at a WGS-84 position, in degrees (the public formula)."""
    x, y = lng - 105.0, lat - 35.0
    d_lat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x))
             + (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
             + (20.0 * sin(y * pi) + 40.0 * sin(y / 3.0 * pi)) * 2.0 / 3.0
             + (160.0 * sin(y / 12.0 * pi) + 320 * sin(y * pi / 30.0)) * 2.0 / 3.0)
    d_lng = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x))
             + (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
             + (20.0 * sin(x * pi) + 40.0 * sin(x / 3.0 * pi)) * 2.0 / 3.0
             + (150.0 * sin(x / 12.0 * pi) + 300.0 * sin(x / 30.0 * pi)) * 2.0 / 3.0)
    rad = radians(lat)
    magic = 1 - _EE * sin(rad) ** 2
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt(magic)) * pi)
    d_lng = (d_lng * 180.0) / (_A / sqrt(magic) * cos(rad) * pi)
    return d_lat, d_lng


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """Where a Chinese web map draws the WGS-84 position (lat, lng); outside China the
    two agree."""
    if not in_china(lat, lng):
        return lat, lng
    d_lat, d_lng = _offset(lat, lng)
    return lat + d_lat, lng + d_lng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """The WGS-84 position a Chinese web map's GCJ-02 (lat, lng) stands for. The forward
    formula has no closed inverse: a few fixed-point steps bring it within centimetres."""
    if not in_china(lat, lng):
        return lat, lng
    w_lat, w_lng = lat, lng
    for _ in range(8):
        g_lat, g_lng = wgs84_to_gcj02(w_lat, w_lng)
        w_lat, w_lng = w_lat + (lat - g_lat), w_lng + (lng - g_lng)
    return w_lat, w_lng


def bd09_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """The GCJ-02 position that 百度地图's BD-09 (lat, lng) stands for (Baidu's published
    inverse, within a few centimetres)."""
    x, y = lng - _BD_LNG, lat - _BD_LAT
    z = sqrt(x * x + y * y) - 0.000_02 * sin(y * _BD_X)
    theta = atan2(y, x) - 0.000_003 * cos(x * _BD_X)
    return z * sin(theta), z * cos(theta)


def gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    """Where 百度地图 draws the GCJ-02 position (lat, lng)."""
    z = sqrt(lng * lng + lat * lat) + 0.000_02 * sin(lat * _BD_X)
    theta = atan2(lat, lng) + 0.000_003 * cos(lng * _BD_X)
    return z * sin(theta) + _BD_LAT, z * cos(theta) + _BD_LNG


def to_wgs84(lat: float, lng: float, datum: Datum) -> tuple[float, float]:
    """(lat, lng) given in `datum`, in WGS-84."""
    if datum == "bd09":
        lat, lng = bd09_to_gcj02(lat, lng)
    return (lat, lng) if datum == "wgs84" else gcj02_to_wgs84(lat, lng)
