from __future__ import annotations

import pytest

from shared.phone import InvalidPhone, is_masked, mask_phone, masked_key, normalise_phone


@pytest.mark.parametrize(
    "raw",
    ["13812345678", "+86 138 1234 5678", "0086-138-1234-5678", "86 13812345678",
     "(+86)138-1234-5678", "１３８１２３４５６７８", " 138.1234.5678 "],
)
def test_normalises_common_forms(raw: str) -> None:
    assert normalise_phone(raw) == "13812345678"


@pytest.mark.parametrize(
    "raw",
    ["", "1381234567", "138123456789", "12812345678", "23812345678", "+1 650 555 0100",
     "138-1234-567a", "138****5678", "1" * 41, "13812345678; DROP TABLE customer"],
)
def test_rejects_invalid_with_a_stable_code_and_chinese_message(raw: str) -> None:
    with pytest.raises(InvalidPhone) as info:
        normalise_phone(raw)
    assert info.value.code == "invalid_phone" and info.value.status == 422
    assert "手机号" in info.value.detail


def test_masking_and_the_3_plus_4_key() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert masked_key("13812345678") == masked_key("138****5678") == "1385678"
    assert is_masked("138****5678") and not is_masked("13812345678")
