"""What keeps a referral cheap under load (issue #21's benchmark): the statements it
sends, the rows it reads, and which submissions wait for each other.

A full number is one person: other full numbers sharing its first seven digits (a busy
号段 holds thousands) are neither read nor waited for; only the masked referrals it may
complete are. The audit chain's lock is taken as the transaction commits, not when the
audit row is recorded, so a slow request does not hold every other audited write."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.audit.chain import verify_chain
from cloud.catalog import service as catalog_service
from cloud.channel import cooperation, history, referrals, risk_policy, rules
from cloud.channel.errors import ProjectClosedToAgency
from cloud.channel.models import Referral
from cloud.identity.deps import Principal
from cloud.identity.models import User
from cloud.identity.permissions import permissions_of
from cloud.main import create_app
from cloud.migrate import upgrade
from cloud.settings import CloudSettings
from shared.timeutil import iso, utcnow
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld, add_agency, add_broker, refer
from tests.cloud.query_count import cache_serving, statements
from tests.conftest import make_settings

# A warm broker's referral of a number nobody knows: the broker with their agency, the
# project, its cooperation and the stamps of its rules and risk policy (one statement,
# cloud.channel.referral_context); the locks (one); the idempotency key with the live
# count (one); the candidate referrals and customer; the insert; the referral's down-feed
# item (the site's link locked, the broker's masked label, the item's insert: ADR 0058);
# the audit append (the lock, then the row chained in its insert: ADR 0063). The rule
# versions and the risk policy come from the process's cache while their stamps hold
# (cloud.channel.project_config). The referral-stage risk checks run later in a job
# unless set to block (ADR 0049): a blocking look-up check adds its search.
REFERRAL_STATEMENTS = 11
BLOCKING_LOOKUP = 1


@pytest.fixture
def client(settings: CloudSettings, cw: ChannelWorld) -> Iterator[TestClient]:
    roomy = settings.model_copy(update={"login_ip_limit": 1000, "referral_limit": 1000})
    with TestClient(create_app(roomy)) as client:
        yield client


def test_a_referral_sends_a_fixed_number_of_statements(
    client: TestClient, cw: ChannelWorld
) -> None:
    cache_serving(client.app)
    headers = signed_in(client, "broker_a1")
    project = cw.project("site-a")
    assert refer(client, headers, project, "13700000000").status_code == 201
    # Fifty other people of the same 号段 referred already: nothing more to read.
    for i in range(1, 51):
        assert refer(client, headers, project, f"1370000{i:04d}").status_code == 201
    with statements(client.app.state.engine) as sent:  # type: ignore[attr-defined]
        answer = refer(client, headers, project, "13700009999")
    assert answer.status_code == 201, answer.text
    assert answer.json()["state"] == "confirmed"
    assert len(sent) == REFERRAL_STATEMENTS, "\n".join(sent)
    assert not any(s.lstrip().startswith("UPDATE") for s in sent), "inserted once, decided"


def test_cached_rules_and_risk_policy_follow_changes_committed_elsewhere(
    client: TestClient, cw: ChannelWorld, engine: Engine, settings: CloudSettings
) -> None:
    """Nothing tells this process of a change another one commits: the stamps read with
    the broker must, on the very next referral."""
    cache_serving(client.app)
    headers = signed_in(client, "broker_a1")
    project = cw.project("site-a")
    looked_up = ("13700005001", "13700005002")
    with Session(engine) as elsewhere:
        for phone in looked_up:
            audit_service.record(elsewhere, action="customer.lookup", actor="kiosk:site-a",
                                 object_type="customer", object_id="",
                                 detail={"project_id": project,
                                         "phone_bidx": settings.blind_index.phone(phone),
                                         "looked_up_at": iso(utcnow() - timedelta(hours=1))})
        elsewhere.commit()
    first = refer(client, headers, project, looked_up[0]).json()
    assert (first["rule_version"], first["state"]) == (1, "confirmed")  # a review case, later
    # Any existing account will do for the rows' authorship.
    manager = Principal(user_id=cw.brokers["agency_a"].user_id, username="elsewhere",
                        display_name="elsewhere", roles=frozenset({"channel_manager"}),
                        permissions=frozenset(), site_ids=None, ip=None)
    with Session(engine) as elsewhere:
        rules.publish(elsewhere, principal=manager, project_id=project,
                      parameters={"phone_policy": "first7"}, effective_from=None)
        risk_policy.update(elsewhere, principal=manager, project_id=project,
                           appeal_deadline_days=None,
                           checks={"searched_before_referral": {"action": "block"}})
        elsewhere.commit()
    with statements(client.app.state.engine) as sent:  # type: ignore[attr-defined]
        plain = refer(client, headers, project, "13700005003").json()
    assert plain["rule_version"] == 2  # the defaults were stored as v1 at the first
    # The changed rows were read once (two statements) …
    assert len(sent) == REFERRAL_STATEMENTS + BLOCKING_LOOKUP + 2, "\n".join(sent)
    blocked = refer(client, headers, project, looked_up[1]).json()
    assert (blocked["state"], blocked["reason_code"]) == ("invalid", "risk_blocked")
    # … then served from the cache again.
    with statements(client.app.state.engine) as sent:  # type: ignore[attr-defined]
        assert refer(client, headers, project, "13700005004").status_code == 201
    assert len(sent) == REFERRAL_STATEMENTS + BLOCKING_LOOKUP, "\n".join(sent)


def test_a_full_number_reads_its_own_referrals_and_the_masks_it_completes(
    client: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings
) -> None:
    project = cw.project("site-a")
    client.post(f"/api/v1/channel/projects/{project}/rules",
                headers=signed_in(client, "cm_a"), json={"rules": {"phone_policy": "first7"}})
    a1, b1 = signed_in(client, "broker_a1"), signed_in(client, "broker_b1")
    assert refer(client, a1, project, "13712340001").status_code == 201
    assert refer(client, a1, project, "13712340002").status_code == 201
    masked = refer(client, b1, project, "1371234****")
    assert masked.status_code == 201, masked.text
    number = history.number_of(settings, "13712340001")
    [person] = history.gather(db, settings=settings, project_id=project, number=number)
    phones = sorted(r.phone_masked for r in person.referrals)
    assert phones == ["137****0001", "1371234****"]  # not 137****0002


def _try_lock(engine: Engine, keys: list[history.LockKey]) -> bool:
    """Whether another transaction gets `keys` within 200 ms."""
    with Session(engine) as other:
        other.execute(text("SET LOCAL lock_timeout = '200ms'"))
        try:
            history.lock(other, *keys)
        except OperationalError:
            return False
        finally:
            other.rollback()
        return True


def test_numbers_of_one_prefix_do_not_wait_for_each_other_but_a_mask_waits(
    engine: Engine, settings: CloudSettings, cw: ChannelWorld
) -> None:
    project = cw.project("site-a")
    keys = {raw: history.lock_keys(project, history.number_of(settings, raw))
            for raw in ("13712340001", "13712340002", "1371234****", "137****0001")}
    with Session(engine) as holder:
        history.lock(holder, *keys["13712340001"])
        assert _try_lock(engine, keys["13712340002"])  # another person
        assert not _try_lock(engine, keys["13712340001"])  # the same person
        assert not _try_lock(engine, keys["1371234****"])  # may be the same person
        assert not _try_lock(engine, keys["137****0001"])
        holder.rollback()
    assert _try_lock(engine, keys["1371234****"])


def test_the_audit_chain_is_locked_only_as_the_transaction_commits(
    engine: Engine, db: Session
) -> None:
    audit_service.record(db, action="customer.unmask", actor="slow.request",
                         object_type="customer", object_id="1")
    # The slow request has not committed: another audited write goes through meanwhile.
    with Session(engine) as other:
        other.execute(text("SET LOCAL lock_timeout = '200ms'"))
        audit_service.record(other, action="user.create", actor="cli")
        other.commit()
    db.commit()
    with Session(engine) as reader:
        actions = reader.exec(text("SELECT action FROM audit_log ORDER BY id")).all()
    assert [a for (a,) in actions][-2:] == ["user.create", "customer.unmask"]
    assert verify_chain(db, keys={}).ok


def test_a_rolled_back_transaction_leaves_no_audit_row(engine: Engine, db: Session) -> None:
    audit_service.record(db, action="customer.unmask", actor="someone",
                         object_type="customer", object_id="2")
    db.rollback()
    audit_service.record(db, action="user.create", actor="cli")
    db.commit()
    with Session(engine) as reader:
        actions = [a for (a,) in reader.exec(text("SELECT action FROM audit_log")).all()]
    assert "customer.unmask" not in actions and "user.create" in actions


def test_a_rolled_back_savepoint_takes_its_audit_row_with_it(
    engine: Engine, db: Session
) -> None:
    audit_service.record(db, action="user.create", actor="kept")
    savepoint = db.begin_nested()
    audit_service.record(db, action="customer.unmask", actor="dropped")
    savepoint.rollback()
    db.commit()
    with Session(engine) as reader:
        actors = [a for (a,) in reader.exec(text("SELECT actor FROM audit_log")).all()]
    assert "kept" in actors and "dropped" not in actors
    assert verify_chain(db, keys={}).ok


def test_on_sqlite_the_context_is_read_without_stamps_and_a_publication_shows_at_once(
    tmp_path: Path,
) -> None:
    """The demo's database has no row versions: nothing is cached, the rules still hold."""
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    upgrade(url)
    settings = make_settings(url)
    lite = create_engine(url)
    with Session(lite, expire_on_commit=False) as session:
        catalog_service.create_site(session, principal=None, site_id="site-a", name="A",
                                    actor="test")
        project = catalog_service.create_project(session, principal=None, site_id="site-a",
                                                 name="项目", actor="test")
        owner = User(username="cm", password_hash="-", display_name="cm")
        session.add(owner)
        session.commit()
        assert owner.id is not None and project.id is not None
        agency = add_agency(session, "渠道", created_by=owner.id)
        broker = add_broker(session, settings, "broker", agency=agency)
        me = Principal(user_id=broker.user_id, username="broker", display_name="broker",
                       roles=frozenset({"broker"}), permissions=permissions_of({"broker"}),
                       site_ids=frozenset(), ip=None)

        def submit(phone: str) -> Referral:
            done = referrals.submit(session, principal=me, settings=settings, broker=broker,
                                    data=referrals.Submission(
                                        project_id=project.id or 0, phone=phone, name="张伟",
                                        customer_group="individual", idempotency_key=None))
            session.commit()
            return done.referral

        first, again = submit("13700000001"), submit("13700000001")
        assert (first.state, again.reason_code) == ("confirmed", "already_referred_by_you")
        rules.publish(session, principal=me, project_id=project.id,
                      parameters={"phone_policy": "first7"}, effective_from=None)
        session.commit()
        assert submit("13700000002").rule_version == 2
        other = add_agency(session, "别家渠道", created_by=owner.id)
        cooperation.replace(session, principal=me, project_id=project.id,
                            agency_ids=[other.id or 0])
        session.commit()
        with pytest.raises(ProjectClosedToAgency):
            submit("13700000003")
    lite.dispose()
