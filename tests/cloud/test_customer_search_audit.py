"""A consultant's customer search on the phone (`customer.searched`) lands in the cloud's
audit log as `customer.search`: who searched, how, and how many customers it showed — the
number only masked and as its blind index, a name search's text not at all."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from cloud.settings import CloudSettings
from shared.events import CUSTOMER_SEARCHED
from tests.cloud import audit_rows
from tests.cloud.sales_world import PHONE_A, apply, envelope


def test_searches_are_audited_without_the_searched_text(
    db: Session, settings: CloudSettings, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    consultant = world["consult_a"]
    result = apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), CUSTOMER_SEARCHED,
                 {"consultant_id": consultant, "by": "phone", "phone": PHONE_A, "matches": 1}),
        envelope(site.key, "site-a", site.next_seq(), CUSTOMER_SEARCHED,
                 {"consultant_id": consultant, "by": "name", "phone": None, "matches": 0}),
    ])
    assert result.applied == 2 and not result.rejected
    by_phone, by_name = audit_rows(db, "customer.search")
    assert by_phone.actor == f"user:{consultant}"
    assert by_phone.detail["phone_masked"] == "138****0001"
    assert by_phone.detail["phone_bidx"] == settings.blind_index.phone(PHONE_A)
    assert PHONE_A not in str(by_phone.detail)
    assert (by_name.detail["by"], by_name.detail["matches"]) == ("name", 0)
    assert by_name.detail["phone_masked"] is None and by_name.detail["via"] == "site:site-a"


def test_a_forged_search_event_is_rejected_not_audited(
    db: Session, settings: CloudSettings, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    result = apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), CUSTOMER_SEARCHED,
                 {"consultant_id": world["consult_a"], "by": "phone", "phone": "12345",
                  "matches": 1, "query": "陈"}),
    ])
    assert [r.reason for r in result.rejected] == ["invalid_payload"]
    assert audit_rows(db, "customer.search") == []
