"""Races of sign-in on the real PostgreSQL and Redis: two first sign-ins of one number
make one broker; two right answers with one SMS code sign in once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.channel.models import Broker
from cloud.channel.signin import accounts
from cloud.channel.signin.codes import SmsCodes
from cloud.channel.signin.store import from_settings
from cloud.settings import CloudSettings
from tests.cloud.channel_world import ChannelWorld

PHONE = "13799990000"


def test_two_first_sign_ins_of_one_number_make_one_broker(
        engine: Engine, settings: CloudSettings, cw: ChannelWorld, db: Session) -> None:
    code = cw.agencies["A"].invite_code
    start = threading.Barrier(2)

    def sign_up() -> int:
        with Session(engine, expire_on_commit=False) as session:
            start.wait()
            broker = accounts.sign_up(session, settings=settings, phone=PHONE,
                                      invite_code=code, display_name=None, ip=None)
            session.commit()
            assert broker.id is not None
            return broker.id

    with ThreadPoolExecutor(2) as pool:
        ids = list(pool.map(lambda _: sign_up(), range(2)))
    assert ids[0] == ids[1]
    db.expire_all()
    assert len(db.exec(select(Broker).where(
        Broker.phone_bidx == settings.blind_index.phone(PHONE))).all()) == 1


class _Silent:
    def send_code(self, phone: str, code: str) -> None:
        self.code = code


def test_one_code_signs_in_once_however_many_ask_at_once(
        settings: CloudSettings, db: Session) -> None:
    sender = _Silent()
    codes = SmsCodes(from_settings(settings), sender, settings)
    codes.send(PHONE, "198.51.100.1")
    start = threading.Barrier(5)

    def check() -> bool:
        start.wait()
        return codes.check(PHONE, sender.code)

    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(lambda _: check(), range(5)))
    assert results.count(True) == 1
