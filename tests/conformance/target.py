"""What the suite needs from the system under test, and this project's cloud as one.

The suite talks to the cloud over MQTT only. A few things are not on the wire: the
operator's commands (§8, §10, §12), the console's alarms (§11), the record of refused
messages that get no answer (§6.4), and making sites to test with. A `Target` provides
them; `AnchangTarget` is this repository's cloud: a real Mosquitto configured by the
generator operators use (`cloud.sync.credentials.mosquitto_conf`), the real
`SyncConsumer`, PostgreSQL built by Alembic.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.catalog.models import Project, Site
from cloud.identity import service as identity_service
from cloud.settings import CloudSettings
from cloud.sync import feed, identity, provision
from cloud.sync.api import _status_of
from cloud.sync.consumer import SyncConsumer
from cloud.sync.credentials import CLOUD_MQTT_USERNAME
from cloud.sync.models import DownFeed, SiteLink, SyncRejection
from cloud.sync.service import lock_link
from shared.timeutil import utcnow
from tests.conformance import wire
from tests.conftest import truncate_all
from tests.integration.conftest import CLOUD_MQTT_PASSWORD, consumer_settings
from tests.integration.mosquitto import Mosquitto

TARGET_ENV = "ANCHANG_CONFORMANCE_TARGET"
# The gap alarm threshold the reference cloud runs the suite with (its lowest allowed).
GAP_ALARM_SECONDS = 5
SITES_PER_RELOAD = 16


def reference_violation(finding: str) -> pytest.MarkDecorator:
    """This repository's cloud is known to break the spec here (the finding says how);
    another target must pass the test."""
    return pytest.mark.xfail(not os.environ.get(TARGET_ENV), reason=finding, strict=True)


@dataclass(frozen=True)
class SiteAccess:
    """What an appliance of a site holds (its env file) plus one project of the site."""

    site_id: str
    key: bytes
    mqtt_username: str
    mqtt_password: str
    project_id: int


class Target(Protocol):
    mqtt_host: str
    mqtt_port: int
    gap_alarm_seconds: float  # the cloud's configured gap alarm threshold (§11)

    def new_site(self) -> SiteAccess:
        """A site never used before, with one project, its credentials in the broker."""

    def consultant(self, site_id: str) -> int:
        """A new user with the role `consultant` on the site's staff; returns its id."""

    def privileged(self) -> tuple[str, str] | None:
        """MQTT (username, password) that may publish on every site's topics (the
        cloud's own account), or None: the tests that need it are skipped."""

    def reenrol(self, site_id: str) -> None:
        """`anchang site re-enrol SITE` (§8)."""

    def resolve_twin(self, site_id: str, keep: str) -> None:
        """`anchang site resolve-twin SITE --keep INSTANCE` (§8)."""

    def new_generation(self) -> None:
        """`anchang sync new-generation` (§12)."""

    def prune_feed(self, site_id: str) -> None:
        """The feed's retention passes over every item of the site now held (§10)."""

    def restart_cloud(self) -> None:
        """The cloud's consumer disconnects, connects and subscribes again (so the broker
        replays retained messages to it)."""

    def alarms(self, site_id: str) -> set[str]:
        """The console's alarm codes for the site (§11)."""

    def rejections(self, site_id: str | None = None, topic: str | None = None
                   ) -> list[tuple[str, int | None]]:
        """Recorded message rejections (reason, seq) by topic site or by topic (§6.4)."""

    def close(self) -> None: ...


