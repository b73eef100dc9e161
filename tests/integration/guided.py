"""A broker's referral at a project, and its 扫码带看 code, made in the cloud's database
the way the channel API makes them (for the integration and browser tests)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.channel import qr, referrals, rules
from cloud.channel.models import Broker, QrScan, Referral
from cloud.identity.principal import Principal
from cloud.settings import CloudSettings
from tests.cloud import make_user
from tests.cloud.channel_world import add_agency, add_broker


@dataclass(frozen=True)
class GuidedReferral:
    referral_id: int
    broker: Broker
    principal: Principal


def _principal(user_id: int, username: str, role: str) -> Principal:
    return Principal(user_id=user_id, username=username, display_name=username,
                     roles=frozenset({role}), permissions=frozenset(), site_ids=None,
                     ip="127.0.0.1")


def guided_referral(engine: Engine, settings: CloudSettings, project_id: int, phone: str,
                    *, prefix: str = "guide") -> GuidedReferral:
    """Rules that confirm a referral at the guided visit (on site, no lead time), an
    agency with a broker, and the broker's referral of `phone` (pending)."""
    with Session(engine, expire_on_commit=False) as s:
        manager = make_user(s, f"{prefix}_cm", roles=["channel_manager"])
        assert manager.id is not None
        rules.publish(s, principal=_principal(manager.id, f"{prefix}_cm", "channel_manager"),
                      project_id=project_id,
                      parameters={"confirmation": "on_site", "lead_time": "PT0S"},
                      effective_from=None)
        s.commit()
        agency = add_agency(s, f"{prefix}渠道", created_by=manager.id)
        broker = add_broker(s, settings, f"{prefix}_broker", agency=agency)
        principal = _principal(broker.user_id, f"{prefix}_broker", "broker")
        done = referrals.submit(s, principal=principal, settings=settings, broker=broker,
                                data=referrals.Submission(
                                    project_id=project_id, phone=phone, name="陈明",
                                    customer_group="individual", idempotency_key=None))
        s.commit()
        assert done.referral.id is not None
        assert done.referral.state == "pending", done.referral.reason_code
        return GuidedReferral(done.referral.id, broker, principal)


def issue_code(engine: Engine, settings: CloudSettings, guided: GuidedReferral) -> str:
    with Session(engine) as s:
        issued = qr.issue(s, settings=settings, principal=guided.principal,
                          broker=guided.broker, referral_id=guided.referral_id)
        s.commit()
    return issued.token


def referral_state(engine: Engine, referral_id: int) -> str:
    with Session(engine) as s:
        row = s.get(Referral, referral_id)
        assert row is not None
        return row.state


def scans(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as s:
        return [(r.outcome, r.reason_code) for r in s.exec(select(QrScan).order_by(QrScan.id))]


def on_appliance(edge_db: Path, referral_id: int) -> bool:
    """The down-feed has brought the QR keys and the referral (read from the store: asking
    the kiosk would spend its look-up budget and record refusals while it waits)."""
    with sqlite3.connect(edge_db) as db:
        keys = db.execute("SELECT count(*) FROM qr_key WHERE active").fetchone()[0]
        found = db.execute("SELECT count(*) FROM referral_cache WHERE id = ? AND active",
                           (referral_id,)).fetchone()[0]
    return bool(keys and found)
