"""A masked name shows the surname and a fixed tail: never the given name, nor its length."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.names import NAME_MASK_TAIL, mask_name


def test_two_and_three_character_names_mask_alike() -> None:
    assert mask_name("陈大文") == mask_name("陈文") == mask_name("陈") == "陈**"
    assert mask_name("  ") is None and mask_name(None) is None


@given(st.text(min_size=1, max_size=30).filter(lambda s: s.strip()))
def test_the_mask_has_one_length_whatever_the_name(name: str) -> None:
    masked = mask_name(name)

    assert masked == name.strip()[0] + NAME_MASK_TAIL
    assert len(masked) == 1 + len(NAME_MASK_TAIL)
