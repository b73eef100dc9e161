"""扫码带看 at the cloud (issue #21 item 6): the broker's code, the down-feed an appliance
verifies it with, and the check-in that syncs up — the referral decided again, the
nonce single-use cloud-wide, refusals and replays recorded."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.channel import qr as cloud_qr
from cloud.channel.models import QrScan, Referral
from cloud.channel.risk_models import RiskCase
from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from cloud.sync import feed
from cloud.sync.keys import site_key
from cloud.sync.models import DownFeed, SiteLink
from shared import qr
from shared.crypto import BlindIndex
from shared.events import QR_CHECKED_IN, QR_REFUSED, VISIT_REGISTERED
from shared.timeutil import utcnow
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld, refer
from tests.cloud.sales_world import apply, envelope
from tests.consent import consent_body

NEW = "13612345678"


def on_site(api: TestClient, cw: ChannelWorld) -> None:
    response = api.post(f"/api/v1/channel/projects/{cw.project('site-a')}/rules",
                        headers=signed_in(api, "cm_a"),
                        json={"rules": {"confirmation": "on_site", "lead_time": "PT0S"}})
    assert response.status_code == 201, response.text


def referral_and_code(api: TestClient, cw: ChannelWorld) -> tuple[int, str]:
    on_site(api, cw)
    broker = signed_in(api, "broker_a1")
    referral = refer(api, broker, cw.project("site-a"), NEW).json()
    assert referral["state"] == "pending", referral
    issued = api.post(f"/api/v1/channel/referrals/{referral['id']}/qr", headers=broker)
    assert issued.status_code == 201, issued.text
    return referral["id"], issued.json()["token"]


def test_the_owner_gets_a_code_only_the_cloud_can_sign(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
) -> None:
    referral_id, token = referral_and_code(api, cw)

    keys = {kid: qr.load_public_key(k) for kid, k in cloud_qr.public_keys(settings).items()}
    claims = qr.verify(token, keys, now=utcnow(), project_ids={cw.project("site-a")})
    assert (claims.rid, claims.bid) == (referral_id, cw.brokers["broker_a1"].id)
    link = db.get(SiteLink, "site-a")
    assert link is not None
    assert claims.pk == qr.phone_key(BlindIndex(site_key(settings, link)), NEW)
    assert timedelta(minutes=29) < claims.expires_at - utcnow() <= timedelta(minutes=30)
    assert NEW not in json.dumps(claims.model_dump()) and "5678" not in token
    with pytest.raises(qr.QrExpired):
        qr.verify(token, keys, now=utcnow() + timedelta(minutes=31),
                  project_ids={cw.project("site-a")})
    audit = db.exec(select(AuditLog).where(AuditLog.action == "channel.qr_issue")).one()
    assert audit.object_id == str(referral_id) and audit.detail["nonce"] == claims.n


def test_no_one_else_gets_a_code_and_no_code_for_a_dead_referral(
    api: TestClient, cw: ChannelWorld,
) -> None:
    referral_id, _ = referral_and_code(api, cw)
    other = api.post(f"/api/v1/channel/referrals/{referral_id}/qr",
                     headers=signed_in(api, "broker_b1"))
    assert other.status_code == 404 and other.json()["code"] == "referral_not_found"

    refused = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), NEW).json()
    assert refused["state"] == "invalid"
    dead = api.post(f"/api/v1/channel/referrals/{refused['id']}/qr",
                    headers=signed_in(api, "broker_a1"))
    assert dead.status_code == 409 and dead.json()["code"] == "referral_not_live"
    assert "不能生成" in dead.json()["detail"]


def test_the_down_feed_carries_keys_rules_and_masked_live_referrals(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
) -> None:
    referral_id, _ = referral_and_code(api, cw)
    link = db.get(SiteLink, "site-a")
    assert link is not None
    feed.refresh_derived(db, "site-a", settings=settings, link=link)
    items = {(r.kind, r.key): r.data for r in db.exec(select(DownFeed).where(
        DownFeed.site_id == "site-a", col(DownFeed.kind).in_(
            ["qr_key", "channel_rules", "referral"]))).all()}

    (kid, public), = cloud_qr.public_keys(settings).items()
    assert items[("qr_key", kid)] == {"kid": kid, "public_key": public}
    assert items[("channel_rules", f"{cw.project('site-a')}:2")]["rules"]["confirmation"] == (
        "on_site")
    referral = items[("referral", str(referral_id))]
    assert referral["phone_masked"] == "136****5678" and referral["state"] == "pending"
    text = json.dumps(list(items.values()), ensure_ascii=False)
    assert NEW not in text and "张" not in text  # no full number, no name
    assert not any(k[0] == "referral" for k in items if k[1] != str(referral_id))

    # Site B's appliance hears nothing of site A's referrals.
    other = db.get(SiteLink, "site-b")
    assert other is not None
    feed.refresh_derived(db, "site-b", settings=settings, link=other)
    assert db.exec(select(DownFeed).where(DownFeed.site_id == "site-b",
                                          DownFeed.kind == "referral")).all() == []


def checkin(cw: ChannelWorld, claims: qr.QrClaims, visit_id: str, *,
            edge_state: str | None = "confirmed") -> dict[str, Any]:
    return {"visit_id": visit_id, "project_id": cw.project("site-a"), "referral_id": claims.rid,
            "broker_id": claims.bid, "key_id": claims.kid, "nonce": claims.n,
            "expires_at": claims.expires_at.isoformat(), "phone": NEW,
            "edge_state": edge_state, "edge_reason": "visit_confirmed"}


def visit(cw: ChannelWorld, visit_id: str) -> dict[str, Any]:
    return {"visit_id": visit_id, "project_id": cw.project("site-a"), "phone": NEW,
            "party_size": 2, "source": "channel",
            "consent": {**consent_body(), "method": "kiosk_screen",
                        "recorded_at": utcnow().isoformat(), "tablet": "10.0.0.5"}}


def test_a_check_in_confirms_the_referral_once_and_a_second_use_is_a_risk(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
) -> None:
    referral_id, token = referral_and_code(api, cw)
    claims = qr.read_claims(token)
    site = cw.sales["site-a"]
    visit_id = str(uuid.uuid4())
    result = apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), VISIT_REGISTERED, visit(cw, visit_id)),
        envelope(site.key, "site-a", site.next_seq(), QR_CHECKED_IN,
                 checkin(cw, claims, visit_id, edge_state="pending")),
    ])
    assert result.rejected == []

    row = db.get(Referral, referral_id, populate_existing=True)
    assert row is not None and row.state == "confirmed"
    guided = db.get(Visit, visit_id, populate_existing=True)
    assert guided is not None
    assert (guided.broker_id, guided.referral_id) == (claims.bid, referral_id)
    scan = db.exec(select(QrScan)).one()
    assert (scan.outcome, scan.edge_state, scan.cloud_state) == ("accepted", "pending",
                                                                "confirmed")

    # The same code at another appliance (or a restored one): refused, kept as a risk.
    again = apply(db, settings, "site-a", [envelope(
        site.key, "site-a", site.next_seq(), QR_CHECKED_IN,
        checkin(cw, claims, str(uuid.uuid4())))])
    assert [r.reason for r in again.rejected] == ["qr_replayed"]
    outcomes = db.exec(select(QrScan.outcome).order_by(col(QrScan.id))).all()
    assert outcomes == ["accepted", "replayed"]
    assert len(db.exec(select(AuditLog).where(AuditLog.action == "channel.qr_replayed")
                       ).all()) == 1
    case = db.exec(select(RiskCase)).one()
    assert (case.check_code, case.referral_id, case.state) == ("duplicate_qr", referral_id,
                                                              "open")
    assert [e["outcome"] for e in case.evidence["timeline"]] == ["accepted", "replayed"]
    assert len(db.exec(select(AuditLog).where(
        AuditLog.action == "channel.referral_redecide")).all()) == 1

    listed = api.get("/api/v1/visits", headers=signed_in(api, "hqadmin"),
                     params={"site_id": "site-a"}).json()["items"]
    assert [(v["broker_id"], v["referral_id"]) for v in listed if v["id"] == visit_id] == [
        (claims.bid, referral_id)]

    detail = api.get(f"/api/v1/channel/referrals/{referral_id}",
                     headers=signed_in(api, "cm_a")).json()
    first = detail["qr_check_ins"][0]
    assert (first["edge_state"], first["cloud_state"], first["differs"]) == (
        "pending", "confirmed", True)
    assert detail["qr_check_ins"][1]["outcome"] == "replayed"


def test_a_forged_check_in_naming_another_brokers_referral_is_refused(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
) -> None:
    referral_id, token = referral_and_code(api, cw)
    claims = qr.read_claims(token).model_copy(update={"bid": cw.brokers["broker_b1"].id})
    site = cw.sales["site-a"]
    result = apply(db, settings, "site-a", [envelope(
        site.key, "site-a", site.next_seq(), QR_CHECKED_IN,
        checkin(cw, claims, str(uuid.uuid4())))])
    assert [r.reason for r in result.rejected] == ["qr_referral_unknown"]
    row = db.get(Referral, referral_id, populate_existing=True)
    assert row is not None and row.state == "pending"


def test_a_refused_code_is_recorded(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
) -> None:
    site = cw.sales["site-a"]
    apply(db, settings, "site-a", [envelope(
        site.key, "site-a", site.next_seq(), QR_REFUSED,
        {"project_id": cw.project("site-a"), "code": "qr_bad_signature", "referral_id": 5,
         "broker_id": 6, "key_id": "q1", "nonce": "A" * 22, "token_sha256": "a" * 64})])
    scan = db.exec(select(QrScan)).one()
    assert (scan.outcome, scan.reason_code, scan.referral_id) == ("refused",
                                                                  "qr_bad_signature", 5)
    audit = db.exec(select(AuditLog).where(AuditLog.action == "channel.qr_refused")).one()
    assert audit.detail["code"] == "qr_bad_signature"
