"""The 销控 routes: the grid as managers and consultants see it, its ETag for live
polling, release batches, 销控, 预留 requests with approval and expiry, the log, the
colours, and the scope of each caller."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from cloud.inventory import holds
from cloud.inventory.models import Unit, UnitLog
from cloud.main import create_app
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.cloud import audit_rows, problem, signed_in
from tests.cloud.inventory_world import load, principal
from tests.cloud.query_count import cache_serving, statements
from tests.cloud.sales_world import build_world

API = "/api/v1/inventory"


@pytest.fixture
def office(client: TestClient, db: Session, settings: CloudSettings) -> dict[str, Any]:
    world = build_world(db, settings)
    project_id = world["site-a"].project_id
    units = load(db, principal(world["manager_a"], "sales_manager"), project_id)
    return {"world": world, "project_id": project_id, "units": [u.id for u in units],
            "manager": signed_in(client, "manager_a"),
            "consultant": signed_in(client, "consult_a"),
            "other": signed_in(client, "consult_b"), "hq": signed_in(client, "hqadmin")}


def _grid(client: TestClient, o: dict[str, Any], who: str, **headers: str) -> Any:
    return client.get(f"{API}/projects/{o['project_id']}/grid",
                      headers={**o[who], **headers})


def _cells(grid: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {c["id"]: c for b in grid["buildings"] for f in b["floors"] for c in f["units"]}


def _release(client: TestClient, o: dict[str, Any], ids: list[int], name: str = "首开") -> Any:
    return client.post(f"{API}/projects/{o['project_id']}/batches", headers=o["manager"],
                       json={"name": name, "kind": "first_opening", "unit_ids": ids})


def _move(client: TestClient, o: dict[str, Any], unit_id: int, action: str, reason: str = "",
          who: str = "manager") -> Any:
    return client.post(f"{API}/units/{unit_id}/transitions", headers=o[who],
                       json={"action": action, "reason": reason})


def test_consultants_see_only_released_units_without_floor_prices(
        client: TestClient, office: dict[str, Any]) -> None:
    o = office
    full = _grid(client, o, "manager").json()
    assert full["full"] is True and len(_cells(full)) == 6
    assert [f["floor"] for f in full["buildings"][0]["floors"]] == [3, 2, 1]
    assert {c["floor_price_fen"] is not None for c in _cells(full).values()} == {True}
    assert _cells(_grid(client, o, "consultant").json()) == {}
    assert _release(client, o, o["units"][:4]).status_code == 201
    seen = _grid(client, o, "consultant").json()
    assert sorted(_cells(seen)) == sorted(o["units"][:4])
    assert {c["state"] for c in _cells(seen).values()} == {"available"}
    assert {c["floor_price_fen"] for c in _cells(seen).values()} == {None}
    # An unreleased unit does not exist for a consultant.
    hidden = client.post(f"{API}/units/{o['units'][5]}/holds", headers=o["consultant"],
                         json={"reason": "客户意向", "days": 1})
    assert (hidden.status_code, problem(hidden)["code"]) == (404, "unit_not_found")


def test_the_etag_answers_304_until_someone_changes_a_unit(
        client: TestClient, office: dict[str, Any]) -> None:
    o = office
    first = _grid(client, o, "manager")
    etag = first.headers["ETag"]
    assert _grid(client, o, "manager", **{"If-None-Match": etag}).status_code == 304
    assert _release(client, o, o["units"][:1]).status_code == 201
    again = _grid(client, o, "manager", **{"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag
    assert again.json()["version"] > first.json()["version"]
    # The consultant's view has an ETag of its own (it holds fewer units).
    assert _grid(client, o, "consultant").headers["ETag"] != again.headers["ETag"]


def test_control_and_release_write_the_log_and_the_audit(
        client: TestClient, db: Session, office: dict[str, Any]) -> None:
    o = office
    unit_id = o["units"][0]
    assert _release(client, o, [unit_id]).status_code == 201
    no_reason = _move(client, o, unit_id, "control")
    assert (no_reason.status_code, problem(no_reason)["code"]) == (422, "reason_required")
    held = _move(client, o, unit_id, "control", "开发商保留")
    assert held.status_code == 200, held.text
    assert held.json()["to_state"] == "controlled" and held.json()["actor_name"] == "manager_a"
    by_deal = client.post(f"{API}/units/{unit_id}/transitions", headers=o["manager"],
                          json={"action": "subscribe"})
    assert by_deal.status_code == 422  # not an action the console may send
    assert _move(client, o, unit_id, "uncontrol", "解除").json()["to_state"] == "available"
    log = client.get(f"{API}/projects/{o['project_id']}/log", headers=o["manager"],
                     params={"unit_id": unit_id}).json()
    assert [(r["action"], r["from_state"], r["to_state"], r["reason"]) for r in log] == [
        ("uncontrol", "controlled", "available", "解除"),
        ("control", "available", "controlled", "开发商保留"),
        ("release", "unreleased", "available", "首开")]
    assert [r.detail["action"] for r in audit_rows(db, "unit.transition")] == [
        "control", "uncontrol"]
    assert audit_rows(db, "release_batch.create")[0].detail["unit_ids"] == [unit_id]
    # A consultant may read the grid but not hold a unit, nor read the log.
    assert _move(client, o, unit_id, "control", "x", who="consultant").status_code == 403
    assert client.get(f"{API}/projects/{o['project_id']}/log",
                      headers=o["consultant"]).status_code == 403


def test_a_batch_is_all_or_nothing(client: TestClient, db: Session,
                                   office: dict[str, Any]) -> None:
    o = office
    assert _release(client, o, o["units"][:2]).status_code == 201
    again = _release(client, o, o["units"][1:4], name="加推一")
    assert (again.status_code, problem(again)["code"]) == (422, "batch_units_invalid")
    # Another site's units cannot be released from this project, nor named in it.
    foreign = load(db, principal(o["world"]["manager_a"], "sales_manager", site_ids=None),
                   o["world"]["site-b"].project_id, floors=1, per_floor=1)
    mixed = _release(client, o, [o["units"][4], foreign[0].id or 0], name="加推二")
    assert (mixed.status_code, problem(mixed)["code"]) == (422, "batch_units_invalid")
    same_name = _release(client, o, o["units"][4:5])
    assert (same_name.status_code, problem(same_name)["code"]) == (409, "batch_name_taken")
    db.rollback()
    states = dict(db.exec(select(Unit.id, Unit.state)).all())
    assert [states[i] for i in o["units"]] == ["available"] * 2 + ["unreleased"] * 4
    assert states[foreign[0].id] == "unreleased"
    batches = client.get(f"{API}/projects/{o['project_id']}/batches", headers=o["hq"]).json()
    assert [(b["name"], b["unit_count"]) for b in batches] == [("首开", 2)]


def test_a_reservation_is_asked_approved_and_expires(
        client: TestClient, db: Session, settings: CloudSettings,
        office: dict[str, Any]) -> None:
    o = office
    unit_id = o["units"][0]
    _release(client, o, [unit_id])
    too_long = client.post(f"{API}/units/{unit_id}/holds", headers=o["consultant"],
                           json={"reason": "客户意向", "days": 5})
    assert (too_long.status_code, problem(too_long)["code"]) == (422, "hold_too_long")
    asked = client.post(f"{API}/units/{unit_id}/holds", headers=o["consultant"],
                        json={"reason": "客户周末签约", "days": 2,
                              "customer_id": o["world"]["site-a"].customer_id})
    assert asked.status_code == 201, asked.text
    twice = client.post(f"{API}/units/{unit_id}/holds", headers=o["consultant"],
                        json={"reason": "再来一次", "days": 1})
    assert problem(twice)["code"] == "hold_already_pending"
    hold_id = asked.json()["id"]
    # The consultant sees only their own requests; cannot approve.
    assert client.post(f"{API}/holds/{hold_id}/approve", headers=o["consultant"],
                       json={}).status_code == 403
    approved = client.post(f"{API}/holds/{hold_id}/approve", headers=o["manager"],
                           json={"note": "同意"})
    assert approved.json()["status"] == "approved"
    cell = _cells(_grid(client, o, "consultant").json())[unit_id]
    assert cell["state"] == "reserved"
    assert cell["hold_until"] is not None
    assert problem(client.post(f"{API}/holds/{hold_id}/reject", headers=o["manager"],
                               json={"note": "晚了"}))["code"] == "hold_not_pending"
    # Not yet due: the job leaves it; past its end: back to 待售, logged as the system's.
    assert holds.expire(db, settings) == {"expired": 0}
    db.execute(update(Unit).where(col(Unit.id) == unit_id)
               .values(hold_until=utcnow() - timedelta(minutes=1)))
    assert holds.expire(db, settings) == {"expired": 1}
    db.commit()
    last = db.exec(select(UnitLog).where(UnitLog.unit_id == unit_id)
                   .order_by(col(UnitLog.id).desc())).first()
    assert last is not None and (last.action, last.to_state, last.actor_id) == (
        "expire", "available", None)
    assert [r.actor for r in audit_rows(db, "unit.transition")][-1] == "system"


def test_other_sites_units_and_projects_do_not_exist(
        client: TestClient, office: dict[str, Any]) -> None:
    o = office
    _release(client, o, o["units"][:1])
    grid = _grid(client, o, "other")
    assert (grid.status_code, problem(grid)["code"]) == (404, "project_not_found")
    hold = client.post(f"{API}/units/{o['units'][0]}/holds", headers=o["other"],
                       json={"reason": "别人的房", "days": 1})
    assert (hold.status_code, problem(hold)["code"]) == (404, "unit_not_found")
    # HQ reads everything, changes nothing.
    assert _grid(client, o, "hq").status_code == 200
    assert _move(client, o, o["units"][0], "control", "x", who="hq").status_code == 403
    # A customer of another project cannot be named on a hold.
    foreign = client.post(f"{API}/units/{o['units'][0]}/holds", headers=o["consultant"],
                          json={"reason": "x", "days": 1,
                                "customer_id": o["world"]["site-b"].customer_id})
    assert problem(foreign)["code"] == "customer_not_in_project"


def test_colours_are_edited_per_project(client: TestClient, db: Session,
                                        office: dict[str, Any]) -> None:
    o = office
    url = f"{API}/projects/{o['project_id']}/settings"
    before = client.get(url, headers=o["manager"]).json()
    assert before["colours"]["available"] == "#ffffff" and before["reserve_max_days"] == 3
    bad = client.put(url, headers=o["manager"], json={"colours": {"signed": "red"}})
    assert bad.status_code == 422
    unknown = client.put(url, headers=o["manager"], json={"colours": {"sold": "#000000"}})
    assert unknown.status_code == 422
    saved = client.put(url, headers=o["manager"],
                       json={"colours": {"signed": "#aa0000"}, "reserve_max_days": 5})
    assert saved.status_code == 200, saved.text
    grid = _grid(client, o, "consultant").json()
    assert grid["colours"]["signed"] == "#aa0000" and grid["colours"]["available"] == "#ffffff"
    assert audit_rows(db, "inventory.settings")[0].detail["colours"] == {"signed": "#aa0000"}
    assert client.put(url, headers=o["consultant"], json={}).status_code == 403


def test_the_pwa_may_poll_the_grid_across_origins(
        settings: CloudSettings, db: Session, office: dict[str, Any]) -> None:
    """The edge-served PWA sends If-None-Match to the cloud and must be able to read the
    ETag the cloud answers with."""
    edge = "https://edge-a.example.cn"
    roomy = settings.model_copy(update={"cors_origins": [edge]})
    url = f"{API}/projects/{office['project_id']}/grid"
    with TestClient(create_app(roomy)) as client:
        preflight = client.options(url, headers={
            "Origin": edge, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization,if-none-match"})
        assert preflight.status_code == 200, preflight.text
        first = client.get(url, headers={**office["consultant"], "Origin": edge})
        assert first.headers["access-control-expose-headers"] == "ETag"
        again = client.get(url, headers={**office["consultant"], "Origin": edge,
                                         "If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304


def test_an_unchanged_poll_costs_one_read(client: TestClient, office: dict[str, Any]) -> None:
    """The project (for the scope) joined to its version row; no unit is read for a
    304."""
    o = office
    cache_serving(client.app)
    etag = _grid(client, o, "consultant").headers["ETag"]
    with statements(client.app.state.engine) as sent:  # type: ignore[attr-defined]
        again = _grid(client, o, "consultant", **{"If-None-Match": etag})
    assert again.status_code == 304
    assert len(sent) == 1, sent
    assert not any("FROM unit " in s or "FROM unit\n" in s for s in sent)


def test_only_who_may_lift_a_control_may_ask_to_reserve_the_unit(
        client: TestClient, office: dict[str, Any]) -> None:
    o = office
    unit_id = o["units"][0]
    _release(client, o, [unit_id])
    assert _move(client, o, unit_id, "control", "开发商保留").status_code == 200
    body = {"reason": "客户意向", "days": 1}
    refused = client.post(f"{API}/units/{unit_id}/holds", headers=o["consultant"], json=body)
    assert (refused.status_code, problem(refused)["code"]) == (409, "unit_transition_refused")
    asked = client.post(f"{API}/units/{unit_id}/holds", headers=o["manager"], json=body)
    assert asked.status_code == 201, asked.text
    approved = client.post(f"{API}/holds/{asked.json()['id']}/approve", headers=o["manager"],
                           json={})
    assert approved.status_code == 200, approved.text
    assert _cells(_grid(client, o, "manager").json())[unit_id]["state"] == "reserved"
