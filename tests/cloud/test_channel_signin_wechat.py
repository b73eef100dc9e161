"""Broker sign-in with WeChat (web authorisation and mini-program) against the local fake
WeChat over HTTP: the whole redirect dance, binding a phone, replays and WeChat's errors."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session, select

from cloud.channel.models import Broker
from cloud.channel.signin.models import OPENID_CONTEXT, WeChatIdentity
from cloud.channel.signin.store import RedisStore
from cloud.channel.signin.tokens import Tokens
from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud.channel_world import ChannelWorld, add_broker
from tests.conftest import WX_MINI, WX_WEB, signin_settings
from tests.fakes.aliyun_sms import FakeAliyunSms
from tests.fakes.wechat import FakeWeChat, Person

PHONE = "13811112222"
ALICE = Person(openid="o-alice-web", unionid="u-alice", nickname="小艾")


def authorised(client: TestClient, fake: FakeWeChat, person: Person,
               **query: str) -> tuple[str, str]:
    """Go to WeChat through our redirect, consent as `person`; the code and state WeChat
    hands back to the H5."""
    start = client.get("/api/v1/channel/auth/wechat/authorize", params=query,
                       follow_redirects=False)
    assert start.status_code == 302, start.text
    target = start.headers["location"]
    assert target.endswith("#wechat_redirect")
    fake.person = person
    back = httpx.get(target.split("#")[0], follow_redirects=False)
    assert back.status_code == 302, back.text
    landing = urlsplit(back.headers["location"])
    assert f"{landing.scheme}://{landing.netloc}{landing.path}" == "https://h5.example.cn/h5/"
    found = parse_qs(landing.query)
    return found["code"][0], found["state"][0]


def wx_login(client: TestClient, code: str, state: str) -> httpx.Response:
    response: httpx.Response = client.post("/api/v1/channel/auth/wechat/login",
                                           json={"code": code, "state": state})
    return response


def bind(client: TestClient, sms: FakeAliyunSms, ticket: str, phone: str) -> httpx.Response:
    assert client.post("/api/v1/channel/auth/sms/send", json={"phone": phone}).status_code \
        == 202
    response: httpx.Response = client.post("/api/v1/channel/auth/wechat/bind", json={
        "ticket": ticket, "phone": phone, "sms_code": sms.last_code(phone)})
    return response


def test_first_wechat_sign_in_binds_a_phone_then_signs_in_directly(
        signin: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
        fake_wechat: tuple[FakeWeChat, str], fake_sms: tuple[FakeAliyunSms, str]) -> None:
    fake, sms = fake_wechat[0], fake_sms[0]
    code, state = authorised(signin, fake, ALICE, invite_code=cw.agencies["A"].invite_code,
                             next="/refer")
    first = wx_login(signin, code, state)
    assert first.status_code == 409, first.text
    assert first.json()["code"] == "wechat_phone_required"
    ticket = first.json()["ticket"]

    bound = bind(signin, sms, ticket, PHONE)
    assert bound.status_code == 200, bound.text
    assert bound.json()["next"] == "/refer"
    assert bound.json()["user"]["display_name"] == "小艾"
    db.expire_all()
    broker = db.exec(select(Broker).where(
        Broker.phone_bidx == settings.blind_index.phone(PHONE))).one()
    assert (broker.agency_id, broker.status) == (cw.agencies["A"].id, "pending")
    identity = db.exec(select(WeChatIdentity).where(
        WeChatIdentity.broker_id == broker.id)).one()
    assert "o-alice-web" not in identity.openid_enc
    assert settings.cipher.decrypt(identity.openid_enc, context=OPENID_CONTEXT) \
        == "o-alice-web"

    # The ticket was spent.
    replay = signin.post("/api/v1/channel/auth/wechat/bind", json={
        "ticket": ticket, "phone": PHONE, "sms_code": "000000"})
    assert replay.status_code == 422 and replay.json()["code"] == "wechat_ticket_invalid"

    # Next time WeChat alone signs in, as the same account, on a second device too.
    tokens = []
    for _ in range(2):
        again = wx_login(signin, *authorised(signin, fake, ALICE))
        assert again.status_code == 200, again.text
        assert again.json()["user"]["id"] == broker.user_id
        tokens.append(again.json()["access_token"])
    for token in tokens:  # both devices stay signed in
        assert signin.get("/api/v1/auth/me",
                          headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_the_mini_program_finds_the_same_person_by_unionid(
        signin: TestClient, cw: ChannelWorld, db: Session,
        fake_wechat: tuple[FakeWeChat, str], fake_sms: tuple[FakeAliyunSms, str]) -> None:
    fake = fake_wechat[0]
    first = wx_login(signin, *authorised(signin, fake, ALICE,
                                         invite_code=cw.agencies["A"].invite_code))
    assert bind(signin, fake_sms[0], first.json()["ticket"], PHONE).status_code == 200
    # The mini-program's openid differs (openids are per app); the unionid is the person's.
    mini = Person(openid="o-alice-mini", unionid="u-alice")
    answer = signin.post("/api/v1/channel/auth/miniprogram/login",
                         json={"js_code": fake.code_for(WX_MINI, mini)})
    assert answer.status_code == 200, answer.text
    db.expire_all()
    apps = sorted(i.app for i in db.exec(select(WeChatIdentity)).all())
    assert apps == ["mini", "web"]
    # A stranger in the mini-program must bind a phone first.
    stranger = signin.post("/api/v1/channel/auth/miniprogram/login",
                           json={"js_code": fake.code_for(WX_MINI, Person("o-bob"))})
    assert stranger.status_code == 409 and stranger.json()["ticket"]


def test_a_second_wechat_binds_to_the_broker_who_holds_the_number(
        signin: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
        fake_wechat: tuple[FakeWeChat, str], fake_sms: tuple[FakeAliyunSms, str]) -> None:
    existing = add_broker(db, settings, "wx_existing", agency=cw.agencies["B"], phone=PHONE)
    first = wx_login(signin, *authorised(signin, fake_wechat[0], Person("o-carol")))
    bound = bind(signin, fake_sms[0], first.json()["ticket"], PHONE)
    assert bound.status_code == 200, bound.text
    assert bound.json()["user"]["username"] == "wx_existing"
    db.expire_all()
    assert db.exec(select(WeChatIdentity)).one().broker_id == existing.id


def test_without_an_invite_a_new_wechat_user_cannot_sign_up(
        signin: TestClient, fake_wechat: tuple[FakeWeChat, str],
        fake_sms: tuple[FakeAliyunSms, str]) -> None:
    first = wx_login(signin, *authorised(signin, fake_wechat[0], Person("o-dave")))
    refused = bind(signin, fake_sms[0], first.json()["ticket"], PHONE)
    assert refused.status_code == 403 and refused.json()["code"] == "broker_invite_required"


def test_a_state_is_used_once_and_cannot_be_forged_or_outlive_its_time(
        signin: TestClient, settings: CloudSettings, fake_wechat: tuple[FakeWeChat, str],
        fake_sms: tuple[FakeAliyunSms, str]) -> None:
    fake = fake_wechat[0]
    code, state = authorised(signin, fake, ALICE)
    assert wx_login(signin, code, state).status_code == 409
    code2 = fake.code_for(WX_WEB, ALICE)
    replay = wx_login(signin, code2, state)
    assert replay.status_code == 422 and replay.json()["code"] == "wechat_state_invalid"
    forged = wx_login(signin, code2, state[:24] + "0" * 32)
    assert forged.json()["code"] == "wechat_state_invalid"
    assert settings.redis_url is not None
    store = RedisStore(settings.redis_url, settings.redis_prefix)
    tokens = Tokens(settings, store)
    expired = tokens.state({"inv": None, "next": None})
    store.client.pexpire(f"{store.prefix}state:{expired[:24]}", 1)
    time.sleep(0.05)
    assert wx_login(signin, code2, expired).json()["code"] == "wechat_state_invalid"
    # A ticket is no state.
    ticket = tokens.ticket({"inv": None, "next": None})
    assert wx_login(signin, code2, ticket).json()["code"] == "wechat_state_invalid"
    # The fresh code was never spent by the refusals above.
    assert fake.codes[code2].used is False


def test_wechat_errors_answer_clearly(
        signin: TestClient, settings: CloudSettings, cw: ChannelWorld,
        fake_wechat: tuple[FakeWeChat, str], fake_sms: tuple[FakeAliyunSms, str]) -> None:
    fake = fake_wechat[0]
    _, state = authorised(signin, fake, ALICE)
    invalid = wx_login(signin, "not-a-code", state)
    assert invalid.status_code == 422 and invalid.json()["code"] == "wechat_code_invalid"
    assert invalid.json()["errcode"] == 40029
    used = fake.code_for(WX_WEB, ALICE)
    fake.codes[used].used = True
    _, state = authorised(signin, fake, ALICE)
    assert wx_login(signin, used, state).json()["errcode"] == 40163
    old = fake.code_for(WX_WEB, ALICE, age=301)
    _, state = authorised(signin, fake, ALICE)
    assert wx_login(signin, old, state).json()["code"] == "wechat_code_invalid"
    mini = signin.post("/api/v1/channel/auth/miniprogram/login", json={"js_code": "bogus"})
    assert mini.status_code == 422 and mini.json()["errcode"] == 40029

    wrong = signin_settings(settings, fake_wechat[1], fake_sms[1],
                            wechat_secret=SecretStr("not-the-secret"))
    with TestClient(create_app(wrong)) as client:
        code, state = authorised(client, fake, ALICE)
        answer = wx_login(client, code, state)
        assert answer.status_code == 503 and answer.json()["code"] == "wechat_unavailable"
        assert "not-the-secret" not in answer.text


def test_wechat_off_and_foreign_next_are_refused(
        signin: TestClient, settings: CloudSettings, cw: ChannelWorld) -> None:
    for bad in ("//evil.example.com/", "https://evil.example.com/", "/ok\\..\\x"):
        answer = signin.get("/api/v1/channel/auth/wechat/authorize", params={"next": bad},
                            follow_redirects=False)
        assert answer.status_code == 422, bad
    with TestClient(create_app(settings)) as client:
        off = client.get("/api/v1/channel/auth/wechat/authorize", follow_redirects=False)
        assert off.status_code == 503 and off.json()["code"] == "wechat_not_configured"
        mini = client.post("/api/v1/channel/auth/miniprogram/login", json={"js_code": "abc"})
        assert mini.json()["code"] == "wechat_not_configured"
