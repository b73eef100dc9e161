"""号码归属地 answered per seven-digit prefix: the same answer as a full look-up."""

from __future__ import annotations

import random

from phonenumbers.geodata import GEOCODE_DATA

from shared import phone_region as module
from shared.phone_region import PREFIX_DIGITS, phone_region


def test_the_data_keys_chinese_mobiles_by_at_most_seven_digits() -> None:
    """The premise of the cache: a newer phonenumbers that keyed a region by more digits
    would make numbers of one prefix differ."""
    longest = max(len(k) for k in GEOCODE_DATA if k.startswith("861"))
    assert longest - len("86") <= PREFIX_DIGITS


def test_every_number_of_a_prefix_gets_the_full_look_up_s_answer() -> None:
    rng = random.Random(20261128)
    prefixes = ["1380000", "1861234", "1999999", "1000000"] + [
        "1" + "".join(rng.choices("0123456789", k=PREFIX_DIGITS - 1)) for _ in range(300)]
    found = 0
    for prefix in prefixes:
        numbers = [prefix + "".join(rng.choices("0123456789", k=4)) for _ in range(4)]
        expected = [module._region(n) for n in numbers]
        assert [phone_region(n) for n in numbers] == expected, prefix
        assert len(set(expected)) == 1, (prefix, expected)
        found += expected[0] is not None
    assert found > 50  # the sample reaches real ranges, not only unknown ones
    assert phone_region("13812345678") == module._region("13812345678") is not None
    assert phone_region("010-1234") is None
