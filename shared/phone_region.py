"""号码归属地: the province and city a Chinese mobile number was issued in, from Google's
libphonenumber data (the `phonenumbers` package), in Chinese."""

from __future__ import annotations

import phonenumbers
from phonenumbers import geocoder

REGION_MAX = 40
COUNTRY_ONLY = "中国"
# libphonenumber's Chinese geocoding data is keyed by at most the first seven digits of a
# mobile number (号段 + H code), and its mobile patterns fix nothing beyond them for an
# 11-digit number: every number of one seven-digit prefix has the same answer. Parsing
# and looking up costs about 100 µs a number, a large share of the sync consumer's work
# per visit (docs/benchmarks.md), so the answer is kept per prefix.
PREFIX_DIGITS = 7
MAX_PREFIXES = 100_000  # of about a million possible; past it, numbers are looked up anew
_by_prefix: dict[str, str | None] = {}


def phone_region(phone: str) -> str | None:
    """`江苏省连云港市` for a normalised mobile number; None when the data has no answer."""
    if not (len(phone) == 11 and phone.isascii() and phone.isdigit() and phone[0] == "1"):
        return _region(phone)
    prefix = phone[:PREFIX_DIGITS]
    if prefix in _by_prefix:
        return _by_prefix[prefix]
    region = _region(phone)
    if len(_by_prefix) < MAX_PREFIXES:
        _by_prefix[prefix] = region
    return region


def _region(phone: str) -> str | None:
    try:
        number = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return None
    described = geocoder.description_for_number(number, "zh")
    # A range known only as Chinese says nothing a 归属地 column should show.
    return described[:REGION_MAX] if described and described != COUNTRY_ONLY else None
