"""接待设置 at the cloud (ADR 0051), on real PostgreSQL: the console reads the defaults,
saves within its scope, audited with the diff, and the change reaches the site's
down-feed with its time; bad values are problem+json; the appliance's
`settings_changed` events are kept when newer and answered with the cloud's settings
(naming the change) when older — the race both ways; a snapshot states the settings,
an ordinary request does not derive them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.reception.models import ReceptionSetting
from cloud.settings import CloudSettings
from cloud.sync import feed
from cloud.sync.keys import site_key
from cloud.sync.models import DownFeed, SiteLink
from shared.reception import DEFAULT_RULES, ReceptionRules, ReceptionSettingsItem
from shared.reception_events import ROTA_CHANGED
from shared.timeutil import shanghai_date, utcnow
from tests.cloud import audit_rows, problem, signed_in
from tests.cloud.migration_drift import drift
from tests.cloud.sales_world import apply, envelope

DEFAULTS = DEFAULT_RULES.model_dump(mode="json")


def url(world: dict[str, Any], site: str = "site-a") -> str:
    return f"/api/v1/projects/{world[site].project_id}/reception-settings"


def items(db: Session, site_id: str = "site-a") -> list[DownFeed]:
    db.rollback()
    return list(db.exec(select(DownFeed).where(
        DownFeed.site_id == site_id, DownFeed.kind == "reception.settings")
        .order_by(col(DownFeed.offset))).all())


def settings_changed(world: dict[str, Any], at: Any, **values: Any) -> Any:
    site = world["site-a"]
    rules = ReceptionRules(**values).model_dump(mode="json")
    return envelope(site.key, "site-a", site.next_seq(), ROTA_CHANGED, {
        "rota_event_id": str(uuid.uuid4()), "project_id": site.project_id,
        "duty_date": str(shanghai_date(at)), "occurred_at": at.isoformat(),
        "consultant_id": world["manager_a"], "action": "settings_changed",
        "actor": f"user:{world['manager_a']}", "reason": "经理修改接待设置",
        "detail": {"changed": {}, "rules": rules}}, at=at)


def test_the_migration_matches_the_model(engine: Engine) -> None:
    assert drift(engine, ["reception_setting"]) == []


def test_the_console_reads_defaults_saves_audits_and_feeds_the_site(
        client: TestClient, db: Session, world: dict[str, Any]) -> None:
    shown = client.get(url(world), headers=signed_in(client, "reception_a")).json()
    assert shown["rules"] == DEFAULTS and shown["defaults"] == DEFAULTS
    assert shown["changed_at"] is None and shown["changed_via"] is None
    manager = signed_in(client, "manager_a")
    before = utcnow()
    saved = client.put(url(world), headers=manager, json={
        **DEFAULTS, "order_mode": "fewest_new", "work_start": "09:00:00",
        "work_end": "18:00:00", "drop_effects": {"leave": "off", "rest": "off",
                                                 "private": "tail"}})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["rules"]["order_mode"] == "fewest_new" and body["changed_via"] == "console"
    assert body["changed_by"] == world["manager_a"] and body["changed_by_name"]
    [audit] = audit_rows(db, "reception.settings")
    assert audit.detail["changed"] == {
        "order_mode": ["check_in", "fewest_new"], "work_start": ["00:00:00", "09:00:00"],
        "work_end": ["23:59:59.999999", "18:00:00"],
        "drop_effects": [{"leave": "off", "rest": "tail", "private": "tail"},
                         {"leave": "off", "rest": "off", "private": "tail"}]}
    [item] = items(db)
    sent = ReceptionSettingsItem.model_validate(item.data)
    assert item.key == str(world["site-a"].project_id)
    assert sent.rules.order_mode == "fewest_new" and sent.changed_by == world["manager_a"]
    assert before <= sent.changed_at <= utcnow() and sent.supersedes_at is None
    assert items(db, "site-b") == []
    # The same values again change nothing: no audit, no item.
    again = client.put(url(world), headers=manager, json=body["rules"])
    assert again.status_code == 200 and again.json()["changed_at"] == body["changed_at"]
    assert len(audit_rows(db, "reception.settings")) == 1 and len(items(db)) == 1


def test_bad_values_scope_and_roles(client: TestClient, db: Session,
                                    world: dict[str, Any]) -> None:
    manager = signed_in(client, "manager_a")
    for bad in ({"work_start": "18:00:00", "work_end": "09:00:00"}, {"claim_days": 31},
                {"stand_in_share_percent": 101}, {"order_mode": "random"},
                {"work_start": "09:00:00+08:00", "work_end": "18:00:00+08:00"},
                {"surprise": 1}):
        refused = client.put(url(world), headers=manager, json={**DEFAULTS, **bad})
        assert refused.status_code == 422, bad
        assert problem(refused)["code"] == "validation_failed", bad
    other = client.put(url(world, "site-b"), headers=manager, json=DEFAULTS)
    assert other.status_code == 404 and problem(other)["code"] == "project_not_found"
    assert client.get(url(world, "site-b"), headers=manager).status_code == 404
    consultant = client.put(url(world), headers=signed_in(client, "consult_a"), json=DEFAULTS)
    assert consultant.status_code == 403
    assert audit_rows(db, "reception.settings") == [] and items(db) == []
    hq = client.put(url(world, "site-b"), headers=signed_in(client, "hqadmin"),
                    json={**DEFAULTS, "skip_turns_penalty": 2})
    assert hq.status_code == 200 and len(items(db, "site-b")) == 1


def test_a_newer_appliance_change_is_kept_and_audited(
        client: TestClient, db: Session, settings: CloudSettings,
        world: dict[str, Any]) -> None:
    """The console changed first; the office changed later while offline: the office's
    change reaches the cloud afterwards and wins (nothing is sent back down)."""
    saved = client.put(url(world), headers=signed_in(client, "hqadmin"),
                       json={**DEFAULTS, "claim_days": 4})
    assert saved.status_code == 200
    apply(db, settings, "site-a", [settings_changed(world, utcnow(), refusal_suspend_days=3)])
    row = db.get(ReceptionSetting, world["site-a"].project_id)
    assert row is not None and row.changed_via == "site:site-a"
    assert ReceptionRules.model_validate(row.rules) == ReceptionRules(refusal_suspend_days=3)
    assert row.changed_by == world["manager_a"]
    shown = client.get(url(world), headers=signed_in(client, "manager_a")).json()
    assert shown["rules"]["refusal_suspend_days"] == 3 and shown["changed_via"] == "site:site-a"
    audits = audit_rows(db, "reception.settings")
    assert audits[-1].detail == {
        "changed": {"claim_days": [4, 2], "refusal_suspend_days": [7, 3]},
        "via": "site:site-a"}
    assert len(items(db)) == 1  # the console's only


def test_an_older_appliance_change_gives_way_and_is_answered(
        client: TestClient, db: Session, settings: CloudSettings,
        world: dict[str, Any]) -> None:
    """The office changed first while offline; the console changed after: the office's
    change arrives late, loses, and the cloud sends its settings again naming it."""
    office_at = utcnow() - timedelta(minutes=10)
    saved = client.put(url(world), headers=signed_in(client, "hqadmin"),
                       json={**DEFAULTS, "claim_days": 4})
    assert saved.status_code == 200
    apply(db, settings, "site-a", [settings_changed(world, office_at, claim_days=1)])
    row = db.get(ReceptionSetting, world["site-a"].project_id)
    assert row is not None and row.changed_via == "console"
    assert ReceptionRules.model_validate(row.rules).claim_days == 4
    first, answer = items(db)
    again = ReceptionSettingsItem.model_validate(answer.data)
    assert again.rules.claim_days == 4 and again.supersedes_at == office_at
    assert again.changed_at == ReceptionSettingsItem.model_validate(first.data).changed_at
    assert len(audit_rows(db, "reception.settings")) == 1


def test_an_older_appliance_without_rules_in_full_is_laid_over(
        db: Session, settings: CloudSettings, world: dict[str, Any]) -> None:
    site = world["site-a"]
    at = utcnow()
    event = envelope(site.key, "site-a", site.next_seq(), ROTA_CHANGED, {
        "rota_event_id": str(uuid.uuid4()), "project_id": site.project_id,
        "duty_date": str(shanghai_date(at)), "occurred_at": at.isoformat(),
        "consultant_id": world["manager_a"], "action": "settings_changed",
        "actor": "user:1", "reason": "经理修改接待设置",
        "detail": {"changed": {"claim_days": [2, 5]}}}, at=at)
    apply(db, settings, "site-a", [event])
    row = db.get(ReceptionSetting, site.project_id)
    assert row is not None and ReceptionRules.model_validate(row.rules) == ReceptionRules(
        claim_days=5)


def test_a_snapshot_states_the_settings_and_requests_do_not_derive_them(
        client: TestClient, db: Session, settings: CloudSettings,
        world: dict[str, Any]) -> None:
    saved = client.put(url(world), headers=signed_in(client, "manager_a"),
                       json={**DEFAULTS, "claim_days": 4})
    assert saved.status_code == 200
    db.rollback()
    link = db.get(SiteLink, "site-a")
    assert link is not None
    feed.refresh_derived(db, "site-a", settings=settings, link=link)
    [appended] = items(db)
    link = db.get(SiteLink, "site-a")
    assert link is not None
    snapshot = feed.batch_after(db, settings=settings, link=link,
                                site_key=site_key(settings, link), cursor=10**9, limit=500)
    assert snapshot.resync
    [stated] = [i for i in snapshot.items if i.kind == "reception.settings"]
    assert stated.data == appended.data and stated.key == appended.key
