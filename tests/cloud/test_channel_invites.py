"""Personal invites (全民营销): a broker's code, link and poster; signing up through it
makes an individual referrer linked to the inviter."""

from __future__ import annotations

import io

import segno
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from sqlmodel import Session, select

from cloud.channel.models import Broker
from cloud.channel.signin import poster as poster_module
from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld, add_broker
from tests.conftest import signin_settings
from tests.fakes.aliyun_sms import FakeAliyunSms
from tests.fakes.wechat import FakeWeChat


def _join(client: TestClient, sms: FakeAliyunSms, phone: str, invite: str) -> dict[str, object]:
    assert client.post("/api/v1/channel/auth/sms/send", json={"phone": phone}).status_code \
        == 202
    answer = client.post("/api/v1/channel/auth/sms/login", json={
        "phone": phone, "code": sms.last_code(phone), "invite_code": invite})
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_a_broker_invites_friends_who_join_as_referrers(
        signin: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
        fake_sms: tuple[FakeAliyunSms, str]) -> None:
    me = signed_in(signin, "broker_a1")
    first = signin.get("/api/v1/channel/invites/mine", headers=me)
    assert first.status_code == 200, first.text
    code = first.json()["code"]
    assert first.json()["link"] == f"https://h5.example.cn/h5/#/join?invite={code}"
    assert first.json()["invited_count"] == 0
    assert code != cw.agencies["A"].invite_code
    # The code stays the broker's.
    assert signin.get("/api/v1/channel/invites/mine", headers=me).json()["code"] == code

    _join(signin, fake_sms[0], "13677778888", code)
    db.expire_all()
    friend = db.exec(select(Broker).where(
        Broker.phone_bidx == settings.blind_index.phone("13677778888"))).one()
    assert (friend.kind, friend.agency_id, friend.status, friend.invited_by) == (
        "referrer", None, "pending", cw.brokers["broker_a1"].id)
    mine = signin.get("/api/v1/channel/invites/mine", headers=me).json()
    assert mine["invited_count"] == 1
    assert mine["invited"][0]["display_name"] == "136****8888"

    poster = signin.get("/api/v1/channel/invites/mine/poster.png", headers=me)
    assert poster.status_code == 200
    assert poster.headers["content-type"] == "image/png"
    assert poster.content.startswith(b"\x89PNG\r\n\x1a\n")
    # The poster holds the QR of exactly this link (segno renders deterministically) under
    # a caption in red.
    expected = io.BytesIO()
    segno.make(mine["link"], error="m").save(expected, kind="png", scale=10, border=6,
                                             dark="#8b1a1a", light="#fffaf0")
    top = qr_top(poster.content, expected.getvalue())
    assert top > 100
    image = Image.open(io.BytesIO(poster.content)).convert("RGB")
    caption = image.crop((0, 0, image.width, top))
    assert any(colour == (0x8b, 0x1a, 0x1a) for _, colour in caption.getcolors(1 << 20) or [])
    other = signin.get("/api/v1/channel/invites/mine/poster.png",
                       headers=signed_in(signin, "broker_b1"))
    assert other.content != poster.content
    named = signin.get(f"/api/v1/channel/invites/mine/poster.png?project_id={cw.project('site-a')}",
                       headers=me)
    assert named.status_code == 200
    assert Image.open(io.BytesIO(named.content)).height > image.height  # one line more
    unknown = signin.get("/api/v1/channel/invites/mine/poster.png?project_id=999999",
                         headers=me)
    assert unknown.status_code == 404 and unknown.json()["code"] == "project_not_found"


def qr_top(poster: bytes, qr: bytes) -> int:
    """Where the QR code sits in the poster (centred), found by its exact pixels."""
    image = Image.open(io.BytesIO(poster)).convert("RGB")
    code = Image.open(io.BytesIO(qr)).convert("RGB")
    left = (image.width - code.width) // 2
    wanted = code.tobytes()
    for top in range(image.height - code.height + 1):
        if image.crop((left, top, left + code.width, top + code.height)).tobytes() == wanted:
            return top
    raise AssertionError("the QR code is not on the poster")


