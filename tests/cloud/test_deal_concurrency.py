"""One live deal per unit under load, on the real PostgreSQL: 100 subscriptions of one
unit sent at the same instant — over HTTP to the running application, and straight
through the service in threads with sessions of their own. Exactly one wins; every
other gets the same clear Chinese answer, and the unit, its 销控 log and the deal table
show one sale."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from cloud.deals import service
from cloud.deals.models import Deal
from cloud.deals.states import Kind
from cloud.inventory.models import Unit, UnitLog
from cloud.main import create_app
from cloud.settings import CloudSettings
from shared.errors import AppError
from tests.cloud import PASSWORD, make_user
from tests.cloud.deal_world import Office, add_customer, build_office, terms
from tests.fakes.server import serving

BUYERS = 100
# Attempts per buyer when the API sheds the request with 503 (it wrote nothing).
SHED_RETRIES = 5


@pytest.fixture
def office(db: Session, settings: CloudSettings) -> tuple[Office, list[int]]:
    found = build_office(db, settings, floors=1, per_floor=2)
    customers = [add_customer(db, settings, found.project_id, f"1370000{i:04d}",
                              found.consultant.user_id).id or 0 for i in range(BUYERS)]
    return found, customers


def _one_sale(db: Session, unit_id: int | None) -> None:
    db.rollback()
    unit = db.get(Unit, unit_id, populate_existing=True)
    assert unit is not None and unit.state == "subscribed"
    assert len(db.exec(select(Deal).where(Deal.unit_id == unit_id)).all()) == 1
    assert len(db.exec(select(UnitLog).where(UnitLog.unit_id == unit_id,
                                             UnitLog.action == "subscribe")).all()) == 1


def test_100_subscriptions_over_http_one_wins(
        db: Session, settings: CloudSettings, office: tuple[Office, list[int]]) -> None:
    place, customers = office
    make_user(db, "race.manager", roles=["sales_manager"], site_ids=["site-a"])
    unit = place.unit(0)
    start = threading.Barrier(BUYERS)
    with serving(create_app(settings)) as url:
        signed = httpx.post(f"{url}/api/v1/auth/login",
                            json={"username": "race.manager", "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}

        def buy(customer_id: int) -> tuple[int, dict[str, Any]]:
            with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
                start.wait()
                for _ in range(SHED_RETRIES):
                    answer = client.post(
                        f"/api/v1/deals/projects/{place.project_id}/deals", json={
                            "kind": "subscription", "customer_id": customer_id,
                            "unit_id": unit.id, "buyer_name": "李四", "payment_method": "full",
                            "price_fen": unit.list_price_fen, "amount_fen": 5_000_000})
                    # On a slow machine the connection gate may shed a few of the hundred
                    # (503 + Retry-After, nothing written): sent again, as a client would.
                    if answer.status_code != 503:
                        break
                    assert answer.json()["code"] == "server_busy", answer.text
                    time.sleep(min(float(answer.headers["Retry-After"]), 1.0))
                return answer.status_code, (answer.json() if answer.status_code != 201 else {
                    "content-type": answer.headers["content-type"]})

        with ThreadPoolExecutor(max_workers=BUYERS) as pool:
            answers = list(pool.map(buy, customers))
    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 1, 409: BUYERS - 1}, statuses
    refusals = [body for status, body in answers if status == 409]
    assert {b["code"] for b in refusals} == {"deal_unit_taken"}
    assert {b["title"] for b in refusals} == {"该房源已被认筹、认购或签约，不能重复成交"}
    assert all(b["status"] == 409 and b["type"] for b in refusals)
    _one_sale(db, unit.id)


def test_100_subscriptions_in_threads_with_their_own_sessions(
        db: Session, settings: CloudSettings, pg_url: str,
        office: tuple[Office, list[int]]) -> None:
    """The same race below the HTTP layer: each buyer a thread and a session, 20
    connections among them (as many as a cloud worker's pool), so the first twenty
    meet at the index itself and the rest after the winner's commit."""
    place, customers = office
    unit = place.unit(1)
    racing = create_engine(pg_url, pool_size=20, max_overflow=0, pool_timeout=120)
    start = threading.Barrier(BUYERS)

    def buy(customer_id: int) -> str:
        with Session(racing, expire_on_commit=False) as session:
            start.wait()
            try:
                service.create(session, settings, place.manager, kind=Kind.SUBSCRIPTION,
                               project_id=place.project_id, customer_id=customer_id,
                               terms=terms(unit))
                session.commit()
                return "won"
            except AppError as refused:
                session.rollback()
                return f"{refused.status} {refused.code} {refused.detail}"

    try:
        with ThreadPoolExecutor(max_workers=BUYERS) as pool:
            answers = Counter(pool.map(buy, customers))
    finally:
        racing.dispose()
    assert answers == {"won": 1, "409 deal_unit_taken 该房源已被认筹、认购或签约，不能重复成交":
                       BUYERS - 1}, answers
    _one_sale(db, unit.id)
