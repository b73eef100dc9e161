"""The kiosk's provisional answer, the edge/cloud difference, and the policies' masks."""

from __future__ import annotations

import pytest

from shared.attribution import differences, kiosk_answer, provisional_answer
from shared.attribution.masks import compatible, mask_with, parse_phone, satisfies
from shared.phone import InvalidPhone
from tests.shared.attribution.builders import (
    DAY,
    HOUR,
    PHONE,
    T0,
    history,
    qr,
    referral,
    run,
    visit,
)


def test_kiosk_shows_first_or_return_visit_owner_and_broker_protection() -> None:
    first = provisional_answer(history(), [referral("a", T0)], T0 + DAY)
    assert (first.label, first.owner.broker_id) == ("首访", "broker-a")
    assert [r.referral_id for r in first.broker_protection] == ["a"]
    assert first.broker_protection[0].protection_until == T0 + 72 * HOUR
    again = provisional_answer(history(), [referral("a", T0), visit("v", T0 + DAY)],
                               T0 + 2 * DAY)
    assert (again.label, again.owner.stage) == ("复访", "visit")


def test_the_cloud_wins_and_the_difference_is_spelt_out() -> None:
    # Offline, the edge saw only the QR check-in; the cloud also had A's earlier referral.
    check_in = qr("q", T0 + DAY, "broker-b")
    edge = run([check_in], T0 + DAY, attribution_mode="competitive_visit")
    cloud = run([referral("a", T0), check_in], T0 + DAY, attribution_mode="competitive_visit")
    assert kiosk_answer(edge).owner.kind == "natural"
    assert differences(edge, cloud) == (
        "报备 a：边缘未收到，云端判为无效（客户已自行到访，未经带看确认）",)
    cloud_b = run([referral("b", T0, "broker-b"), check_in], T0 + DAY,
                  attribution_mode="competitive_visit")
    lines = differences(edge, cloud_b)
    assert lines[0] == "归属：自然来访 → 渠道（经纪人 broker-b）（带看已确认，处于到访保护期）"


@pytest.mark.parametrize(("policy", "mask"), [
    ("full", "13812345678"), ("3+4", "138****5678"), ("3+6", "138**345678"),
    ("first9", "138123456**"), ("first7", "1381234****"),
])
def test_policy_masks(policy: str, mask: str) -> None:
    assert mask_with(PHONE, policy) == mask  # type: ignore[arg-type]
    assert satisfies(mask, policy) and satisfies(PHONE, policy)  # type: ignore[arg-type]
    assert compatible(mask, PHONE) and not compatible(mask.replace("8", "9", 1), PHONE)


def test_masked_numbers_are_read_like_full_ones() -> None:
    assert parse_phone(" 138-****-5678 ") == "138****5678"
    assert parse_phone("138＊＊＊＊5678") == "138****5678"
    assert parse_phone("+86 138 1234 5678") == PHONE
    for bad in ("138***5678", "238****5678", "138****567x", "*" * 11):
        with pytest.raises(InvalidPhone):
            parse_phone(bad)
