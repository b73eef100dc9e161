"""号码归属地: the province and city a Chinese mobile number was issued in, from Google's
libphonenumber data (the `phonenumbers` package), in Chinese."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import geocoder

REGION_MAX = 40
COUNTRY_ONLY = "中国"


@lru_cache(maxsize=4096)
def phone_region(phone: str) -> str | None:
    """`江苏省连云港市` for a normalised mobile number; None when the data has no answer."""
    try:
        number = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return None
    described = geocoder.description_for_number(number, "zh")
    # A range known only as Chinese says nothing a 归属地 column should show.
    return described[:REGION_MAX] if described and described != COUNTRY_ONLY else None
