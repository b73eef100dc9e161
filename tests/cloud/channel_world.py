"""Channel fixtures for the cloud tests: agencies, brokers and their logins, on top of the
sales world (two sites, a project each, one customer each owned by a consultant)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session

from cloud.channel.models import Agency, Broker
from cloud.channel.partners import BROKER_PHONE_CONTEXT, new_invite_code
from cloud.settings import CloudSettings
from shared.phone import mask_phone
from tests.cloud import make_user


def add_agency(db: Session, name: str, *, created_by: int, status: str = "active") -> Agency:
    agency = Agency(name=name, status=status, invite_code=new_invite_code(),
                    created_by=created_by)
    db.add(agency)
    db.commit()
    return agency


def add_broker(db: Session, settings: CloudSettings, username: str, *,
               agency: Agency | None, roles: tuple[str, ...] = ("broker",),
               status: str = "active", phone: str = "13700000000") -> Broker:
    user = make_user(db, username, roles=roles)
    assert user.id is not None
    return attach_broker(db, settings, user.id, agency=agency, status=status, phone=phone)


def attach_broker(db: Session, settings: CloudSettings, user_id: int, *,
                  agency: Agency | None, status: str = "active",
                  phone: str = "13700000000") -> Broker:
    """The broker row of an existing user (what joining and approval would make)."""
    broker = Broker(
        user_id=user_id, agency_id=agency.id if agency else None,
        kind="agency" if agency else "referrer", status=status,
        phone_enc=settings.cipher.encrypt(phone, context=BROKER_PHONE_CONTEXT),
        phone_bidx=settings.blind_index.phone(phone), phone_masked=mask_phone(phone))
    db.add(broker)
    db.commit()
    return broker


@dataclass
class ChannelWorld:
    """Agency A (admin agency_a, brokers broker_a1, broker_a2), agency B (broker_b1), an
    individual referrer, the channel manager of site A (cm_a) and of site B (cm_b)."""

    sales: dict[str, Any]
    agencies: dict[str, Agency] = field(default_factory=dict)
    brokers: dict[str, Broker] = field(default_factory=dict)

    def project(self, site: str) -> int:
        project_id: int = self.sales[site].project_id
        return project_id


def build_channel_world(db: Session, settings: CloudSettings, sales: dict[str, Any]
                        ) -> ChannelWorld:
    world = ChannelWorld(sales)
    cm_a = make_user(db, "cm_a", roles=["channel_manager"], site_ids=["site-a"])
    make_user(db, "cm_b", roles=["channel_manager"], site_ids=["site-b"])
    assert cm_a.id is not None
    world.agencies = {k: add_agency(db, f"渠道{k}", created_by=cm_a.id) for k in "AB"}
    for username, agency, roles in (
        ("agency_a", "A", ("agency_admin",)), ("broker_a1", "A", ("broker",)),
        ("broker_a2", "A", ("broker",)), ("broker_b1", "B", ("broker",)),
    ):
        world.brokers[username] = add_broker(db, settings, username,
                                             agency=world.agencies[agency], roles=roles)
    world.brokers["referrer"] = add_broker(db, settings, "referrer", agency=None)
    return world


def refer(client: TestClient, headers: dict[str, str], project_id: int, phone: str, *,
          name: str = "张伟", key: str | None = None) -> httpx.Response:
    extra = {"Idempotency-Key": key} if key else {}
    response: httpx.Response = client.post(
        "/api/v1/channel/referrals", headers={**headers, **extra},
        json={"project_id": project_id, "phone": phone, "name": name})
    return response
