"""Reception complete (ADR 0033) on real SQLite: away reasons (补接 / tail / off), the
fewest-new order mode, working hours, stand-in reception, forgotten-name claims,
penalties, same-day corrections, and fairness over a simulated day."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient

from edge_agent.kiosk.schemas import VisitIn
from edge_agent.kiosk.service import register_visit
from edge_agent.main import create_app
from edge_agent.rota import manager, penalties
from edge_agent.rota import service as rota
from edge_agent.rota.manager import CorrectionClosed, NotClaimable
from edge_agent.rota.service import ConsultantSuspended
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.store.models.reception import Visit
from edge_agent.store.models.sync import OutboxRow
from edge_agent.sync.downlink import apply_batch
from shared import edge_token
from shared.reception import ReceptionRules
from shared.reception_events import ROTA_CHANGED, VISIT_PROFILED, VisitProfile
from shared.timeutil import utcnow
from tests.consent import consent_in
from tests.edge.helpers import KIOSK_TOKEN
from tests.edge.seed import batch, consultant, customer, project, seed

WANG, LI, ZHAO, MANAGER = 7, 8, 9, 11
OWNED = "13900001111"  # 王顾问's customer


def shanghai(hour: int, minute: int = 0, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def roster(settings: EdgeSettings) -> list:  # type: ignore[type-arg]
    return [
        project(1, 1, "云栖府"),
        consultant(2, WANG, "王顾问"), consultant(3, LI, "李顾问"),
        consultant(4, ZHAO, "赵顾问"),
        consultant(5, MANAGER, "孙经理", roles=["sales_manager"]),
        customer(6, settings, 1, OWNED, visit_count=1, owner_id=WANG, owner_name="王顾问",
                 last_visit_at=utcnow() - timedelta(days=3)),
    ]


@pytest.fixture
async def office(store: Store, edge_settings: EdgeSettings) -> Store:
    await store.write(apply_batch, batch(edge_settings, roster(edge_settings)), utcnow())
    return store


async def on_duty(store: Store, settings: EdgeSettings, *ids: int, at: datetime) -> None:
    for offset, cid in enumerate(ids):
        await rota.check_in(store, settings, cid, now=at + timedelta(seconds=offset))


async def receive(store: Store, settings: EdgeSettings, phone: str, cid: int | None,
                  at: datetime, **extra: object) -> Visit:
    result = await register_visit(store, settings, VisitIn(
        phone=phone, party_size=2, consultant_id=cid, consent=consent_in(), **extra), now=at)
    return result.visit


async def head(store: Store, settings: EdgeSettings, at: datetime) -> int | None:
    return (await rota.board(store, settings, now=at)).next_consultant_id


async def order(store: Store, settings: EdgeSettings, at: datetime) -> list[int]:
    board = await rota.board(store, settings, now=at)
    return [c.id for c in board.consultants if c.on_duty]


async def set_rules(store: Store, settings: EdgeSettings, at: datetime, **rules: object) -> None:
    await store.write(manager.set_rules, settings, ReceptionRules.model_validate(rules),
                      MANAGER, at)


async def events_of(store: Store, settings: EdgeSettings, kind: str) -> list[dict[str, object]]:
    async def rows(session):  # type: ignore[no-untyped-def]
        from sqlmodel import col, select
        found = await session.exec(select(OutboxRow).where(OutboxRow.type == kind)
                                   .order_by(col(OutboxRow.seq)))
        return [outbox.open_payload(settings.cipher, r) for r in found.all()]
    result: list[dict[str, object]] = await store.read(rows)
    return result


@pytest.mark.anyio
async def test_a_make_up_reason_keeps_the_head_and_the_consultant_receives_on_return(
    office: Store, edge_settings: EdgeSettings
) -> None:
    at = shanghai(10)
    await on_duty(office, edge_settings, WANG, LI, ZHAO, at=at)
    for reason in ("washroom", "lunch", "business", "manager_approved", "receiving"):
        second = (await order(office, edge_settings, at))[1]
        await rota.change(office, edge_settings, "away", WANG, reason=reason, now=at)
        assert await head(office, edge_settings, at) == second  # passed while away
        await receive(office, edge_settings, f"137{random.randint(0, 10**8 - 1):08d}", second,
                      at)
        assert (await order(office, edge_settings, at))[0] == WANG  # 补接: still first
        await rota.change(office, edge_settings, "back", WANG, now=at)
        assert await head(office, edge_settings, at) == WANG
        await receive(office, edge_settings, f"136{random.randint(0, 10**8 - 1):08d}", WANG, at)
        await rota.change(office, edge_settings, "check_out", WANG, now=at)
        await rota.change(office, edge_settings, "check_in", WANG, now=at)
        while (await order(office, edge_settings, at))[0] != WANG:
            first = (await order(office, edge_settings, at))[0]
            await receive(office, edge_settings, f"135{random.randint(0, 10**8 - 1):08d}",
                          first, at)
    away = [e for e in await events_of(office, edge_settings, ROTA_CHANGED)
            if e["action"] == "away"]
    assert [e["away_reason"] for e in away] == [
        "washroom", "lunch", "business", "manager_approved", "receiving"]
    assert all(e["detail"] == {"effect": "keep"} and e["position_before"] == 1 == e[
        "position_after"] for e in away)


@pytest.mark.anyio
async def test_rest_and_private_go_to_the_tail_and_leave_goes_off_the_day(
    office: Store, edge_settings: EdgeSettings
) -> None:
    at = shanghai(10)
    await on_duty(office, edge_settings, WANG, LI, ZHAO, at=at)
    out = await rota.change(office, edge_settings, "away", WANG, reason="rest", now=at)
    assert [c.id for c in out.consultants if c.on_duty] == [LI, ZHAO, WANG]
    assert out.next_consultant_id == LI
    await rota.change(office, edge_settings, "away", LI, reason="private", now=at)
    assert await order(office, edge_settings, at) == [ZHAO, WANG, LI]
    off = await rota.change(office, edge_settings, "away", ZHAO, reason="leave", now=at)
    assert [c.id for c in off.consultants if c.on_duty] == [WANG, LI]
    zhao = next(c for c in off.consultants if c.id == ZHAO)
    assert zhao.on_duty is False and zhao.away_reason == "leave"
    assert off.next_consultant_id is None  # both others are away
    # The setting may send leave to the tail instead.
    await set_rules(office, edge_settings, at, drop_effects={"leave": "tail"})
    await rota.change(office, edge_settings, "back", WANG, now=at)
    await rota.change(office, edge_settings, "away", WANG, reason="leave", now=at)
    assert await order(office, edge_settings, at) == [LI, WANG]


@pytest.mark.anyio
async def test_fewest_new_mode_orders_by_todays_counted_customers(
    office: Store, edge_settings: EdgeSettings
) -> None:
    at = shanghai(10)
    await set_rules(office, edge_settings, at, order_mode="fewest_new")
    await on_duty(office, edge_settings, WANG, LI, ZHAO, at=at)
    for n, cid in enumerate((WANG, WANG, LI)):
        await receive(office, edge_settings, f"1370000000{n}", cid, at)
    board = await rota.board(office, edge_settings, now=at)
    assert [(c.id, c.counted_today) for c in board.consultants if c.on_duty] == [
        (ZHAO, 0), (LI, 1), (WANG, 2)]
    assert board.order_mode == "fewest_new" and board.next_consultant_id == ZHAO


@pytest.mark.anyio
async def test_receptions_outside_working_hours_use_no_turn(
    office: Store, edge_settings: EdgeSettings
) -> None:
    early = shanghai(8, 30)
    await set_rules(office, edge_settings, early, work_start=time(9), work_end=time(18))
    await on_duty(office, edge_settings, WANG, LI, at=early)
    visit = await receive(office, edge_settings, "13700000001", WANG, early)
    assert visit.consumed_turn is False
    assert await order(office, edge_settings, early) == [WANG, LI]
    assert (await rota.board(office, edge_settings, now=early)).in_working_hours is False
    inside = await receive(office, edge_settings, "13700000002", WANG, shanghai(9))
    assert inside.consumed_turn is True
    assert await order(office, edge_settings, shanghai(9)) == [LI, WANG]
    late = await receive(office, edge_settings, "13700000003", LI, shanghai(18))
    assert late.consumed_turn is False
    actions = [e["action"] for e in await events_of(office, edge_settings, ROTA_CHANGED)]
    assert actions.count("turn_not_counted") == 2 and actions.count("turn_consumed") == 1
    await set_rules(office, edge_settings, early, work_start=time(8), work_end=time(20))
    assert (await receive(office, edge_settings, "13700000004", LI, shanghai(19))).consumed_turn


@pytest.mark.anyio
async def test_a_stand_in_receives_for_an_absent_owner_and_keeps_the_turn(
    office: Store, edge_settings: EdgeSettings
) -> None:
    at = shanghai(11)
    await on_duty(office, edge_settings, LI, ZHAO, at=at)  # 王顾问 is not on duty
    await set_rules(office, edge_settings, at, return_consumes_turn=True)
    visit = await receive(office, edge_settings, OWNED, LI, at)
    assert visit.classification == "return_visit" and visit.owner_id == WANG
    assert (visit.stand_in_for, visit.stand_in_share, visit.consumed_turn) == (WANG, 50, False)
    assert await order(office, edge_settings, at) == [LI, ZHAO]  # the stand-in kept the turn
    notice = [e for e in await events_of(office, edge_settings, ROTA_CHANGED)
              if e["action"] == "stand_in"]
    assert len(notice) == 1 and notice[0]["consultant_id"] == WANG
    assert notice[0]["detail"] == {"stand_in": LI, "share_percent": 50}
    profiled = await events_of(office, edge_settings, VISIT_PROFILED)
    assert profiled[-1]["stand_in_for"] == WANG and profiled[-1]["stand_in_share"] == 50
    assert [v.id for v in await office.read(manager.stand_ins_for, WANG, at)] == [visit.id]


@pytest.mark.anyio
async def test_an_owner_on_duty_is_no_stand_in_case(
    office: Store, edge_settings: EdgeSettings
) -> None:
    at = shanghai(11)
    await on_duty(office, edge_settings, WANG, LI, at=at)
    visit = await receive(office, edge_settings, OWNED, LI, at)
    assert visit.stand_in_for is None and visit.owner_id == WANG


@pytest.mark.anyio
async def test_a_forgotten_name_visit_is_claimable_for_two_days_only(
    office: Store, edge_settings: EdgeSettings
) -> None:
    at = shanghai(11)
    await on_duty(office, edge_settings, LI, ZHAO, at=at)
    visit = await receive(office, edge_settings, "13611112222", LI, at, forgot_consultant=True)
    assert visit.consumed_turn is True and visit.claimable_until == "2026-11-26"
    with pytest.raises(NotClaimable):
        await office.write(manager.claim, edge_settings, visit.id, ZHAO, MANAGER,
                           shanghai(9, day=27))
    claimed = await office.write(manager.claim, edge_settings, visit.id, ZHAO, MANAGER,
                                 shanghai(17, day=26))
    assert claimed.owner_id == ZHAO and claimed.claimable_until is None
    event = next(e for e in await events_of(office, edge_settings, ROTA_CHANGED)
                 if e["action"] == "claimed")
    assert event["consultant_id"] == ZHAO and event["detail"] == {"receiver": LI}
    assert event["actor"] == f"user:{MANAGER}"
    plain = await receive(office, edge_settings, "13611113333", LI, at)
    with pytest.raises(NotClaimable):
        await office.write(manager.claim, edge_settings, plain.id, ZHAO, MANAGER, at)


@pytest.mark.anyio
async def test_penalties_suspend_a_refusal_and_cost_a_cherry_picker_the_next_turn(
    office: Store, edge_settings: EdgeSettings
) -> None:
    at = shanghai(10)
    await on_duty(office, edge_settings, WANG, LI, ZHAO, at=at)
    out = await office.write(penalties.penalise, edge_settings, WANG, "cherry_picking",
                             "挑选客户", actor=f"user:{MANAGER}", now=at)
    assert out == {"kind": "cherry_picking", "skip_turns": 1}
    assert await head(office, edge_settings, at) == LI  # owes a turn: passed
    await receive(office, edge_settings, "13700000011", LI, at)
    assert await order(office, edge_settings, at) == [ZHAO, LI, WANG]  # the turn is lost
    assert await head(office, edge_settings, at) == ZHAO
    refusal = await office.write(penalties.penalise, edge_settings, ZHAO, "refusal",
                                 "拒接首访客户", actor=f"user:{MANAGER}", now=at)
    assert refusal["suspended_until"] == "2026-11-30"  # 7 days including today
    assert await order(office, edge_settings, at) == [LI, WANG]
    with pytest.raises(ConsultantSuspended):
        await rota.check_in(office, edge_settings, ZHAO, now=shanghai(9, day=30))
    back = await rota.check_in(office, edge_settings, ZHAO,
                               now=shanghai(9, day=30) + timedelta(days=1))
    assert back.changed


@pytest.mark.anyio
async def test_a_manager_corrects_a_visit_the_same_day_only(
    office: Store, edge_settings: EdgeSettings
) -> None:
    at = shanghai(10)
    visit = await receive(office, edge_settings, "13712345678", None, at,
                          profile=VisitProfile(gender="female", grade="B"))
    assert visit.phone_region == "江苏省苏州市" or visit.phone_region
    fixed = await office.write(
        manager.correct, edge_settings, visit.id, profile=VisitProfile(
            gender="female", grade="A", purpose="own_use", budget_min=300, budget_max=400),
        party_size=3, source="referral_old_customer", reason="等级填错", manager_id=MANAGER,
        now=shanghai(20))
    assert fixed.profile_revision == 1 and fixed.profile["grade"] == "A"
    assert fixed.party_size == 3 and fixed.source == "referral_old_customer"
    with pytest.raises(CorrectionClosed):
        await office.write(manager.correct, edge_settings, visit.id, profile=VisitProfile(),
                           party_size=None, source=None, reason="补录", manager_id=MANAGER,
                           now=shanghai(9, day=25))
    profiled = await events_of(office, edge_settings, VISIT_PROFILED)
    assert [(p["revision"], p["corrected_by"]) for p in profiled] == [(0, None), (1, MANAGER)]
    assert profiled[1]["profile"]["budget_max"] == 400 and profiled[1]["reason"] == "等级填错"


@pytest.mark.anyio
async def test_fairness_over_a_simulated_day(office: Store, edge_settings: EdgeSettings) -> None:
    """Three consultants, 60 new customers through a day with lunch, washroom breaks and a
    rest: the kiosk always gives the customer to the board's next receiver. Turns stay
    within one of each other, and no receiver was ever away."""
    rng = random.Random(22)
    at = shanghai(9)
    await on_duty(office, edge_settings, WANG, LI, ZHAO, at=at)
    away: dict[int, datetime] = {}
    for n in range(60):
        at += timedelta(minutes=8)
        for cid, since in list(away.items()):
            if at - since > timedelta(minutes=20):
                await rota.change(office, edge_settings, "back", cid, now=at)
                del away[cid]
        if rng.random() < 0.2 and len(away) < 2:
            cid = rng.choice([c for c in (WANG, LI, ZHAO) if c not in away])
            await rota.change(office, edge_settings, "away", cid,
                              reason=rng.choice(["washroom", "lunch", "business"]), now=at)
            away[cid] = at
        receiver = await head(office, edge_settings, at)
        assert receiver is not None and receiver not in away
        await receive(office, edge_settings, f"158{n:08d}", receiver, at)
    board = await rota.board(office, edge_settings, now=at)
    counted = Counter({c.id: c.counted_today for c in board.consultants if c.on_duty})
    assert sum(counted.values()) == 60
    assert max(counted.values()) - min(counted.values()) <= 1


def test_manager_routes_refuse_a_consultant_and_serve_a_manager(
    edge_settings: EdgeSettings
) -> None:
    seed(edge_settings, roster(edge_settings))

    def bearer(user: int, roles: frozenset[str]) -> dict[str, str]:
        token, _ = edge_token.issue(edge_settings.site_key_bytes, user_id=user, name="x",
                                    site_id=edge_settings.site_id, roles=roles, now=utcnow())
        return {"Authorization": f"Bearer {token}"}

    boss = bearer(MANAGER, frozenset({"sales_manager"}))
    wang = bearer(WANG, frozenset({"consultant"}))
    kiosk = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
    with TestClient(create_app(edge_settings, sync=False)) as client:
        rules = {**ReceptionRules().model_dump(mode="json"), "claim_days": 3}
        assert client.put("/api/v1/staff/reception/settings", json=rules,
                          headers=wang).json()["code"] == "manager_required"
        assert client.put("/api/v1/staff/reception/settings", json=rules,
                          headers=kiosk).status_code == 401
        saved = client.put("/api/v1/staff/reception/settings", json=rules, headers=boss)
        assert saved.status_code == 200 and saved.json()["claim_days"] == 3
        assert client.get("/api/v1/staff/reception/settings",
                          headers=wang).json()["claim_days"] == 3
        bad = client.put("/api/v1/staff/reception/settings", headers=boss,
                         json={**rules, "work_start": "19:00:00", "work_end": "09:00:00"})
        assert bad.status_code == 422
        client.post("/api/v1/kiosk/rota/check-in", json={"consultant_id": LI}, headers=kiosk)
        penalty = {"consultant_id": LI, "kind": "skipped_question", "note": "未问认知途径"}
        assert client.post("/api/v1/staff/reception/penalties", json=penalty,
                           headers=wang).status_code == 403
        given = client.post("/api/v1/staff/reception/penalties", json=penalty, headers=boss)
        assert given.status_code == 200 and given.json()["skip_turns"] == 1
        away = client.post("/api/v1/kiosk/rota/away", headers=kiosk,
                           json={"consultant_id": LI, "reason": "lunch"})
        assert away.json()["consultants"][0]["away_reason"] == "lunch"
        unknown = client.post("/api/v1/kiosk/rota/away", headers=kiosk,
                              json={"consultant_id": LI, "reason": "nap"})
        assert unknown.status_code == 422
        missing = client.patch(f"/api/v1/staff/reception/visits/{uuid.uuid4()}", headers=boss,
                               json={"profile": {}, "reason": "更正"})
        assert missing.status_code == 404 and missing.json()["code"] == "visit_not_found"
        events = client.get("/api/v1/kiosk/rota/events", headers=kiosk).json()
        assert [e["action"] for e in events][:3] == ["away", "penalty", "check_in"]
        assert json.dumps(events[1]["detail"]) == json.dumps(
            {"kind": "skipped_question", "turns": 1})