class AnchangTarget:
    """This repository's cloud, started for the suite and torn down after it."""

    mqtt_host = "127.0.0.1"
    gap_alarm_seconds = GAP_ALARM_SECONDS

    def __init__(self, engine: Engine, settings: CloudSettings, workdir: Path) -> None:
        self.engine = engine
        self._pool: list[SiteAccess] = []
        with Session(engine) as session:
            files = provision.broker_files_for(session, cloud_password=CLOUD_MQTT_PASSWORD)
        self.broker = Mosquitto(workdir, files)
        self.broker.start()
        self.mqtt_port = self.broker.port
        self.settings = consumer_settings(settings, self.broker,
                                          sync_gap_alarm_seconds=GAP_ALARM_SECONDS)
        self.consumer = self._start_consumer()

    def _start_consumer(self) -> SyncConsumer:
        consumer = SyncConsumer(self.settings, self.engine, client_id="conformance-cloud")
        consumer.start()
        assert consumer.wait_connected(), "the sync consumer did not connect to Mosquitto"
        return consumer

    def new_site(self) -> SiteAccess:
        if not self._pool:
            self._provision(SITES_PER_RELOAD)
        return self._pool.pop()

    def _provision(self, count: int) -> None:
        with Session(self.engine) as session:
            for _ in range(count):
                site_id = f"cf-{uuid.uuid4().hex[:10]}"
                creds = provision.provision_site(session, settings=self.settings,
                                                 site_id=site_id, name=f"一致性 {site_id}",
                                                 projects=["星河湾"])
                session.flush()
                project = session.exec(select(Project).where(Project.site_id == site_id)).one()
                assert project.id is not None
                self._pool.append(SiteAccess(site_id, wire.decode_key(creds.site_key),
                                             creds.mqtt_username, creds.mqtt_password,
                                             project.id))
            session.commit()
            files = provision.broker_files_for(session, cloud_password=CLOUD_MQTT_PASSWORD)
        self.broker.write_files(files)
        self.broker.reload()

    def consultant(self, site_id: str) -> int:
        with Session(self.engine) as session:
            user = identity_service.create_user(
                session, username=f"cf{uuid.uuid4().hex[:12]}", password="Cf#2026-consultant",
                display_name="王磊", roles=["consultant"], site_ids=[site_id],
                must_change_password=False, actor="conformance")
            session.commit()
            assert user.id is not None
            return user.id

    def privileged(self) -> tuple[str, str] | None:
        return CLOUD_MQTT_USERNAME, CLOUD_MQTT_PASSWORD

    def _on_link(self, site_id: str, change: object) -> None:
        with Session(self.engine) as session:
            change(session, lock_link(session, site_id))  # type: ignore[operator]
            session.commit()

    def reenrol(self, site_id: str) -> None:
        self._on_link(site_id, lambda s, link: identity.allow_reenrol(s, link, actor="test"))

    def resolve_twin(self, site_id: str, keep: str) -> None:
        self._on_link(site_id, lambda s, link: identity.resolve_twin(s, link, keep,
                                                                    actor="test"))

    def new_generation(self) -> None:
        with Session(self.engine) as session:
            feed.new_generation(session, actor="test")
            session.commit()

    def prune_feed(self, site_id: str) -> None:
        days = self.settings.down_feed_retention_days
        with Session(self.engine) as session:
            session.execute(update(DownFeed).where(col(DownFeed.site_id) == site_id)
                            .values(created_at=utcnow() - timedelta(days=days + 1)))
            feed.prune(session, retention_days=days)
            session.commit()

    def restart_cloud(self) -> None:
        self.consumer.stop()
        self.consumer = self._start_consumer()

    def alarms(self, site_id: str) -> set[str]:
        with Session(self.engine) as session:
            link = session.get(SiteLink, site_id)
            site = session.get(Site, site_id)
            assert link is not None and site is not None
            return set(_status_of(link, site.name).alarms)

    def rejections(self, site_id: str | None = None, topic: str | None = None
                   ) -> list[tuple[str, int | None]]:
        query = select(SyncRejection).order_by(col(SyncRejection.id))
        if site_id is not None:
            query = query.where(SyncRejection.topic_site_id == site_id)
        if topic is not None:
            query = query.where(SyncRejection.topic == topic)
        with Session(self.engine) as session:
            return [(r.reason, r.seq) for r in session.exec(query).all()]

    def close(self) -> None:
        self.consumer.stop()
        self.broker.stop()
        truncate_all(self.engine)