def test_the_caption_is_drawn_in_a_cjk_font_or_left_out() -> None:
    """Chinese characters come out as their glyphs, not the font's empty box; without a
    CJK font the poster is the QR code alone."""
    font_file = poster_module.found_font()
    assert font_file is not None, "fonts-noto-cjk is a system dependency"
    font = poster_module.cjk_font(font_file, 30)
    assert (font.getname()[0] or "").endswith("SC")

    def drawn(text: str) -> bytes:
        canvas = Image.new("L", (40, 40))
        ImageDraw.Draw(canvas).text((2, 2), text, font=font, fill=255)
        return canvas.tobytes()

    assert len({drawn("张"), drawn("三"), drawn("\ue000")}) == 3  # U+E000: no glyph, a box
    link = "https://h5.example.cn/h5/#/join?invite=ABCD2345"
    caption = poster_module.Caption("张三", "一号渠道", None, "ABCD2345")
    qr_only = io.BytesIO()
    segno.make(link, error="m").save(qr_only, kind="png", scale=10, border=6,
                                     dark="#8b1a1a", light="#fffaf0")
    assert poster_module.poster(link, caption, "/nonexistent.ttf") != qr_only.getvalue()
    bare = poster_module.CJK_FONTS
    try:
        poster_module.CJK_FONTS = ()
        assert poster_module.poster(link, caption) == qr_only.getvalue()
    finally:
        poster_module.CJK_FONTS = bare


def test_pending_brokers_have_no_invite_and_a_frozen_inviters_code_is_dead(
        signin: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
        fake_sms: tuple[FakeAliyunSms, str]) -> None:
    add_broker(db, settings, "waiting", agency=cw.agencies["A"], status="pending",
               phone="13600000001")
    refused = signin.get("/api/v1/channel/invites/mine", headers=signed_in(signin, "waiting"))
    assert refused.status_code == 403 and refused.json()["code"] == "broker_not_registered"

    code = signin.get("/api/v1/channel/invites/mine",
                      headers=signed_in(signin, "broker_b1")).json()["code"]
    inviter = db.get(Broker, cw.brokers["broker_b1"].id)
    assert inviter is not None
    inviter.status = "frozen"
    db.add(inviter)
    db.commit()
    sms = fake_sms[0]
    signin.post("/api/v1/channel/auth/sms/send", json={"phone": "13677770000"})
    dead = signin.post("/api/v1/channel/auth/sms/login", json={
        "phone": "13677770000", "code": sms.last_code("13677770000"), "invite_code": code})
    assert dead.status_code == 422 and dead.json()["code"] == "invite_code_invalid"


def test_referrers_may_start_active_when_the_operator_says_so(
        settings: CloudSettings, cw: ChannelWorld, db: Session,
        fake_wechat: tuple[FakeWeChat, str], fake_sms: tuple[FakeAliyunSms, str]) -> None:
    eager = signin_settings(settings, fake_wechat[1], fake_sms[1], referrer_auto_approve=True)
    with TestClient(create_app(eager)) as client:
        code = client.get("/api/v1/channel/invites/mine",
                          headers=signed_in(client, "referrer")).json()["code"]
        token = _join(client, fake_sms[0], "13655554444", code)["access_token"]
        db.expire_all()
        friend = db.exec(select(Broker).where(
            Broker.phone_bidx == settings.blind_index.phone("13655554444"))).one()
        assert friend.status == "active"
        # An active referrer has an invite of their own at once, and may refer.
        own = client.get("/api/v1/channel/invites/mine",
                         headers={"Authorization": f"Bearer {token}"})
        assert own.status_code == 200 and own.json()["code"] != code
