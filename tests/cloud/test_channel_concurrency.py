"""Fifty brokers refer one number at the same instant, each in its own transaction on the
real PostgreSQL — through the service with a session each, and through the API — and
exactly one referral is valid, every other one is told why."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.catalog.models import Project
from cloud.channel import referrals
from cloud.channel.models import Agency, Broker, Referral
from cloud.channel.partners import BROKER_PHONE_CONTEXT
from cloud.identity.models import User
from cloud.identity.permissions import permissions_of
from cloud.identity.principal import Principal
from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud import add_site, make_user, signed_in
from tests.cloud.channel_world import add_agency, add_broker, refer

BROKERS = 50
PHONE = "13612345678"


def _brokers(db: Session, settings: CloudSettings, agency: Agency) -> list[Broker]:
    users = [User(username=f"race{i}", password_hash="-", display_name=f"经纪人{i}")
             for i in range(BROKERS)]
    db.add_all(users)
    db.flush()
    brokers = [Broker(user_id=u.id or 0, agency_id=agency.id, kind="agency", status="active",
                      phone_enc=settings.cipher.encrypt(PHONE, context=BROKER_PHONE_CONTEXT),
                      phone_bidx="-", phone_masked="-") for u in users]
    db.add_all(brokers)
    db.commit()
    return brokers


def test_fifty_brokers_one_number_one_valid_referral(
    db: Session, engine: Engine, settings: CloudSettings
) -> None:
    add_site(db, "site-r")
    project = Project(site_id="site-r", name="并发项目")
    db.add(project)
    db.commit()
    owner = User(username="cm", password_hash="-", display_name="渠道经理")
    db.add(owner)
    db.commit()
    assert project.id is not None and owner.id is not None
    agency = add_agency(db, "并发渠道", created_by=owner.id)
    brokers = _brokers(db, settings, agency)
    start = threading.Barrier(BROKERS)

    def submit(broker: Broker) -> str:
        principal = Principal(user_id=broker.user_id, username="race", display_name="race",
                              roles=frozenset({"broker"}),
                              permissions=permissions_of({"broker"}), site_ids=frozenset(),
                              ip=None)
        with Session(engine, expire_on_commit=False) as session:
            start.wait()
            done = referrals.submit(session, principal=principal, settings=settings,
                                    broker=broker, data=referrals.Submission(
                                        project_id=project.id or 0, phone=PHONE, name="张伟",
                                        customer_group="individual", idempotency_key=None))
            session.commit()
            return f"{done.referral.state}:{done.referral.reason_code}"

    with ThreadPoolExecutor(max_workers=BROKERS) as pool:
        answers = Counter(pool.map(submit, brokers))

    assert answers == {"confirmed:referral_protected": 1, "invalid:in_protection": 49}
    stored = db.exec(select(Referral.state)).all()
    assert Counter(stored) == {"confirmed": 1, "invalid": 49}


def test_fifty_brokers_over_http_one_valid_referral(
    db: Session, settings: CloudSettings
) -> None:
    """The same race through the API: fifty signed-in brokers, fifty threads, one app."""
    add_site(db, "site-h")
    project = Project(site_id="site-h", name="并发项目")
    db.add(project)
    db.commit()
    creator = make_user(db, "cm_h", roles=["channel_manager"], site_ids=["site-h"])
    agency = add_agency(db, "并发渠道", created_by=creator.id or 0)
    for i in range(BROKERS):
        add_broker(db, settings, f"http{i}", agency=agency)
    # The race is what is tested, not shedding: on a busy machine fifty submissions of one
    # number queue on its lock longer than the 2 s a request waits for a connection.
    roomy = settings.model_copy(update={"login_ip_limit": 1000, "db_pool_size": 20,
                                        "db_wait_seconds": 30})
    with TestClient(create_app(roomy)) as client:
        tokens = [signed_in(client, f"http{i}") for i in range(BROKERS)]
        start = threading.Barrier(BROKERS)

        def submit(headers: dict[str, str]) -> str:
            start.wait()
            answer = refer(client, headers, project.id or 0, PHONE)
            assert answer.status_code == 201, answer.text
            return str(answer.json()["reason_code"])

        with ThreadPoolExecutor(max_workers=BROKERS) as pool:
            answers = Counter(pool.map(submit, tokens))

    assert answers == {"referral_protected": 1, "in_protection": 49}
