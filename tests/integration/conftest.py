"""Fixtures for sync tests: provisioned sites, a real Mosquitto with the generated ACL,
and the cloud sync consumer connected to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.catalog.models import Project
from cloud.identity import service as identity_service
from cloud.settings import CloudSettings
from cloud.sync import provision
from cloud.sync.consumer import SyncConsumer
from cloud.sync.credentials import CLOUD_MQTT_USERNAME
from cloud.sync.tls import make_ca_and_server_cert
from shared.crypto import decode_key
from tests.conftest import make_settings
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import Peer

if TYPE_CHECKING:
    from tests.chaos.stack import Stack

CLOUD_MQTT_PASSWORD = "cloud-broker-secret-for-tests"


@dataclass(frozen=True)
class ProvisionedSite:
    site_id: str
    project_id: int
    key: bytes
    key_b64: str
    mqtt_username: str
    mqtt_password: str


@pytest.fixture
def provision_site(engine: Engine, settings: CloudSettings, db: Session
                   ) -> Callable[[str], ProvisionedSite]:
    def make(site_id: str) -> ProvisionedSite:
        with Session(engine) as session:
            creds = provision.provision_site(session, settings=settings, site_id=site_id,
                                             name=f"案场 {site_id}", projects=["星河湾"])
            session.commit()
            project = session.exec(select(Project).where(Project.site_id == site_id)).one()
            assert project.id is not None
            return ProvisionedSite(site_id, project.id, decode_key(creds.site_key),
                                   creds.site_key, creds.mqtt_username, creds.mqtt_password)

    return make


@pytest.fixture
def sites(provision_site: Callable[[str], ProvisionedSite]) -> tuple[ProvisionedSite, ...]:
    return provision_site("site-a"), provision_site("site-b")


def _broker(engine: Engine, workdir: Path, tls: tuple[str, str, str] | None) -> Mosquitto:
    with Session(engine) as session:
        files = provision.broker_files_for(session, cloud_password=CLOUD_MQTT_PASSWORD)
    broker = Mosquitto(workdir, files, tls=tls)
    broker.start()
    return broker


@pytest.fixture
def broker(engine: Engine, sites: tuple[ProvisionedSite, ...], tmp_path: Path
           ) -> Iterator[Mosquitto]:
    b = _broker(engine, tmp_path / "broker", None)
    yield b
    b.stop()


@pytest.fixture
def tls_broker(engine: Engine, sites: tuple[ProvisionedSite, ...], tmp_path: Path
               ) -> Iterator[Mosquitto]:
    ca, cert, key = make_ca_and_server_cert(tmp_path / "pki", ["127.0.0.1", "localhost"])
    b = _broker(engine, tmp_path / "broker", (str(ca), str(cert), str(key)))
    yield b
    b.stop()


def consumer_settings(settings: CloudSettings, broker: Mosquitto, **extra: object
                      ) -> CloudSettings:
    return make_settings(
        settings.database_url,
        jwt_secret=settings.jwt_secret.get_secret_value(),
        data_keys=settings.data_keys.get_secret_value(),
        blind_index_key=settings.blind_index_key.get_secret_value(),
        audit_chain_keys=settings.audit_chain_keys.get_secret_value(),
        mqtt_port=broker.port, mqtt_username=CLOUD_MQTT_USERNAME,
        mqtt_password=CLOUD_MQTT_PASSWORD, **extra,
    )


@pytest.fixture
def peer_a(broker: Mosquitto, sites: tuple[ProvisionedSite, ...]) -> Iterator[Peer]:
    """A protocol peer holding site A's broker credentials."""
    a = sites[0]
    p = Peer(broker.port, a.mqtt_username, a.mqtt_password, a.site_id)
    yield p
    p.close()


@pytest.fixture
def consumer(settings: CloudSettings, engine: Engine, broker: Mosquitto
             ) -> Iterator[SyncConsumer]:
    c = SyncConsumer(consumer_settings(settings, broker), engine)
    c.start()
    assert c.wait_connected(), "the sync consumer did not connect to Mosquitto"
    yield c
    c.stop()


@pytest.fixture
def chaos_stack(tmp_path: Path, engine: Engine, settings: CloudSettings, broker: Mosquitto,
                sites: tuple[ProvisionedSite, ...]) -> Iterator[Stack]:
    """The chaos tests' system under test for site A, seeded by ANCHANG_CHAOS_SEED or at
    random (tests/chaos/stack.py, which imports this module: hence the late import)."""
    from tests.chaos.schedule import chaos_seed
    from tests.chaos.stack import Stack

    made = Stack(tmp_path, engine=engine, settings=settings, broker=broker, site=sites[0],
                 seed=chaos_seed())
    yield made
    made.close()


CONSULTANT_PASSWORD = "Wl#2026-consultant"


@pytest.fixture
def consultant_id(engine: Engine, sites: tuple[ProvisionedSite, ...]) -> int:
    """王磊, a consultant of site A who may sign in (no password change pending)."""
    with Session(engine) as s:
        user = identity_service.create_user(
            s, username="wanglei", password=CONSULTANT_PASSWORD, display_name="王磊",
            roles=["consultant"], site_ids=[sites[0].site_id], must_change_password=False,
            actor="test")
        s.commit()
        assert user.id is not None
        return user.id
