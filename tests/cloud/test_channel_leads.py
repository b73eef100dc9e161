"""智能拓客 against real PostgreSQL and Redis: share links (signed tokens, forgeries,
expiry), the public page's opens and views (rate-limited, bounded), leads (consent,
encrypted phone with blind index), 转报备 through the ordinary referral rules, the lead
timeline of a customer and who sees which leads."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.channel import share_tokens
from cloud.channel.lead_models import Lead, ShareEvent
from cloud.channel.leads import LEAD_NAME_CONTEXT, LEAD_PHONE_CONTEXT
from cloud.channel.listing_models import Campaign, CampaignProject, ProjectProfile
from cloud.main import create_app
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.cloud import audit_rows, make_user, problem, signed_in
from tests.cloud.channel_world import ChannelWorld
from tests.cloud.sales_world import PHONE_A, body, post

URL = "/api/v1/channel"
NEW_PHONE = "13612345678"


def _share(client: TestClient, who: str, project_id: int) -> httpx.Response:
    response: httpx.Response = client.post(f"{URL}/broker/shares",
                                           headers=signed_in(client, who),
                                           json={"kind": "project", "project_id": project_id})
    return response


def _token(client: TestClient, who: str, project_id: int) -> str:
    made = _share(client, who, project_id)
    assert made.status_code in (200, 201), made.text
    token: str = made.json()["token"]
    return token


def _event(client: TestClient, token: str, visitor: str, kind: str = "view",
           page: str = "overview", seconds: int = 0) -> httpx.Response:
    response: httpx.Response = client.post(
        f"{URL}/public/shares/{token}/events",
        json={"visitor_id": visitor, "kind": kind, "page": page, "seconds": seconds})
    return response


def _lead(client: TestClient, token: str, visitor: str, phone: str = NEW_PHONE,
          **extra: Any) -> httpx.Response:
    response: httpx.Response = client.post(
        f"{URL}/public/shares/{token}/leads",
        json={"visitor_id": visitor, "name": "李雷", "phone": phone, "consent": True,
              **extra})
    return response


def _visitor() -> str:
    return str(uuid.uuid4())


def test_share_open_views_and_a_lead_stored_encrypted(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings
) -> None:
    a = cw.project("site-a")
    first = _share(api, "broker_a1", a)
    assert first.status_code == 201, first.text
    again = _share(api, "broker_a1", a)
    assert again.status_code == 200 and again.json()["token"] == first.json()["token"]
    token = first.json()["token"]
    assert first.json()["path"] == f"/h5/s/{token}" and len(token) == 44
    [made] = audit_rows(db, "channel.share_create")
    assert made.detail["target_id"] == a

    shown = api.get(f"{URL}/public/shares/{token}")  # no sign-in
    assert shown.status_code == 200, shown.text
    page = shown.json()
    assert page["kind"] == "project" and page["project"]["id"] == a
    assert "cooperation" not in page["project"]  # the brokers' pay is not public
    assert page["broker_name"] and "同意" in page["consent_text"]

    visitor, other = _visitor(), _visitor()
    assert _event(api, token, visitor, "open").status_code == 204
    assert _event(api, token, visitor, "view", "layouts", 42).status_code == 204
    assert _event(api, token, other, "open").status_code == 204
    assert _lead(api, token, visitor).status_code == 201
    # The same number again (another visit): one lead, and the visitor is told the same.
    assert _lead(api, token, other).status_code == 201

    db.rollback()
    [lead] = db.exec(select(Lead)).all()
    assert NEW_PHONE not in lead.phone_enc and "李雷" not in lead.name_enc
    assert settings.cipher.decrypt(lead.phone_enc, context=LEAD_PHONE_CONTEXT) == NEW_PHONE
    assert settings.cipher.decrypt(lead.name_enc, context=LEAD_NAME_CONTEXT) == "李雷"
    assert lead.phone_bidx == settings.blind_index.phone(NEW_PHONE)
    assert lead.phone_masked == "136****5678" and lead.consent_version == "lead-v1"
    assert lead.broker_id == cw.brokers["broker_a1"].id
    assert lead.agency_id == cw.agencies["A"].id
    # Nothing of the visitor's raw id is kept: only the share-salted hash.
    keys = {e.visitor_key for e in db.exec(select(ShareEvent)).all()}
    assert visitor not in keys and len(keys) == 2
    [audited] = audit_rows(db, "channel.lead_create")
    assert audited.detail["phone"] == "136****5678" and NEW_PHONE not in str(audited.detail)

    headers = signed_in(api, "broker_a1")
    [mine] = api.get(f"{URL}/broker/shares", headers=headers).json()
    assert mine["stats"] | {"last_seen_at": None} == {
        "visitors": 2, "opens": 2, "views": 1, "seconds": 42, "leads": 1,
        "last_seen_at": None}
    assert mine["stats"]["last_seen_at"] is not None
    [shown_lead] = api.get(f"{URL}/broker/leads", headers=headers).json()
    assert shown_lead["phone_masked"] == "136****5678"
    assert shown_lead["customer_name"] == "李*" or shown_lead["customer_name"].startswith("李")
    assert shown_lead["views"] == 1 and shown_lead["seconds"] == 42
    assert shown_lead["referral_id"] is None


def test_forged_altered_expired_and_misbound_tokens_are_refused(
    api: TestClient, cw: ChannelWorld, settings: CloudSettings
) -> None:
    token = _token(api, "broker_a1", cw.project("site-a"))
    altered = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for bad in ("x" * 44, altered, token[:-4], "not-a-token", "é" * 44):
        answer = api.get(f"{URL}/public/shares/{bad}")
        assert answer.status_code == 404, (bad, answer.text)
        body_ = problem(answer)
        assert body_["code"] == "share_link_invalid" and "分享链接无效" in body_["title"]
        assert _event(api, bad, _visitor()).status_code == 404
        assert _lead(api, bad, _visitor()).status_code == 404
    assert api.get(f"{URL}/public/shares/{'a' * 65}").status_code == 422

    claims = share_tokens.verify(settings, token, utcnow())
    expired = share_tokens.sign(settings, share_tokens.ShareClaims(
        claims.share_id, claims.broker_id, "project", claims.target_id,
        utcnow() - timedelta(seconds=1)))
    gone = api.get(f"{URL}/public/shares/{expired}")
    assert gone.status_code == 410 and problem(gone)["code"] == "share_link_expired"
    # Genuinely signed, but naming another broker than the share row's: not ours.
    misbound = share_tokens.sign(settings, share_tokens.ShareClaims(
        claims.share_id, cw.brokers["broker_b1"].id or 0, "project", claims.target_id,
        claims.expires_at))
    assert api.get(f"{URL}/public/shares/{misbound}").json()["code"] == "share_link_invalid"


def test_consent_bounds_and_oversized_payloads(
    api: TestClient, cw: ChannelWorld, db: Session
) -> None:
    token = _token(api, "broker_a1", cw.project("site-a"))
    visitor = _visitor()
    refused = _lead(api, token, visitor, consent=False)
    assert refused.status_code == 422 and problem(refused)["code"] == "lead_consent_required"
    assert _lead(api, token, visitor, phone="12345").status_code == 422
    assert _lead(api, token, visitor, extra="x").status_code == 422
    huge = api.post(f"{URL}/public/shares/{token}/leads",
                    content=b'{"visitor_id": "' + b"a" * 5000 + b'"}',
                    headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and problem(huge)["code"] == "share_payload_too_large"
    for wrong in ({"kind": "click"}, {"seconds": 3601}, {"seconds": -1},
                  {"page": "../etc"}, {"visitor_id": "short"}):
        answer = api.post(f"{URL}/public/shares/{token}/events", json={
            "visitor_id": visitor, "kind": "view", "page": "overview", "seconds": 1, **wrong})
        assert answer.status_code == 422, wrong
    db.rollback()
    assert db.exec(select(Lead)).all() == [] and db.exec(select(ShareEvent)).all() == []


def test_views_are_rate_limited_per_visitor_and_per_source(
    settings: CloudSettings, cw: ChannelWorld
) -> None:
    tight = settings.model_copy(update={"share_event_limit": 3, "share_ip_limit": 8,
                                        "login_ip_limit": 1000})
    with TestClient(create_app(tight)) as client:
        token = _token(client, "broker_a1", cw.project("site-a"))
        visitor = _visitor()
        answers = [_event(client, token, visitor).status_code for _ in range(4)]
        assert answers == [204, 204, 204, 429]
        limited = _event(client, token, visitor)
        assert problem(limited)["code"] == "share_rate_limited"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        # Another visitor is not slowed by this one — until the source's own limit.
        others = [_event(client, token, _visitor()).status_code for _ in range(4)]
        assert others[0] == 204 and others[-1] == 429


def test_a_lead_becomes_a_referral_and_refusals_flow_through(
    api: TestClient, cw: ChannelWorld, db: Session
) -> None:
    a = cw.project("site-a")
    _lead(api, _token(api, "broker_a1", a), _visitor())
    _lead(api, _token(api, "broker_b1", a), _visitor())
    headers = signed_in(api, "broker_a1")
    [lead] = api.get(f"{URL}/broker/leads", headers=headers).json()
    made = api.post(f"{URL}/broker/leads/{lead['id']}/referral", headers=headers)
    assert made.status_code == 201, made.text
    referral = made.json()
    assert referral["state"] in ("pending", "confirmed")
    assert referral["phone_masked"] == "136****5678" and referral["project_id"] == a
    again = api.post(f"{URL}/broker/leads/{lead['id']}/referral", headers=headers)
    assert again.status_code == 200 and again.json()["id"] == referral["id"]
    [shown] = api.get(f"{URL}/broker/leads", headers=headers).json()
    assert shown["referral_id"] == referral["id"] and shown["referral_state"] == referral["state"]
    assert len(audit_rows(db, "channel.referral_submit")) == 1

    # broker_b1's lead of the same number: the engine refuses it as for any referral.
    other = signed_in(api, "broker_b1")
    [theirs] = api.get(f"{URL}/broker/leads", headers=other).json()
    refused = api.post(f"{URL}/broker/leads/{theirs['id']}/referral", headers=other)
    assert refused.status_code == 201 and refused.json()["state"] == "invalid"
    assert refused.json()["reason_code"] == "in_protection"  # broker_a1 holds the window
    assert refused.json()["reason"]

    # A project closed to agency A: refused before anything is stored (403).
    closed = api.put(f"{URL}/projects/{a}/cooperation", headers=signed_in(api, "cm_a"),
                     json={"agency_ids": [cw.agencies["B"].id]})
    assert closed.status_code == 200, closed.text
    _lead(api, _token(api, "broker_a1", a), _visitor(), phone="13612340000")
    [newest, _] = api.get(f"{URL}/broker/leads", headers=headers).json()
    blocked = api.post(f"{URL}/broker/leads/{newest['id']}/referral", headers=headers)
    assert blocked.status_code == 403 and problem(blocked)["code"] == "project_closed_to_agency"


def test_who_sees_which_leads(api: TestClient, cw: ChannelWorld) -> None:
    a, b = cw.project("site-a"), cw.project("site-b")
    _lead(api, _token(api, "broker_a1", a), _visitor())
    _lead(api, _token(api, "broker_b1", b), _visitor(), phone="13612349999")

    def ids(who: str, **query: Any) -> list[int]:
        found = api.get(f"{URL}/leads", headers=signed_in(api, who), params=query)
        assert found.status_code == 200, found.text
        return [lead["project_id"] for lead in found.json()]

    assert ids("broker_a1") == [a]
    assert ids("broker_a2") == []  # a colleague's leads are not theirs
    assert ids("agency_a") == [a]  # the agency's, not agency B's
    assert ids("broker_b1") == [b]
    assert ids("cm_a") == [a] and ids("cm_b") == [b]
    assert ids("hqadmin") == [b, a]
    assert ids("hqadmin", project_id=a) == [a]
    assert ids("hqadmin", converted="true") == []
    assert api.get(f"{URL}/broker/leads", headers=signed_in(api, "broker_a2")).json() == []
    [own] = api.get(f"{URL}/broker/leads", headers=signed_in(api, "broker_a1")).json()
    stolen = api.post(f"{URL}/broker/leads/{own['id']}/referral",
                      headers=signed_in(api, "broker_a2"))
    assert stolen.status_code == 404 and problem(stolen)["code"] == "lead_not_found"
    assert api.get(f"{URL}/leads", headers=signed_in(api, "consult_a")).status_code == 403


def test_a_campaign_share_shows_only_public_parts_and_ends_with_the_campaign(
    api: TestClient, cw: ChannelWorld, db: Session
) -> None:
    a, b = cw.project("site-a"), cw.project("site-b")
    now = utcnow()
    campaign = Campaign(title="周末团购", requirements="带看 3 组", rewards="每组 500 元",
                        announcement="周六开放样板间", starts_at=now,
                        ends_at=now + timedelta(days=3), status="published",
                        published_at=now, created_by=cw.brokers["broker_a1"].user_id)
    db.add(campaign)
    db.flush()
    db.add_all([CampaignProject(campaign_id=campaign.id or 0, project_id=p) for p in (a, b)])
    db.commit()
    made = api.post(f"{URL}/broker/shares", headers=signed_in(api, "broker_a1"),
                    json={"kind": "campaign", "campaign_id": campaign.id})
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    page = api.get(f"{URL}/public/shares/{token}").json()
    assert page["campaign"]["announcement"] == "周六开放样板间"
    assert "rewards" not in page["campaign"] and "requirements" not in page["campaign"]
    assert [p["id"] for p in page["projects"]] == [a, b]
    # Two projects: the visitor must pick one of them.
    unpicked = _lead(api, token, _visitor())
    assert unpicked.status_code == 422 and problem(unpicked)["code"] == "lead_project_invalid"
    assert _lead(api, token, _visitor(), project_id=b).status_code == 201

    campaign.status = "ended"
    db.add(campaign)
    db.commit()
    ended = api.get(f"{URL}/public/shares/{token}")
    assert ended.status_code == 410 and problem(ended)["code"] == "share_target_ended"
    assert _share(api, "broker_a1", 999_999).status_code == 404
    assert api.post(f"{URL}/broker/shares", headers=signed_in(api, "broker_a1"),
                    json={"kind": "project", "campaign_id": 1}).status_code == 422


def test_the_lead_timeline_of_a_customer(
    api: TestClient, cw: ChannelWorld, db: Session
) -> None:
    site = cw.sales["site-a"]
    token = _token(api, "broker_a1", site.project_id)
    visitor = _visitor()
    assert _event(api, token, visitor, "open").status_code == 204
    assert _event(api, token, visitor, "view", "layouts", 30).status_code == 204
    assert _lead(api, token, visitor, phone=PHONE_A).status_code == 201
    headers = signed_in(api, "broker_a1")
    [lead] = api.get(f"{URL}/broker/leads", headers=headers).json()
    converted = api.post(f"{URL}/broker/leads/{lead['id']}/referral", headers=headers)
    assert converted.status_code == 201, converted.text
    # A lead of another number, and a stranger's views: not this customer's.
    stranger = _visitor()
    _event(api, token, stranger, "open")
    _lead(api, token, stranger, phone=NEW_PHONE)
    assert post(api, signed_in(api, "consult_a"), body(site)).status_code == 201
    audit_service.record(db, action="customer.update", actor="manager_a",
                         object_type="customer", object_id=str(site.customer_id),
                         detail={"fields": ["name"]})
    audit_service.record(db, action="customer.unmask", actor="manager_a",
                         object_type="customer", object_id=str(site.customer_id),
                         detail={"field": "phone"})
    db.commit()

    answer = api.get(f"/api/v1/customers/{site.customer_id}/lead-timeline",
                     headers=signed_in(api, "consult_a"))
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    kinds = [i["kind"] for i in items]
    assert sorted(set(kinds)) == sorted({"share_open", "page_view", "lead_created",
                                         "profile_change", "referral", "visit", "follow_up"})
    assert kinds.count("share_open") == 1  # the stranger's open is not theirs
    assert kinds.count("lead_created") == 1 and kinds.count("profile_change") == 1
    times = [i["at"] for i in items]
    assert times == sorted(times, reverse=True)
    # The lead's story, newest first: referral, lead, the view, the open.
    mine = [k for k in kinds if k in ("referral", "lead_created", "page_view", "share_open")]
    assert mine == ["referral", "lead_created", "page_view", "share_open"]
    view = next(i for i in items if i["kind"] == "page_view")
    assert "户型" in view["summary"] and "30 秒" in view["summary"]
    change = next(i for i in items if i["kind"] == "profile_change")
    assert change["summary"] == "修改客户资料（姓名）" and change["actor"] == "manager_a"
    referral = next(i for i in items if i["kind"] == "referral")
    assert "broker_a1" in referral["actor"] or "渠道A" in referral["actor"]
    assert "报备" in referral["summary"]
    assert all(len(i["local_time"]) == 16 for i in items)

    hidden = api.get(f"/api/v1/customers/{site.customer_id}/lead-timeline",
                     headers=signed_in(api, "consult_b"))
    assert hidden.status_code == 404
    assert api.get(f"/api/v1/customers/{site.customer_id}/lead-timeline",
                   headers=signed_in(api, "broker_a1")).status_code == 403


def test_an_erasure_blanks_the_subjects_leads(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings
) -> None:
    token = _token(api, "broker_a1", cw.project("site-a"))
    _lead(api, token, _visitor(), phone=NEW_PHONE)
    _lead(api, token, _visitor(), phone="13612340000")
    make_user(db, "privacy", roles=["privacy_officer"], scope_all=True)
    officer = signed_in(api, "privacy")
    opened = api.post("/api/v1/privacy/requests", headers=officer, json={
        "kind": "deletion", "phone": NEW_PHONE, "channel": "onsite", "detail": "本人要求"})
    assert opened.status_code == 201, opened.text
    erased = api.post(f"/api/v1/privacy/requests/{opened.json()['id']}/erase",
                      headers=officer)
    assert erased.status_code == 200, erased.text

    db.rollback()
    subject, other = db.exec(select(Lead).order_by(col(Lead.id))).all()
    assert subject.phone_masked == "已删除" and subject.phone_bidx.startswith("erased:")
    assert settings.cipher.decrypt(subject.phone_enc, context=LEAD_PHONE_CONTEXT) == ""
    assert settings.cipher.decrypt(subject.name_enc, context=LEAD_NAME_CONTEXT) == ""
    assert other.phone_bidx == settings.blind_index.phone("13612340000")
    [row] = audit_rows(db, "privacy.erase")
    assert row.detail["leads"] == 1


def test_the_share_page_carries_a_card_for_wechat(api: TestClient, cw: ChannelWorld,
                                                  db: Session) -> None:
    a = cw.project("site-a")
    db.add(ProjectProfile(project_id=a, district="滨江区", price_min_yuan=3_000_000,
                          price_max_yuan=5_000_000, layouts=["三室两厅", "四室两厅"],
                          cooperation="不公开的佣金条款"))
    db.commit()
    token = _token(api, "broker_a1", a)
    page = api.get(f"{URL}/public/shares/{token}").json()
    card = page["card"]
    project = page["project"]
    assert card["title"] == f"{project['name']}｜滨江区"
    assert card["desc"] == f"{page['broker_name']}为您推荐 · 总价 300–500 万 · 三室两厅、四室两厅"
    assert "佣金" not in card["desc"]
    assert card["image_url"].endswith(f"/api/v1/channel/public/shares/{token}/card.png")
    picture = api.get(card["image_url"])
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(picture.content)).convert("RGB")
    assert image.size == (300, 300)
    assert len(image.getcolors(1 << 16) or []) > 2  # the name drawn, not a bare square
    forged = api.get(f"{URL}/public/shares/{token[:-2]}xx/card.png")
    assert forged.status_code in (403, 404, 410, 422)
