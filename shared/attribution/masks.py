"""Masked referrals (隐号报备): the policies' masks and how masked numbers compare.

A number is kept as 11 characters: digits where visible, `*` where hidden. A full number
goes through shared.phone.normalise_phone, so every spelling of it is one customer.
"""

from __future__ import annotations

import re

from shared.attribution.rules import PhonePolicy
from shared.phone import normalise_phone

# Visible positions of each policy's mask (what a broker must give at least).
POLICY_VISIBLE: dict[PhonePolicy, frozenset[int]] = {
    "full": frozenset(range(11)),
    "3+4": frozenset({0, 1, 2, 7, 8, 9, 10}),       # 138****5678
    "3+6": frozenset({0, 1, 2, 5, 6, 7, 8, 9, 10}),  # 138**345678
    "first9": frozenset(range(9)),                    # 138123456**
    "first7": frozenset(range(7)),                    # 1381234****
}

_MASK = re.compile(r"1[0-9*]{10}")
_SEPARATORS = re.compile(r"[\s\-()（）.]")


def parse_phone(raw: str) -> str:
    """A full number normalised, or a masked one as 11 chars of digits and `*`.

    Raises InvalidPhone (from shared.phone) for anything else.
    """
    text = _SEPARATORS.sub("", raw.strip()).replace("＊", "*")
    if "*" not in text:
        return normalise_phone(raw)
    if not _MASK.fullmatch(text):
        # Same error, same message, as a malformed full number.
        return normalise_phone(raw)
    return text


def is_masked(phone: str) -> bool:
    return "*" in phone


def visible(phone: str) -> frozenset[int]:
    return frozenset(i for i, ch in enumerate(phone) if ch != "*")


def mask_with(full: str, policy: PhonePolicy) -> str:
    """The policy's mask of a full number: mask_with('13812345678', '3+4') = 138****5678."""
    shown = POLICY_VISIBLE[policy]
    return "".join(ch if i in shown else "*" for i, ch in enumerate(full))


def satisfies(phone: str, policy: PhonePolicy) -> bool:
    """A broker may show more digits than the policy asks for, never fewer."""
    return POLICY_VISIBLE[policy] <= visible(phone)


def compatible(a: str, b: str) -> bool:
    """Could `a` and `b` be the same number? Digits agree wherever both are visible."""
    return all(x == y for x, y in zip(a, b, strict=True) if x != "*" and y != "*")


def display(phone: str) -> str:
    """What a decision shows: a masked number as given, a full one as 138****5678."""
    return phone if is_masked(phone) else mask_with(phone, "3+4")
