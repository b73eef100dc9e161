"""Provisioning a site's appliance: credentials, its env file, and the broker's files."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.catalog import service as catalog_service
from cloud.catalog.models import Site
from cloud.settings import CloudSettings
from cloud.sync import service
from cloud.sync.credentials import (
    BrokerFiles,
    broker_files,
    mosquitto_password_hash,
    new_password,
    site_mqtt_username,
)
from cloud.sync.models import SiteLink
from shared.crypto import new_key
from shared.errors import NotFound


@dataclass(frozen=True)
class SiteCredentials:
    site_id: str
    site_key: str
    mqtt_username: str
    mqtt_password: str

    def edge_env(self, *, mqtt_host: str, mqtt_port: int, tls_ca: str | None = None) -> str:
        """The appliance's env file. Its at-rest key, kiosk token and field engineer's
        token (camera pages, ADR 0035) are made here and kept only on the appliance: the
        cloud never needs them."""
        lines = {
            "ANCHANG_EDGE_SITE_ID": self.site_id,
            "ANCHANG_EDGE_SITE_KEY": self.site_key,
            "ANCHANG_EDGE_DATA_KEYS": f"k1:{new_key()}",
            "ANCHANG_EDGE_KIOSK_TOKEN": new_key(),
            "ANCHANG_EDGE_ENGINEER_TOKEN": new_key(),
            "ANCHANG_EDGE_MQTT_HOST": mqtt_host,
            "ANCHANG_EDGE_MQTT_PORT": str(mqtt_port),
            "ANCHANG_EDGE_MQTT_USERNAME": self.mqtt_username,
            "ANCHANG_EDGE_MQTT_PASSWORD": self.mqtt_password,
        }
        if tls_ca:
            lines["ANCHANG_EDGE_MQTT_TLS_CA"] = tls_ca
        return "".join(f"{k}={v}\n" for k, v in lines.items())


def issue_credentials(session: Session, *, settings: CloudSettings, site_id: str,
                      actor: str = "cli") -> SiteCredentials:
    """New key and password for a site (first time or rotation); the old ones stop working
    once the broker files are redeployed."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("案场不存在", code="site_not_found")
    key, password = new_key(), new_password()
    username = site_mqtt_username(site_id)
    service.create_site_link(session, settings=settings, site=site, key_b64=key,
                             mqtt_username=username,
                             mqtt_password_hash=mosquitto_password_hash(password))
    audit_service.record(session, action="site.credentials_issued", actor=actor,
                         object_type="site", object_id=site_id)
    return SiteCredentials(site_id, key, username, password)


def provision_site(session: Session, *, settings: CloudSettings, site_id: str, name: str,
                   projects: list[str], actor: str = "cli") -> SiteCredentials:
    catalog_service.create_site(session, principal=None, site_id=site_id, name=name,
                                actor=actor)
    for project in projects:
        catalog_service.create_project(session, principal=None, site_id=site_id, name=project,
                                       actor=actor)
    return issue_credentials(session, settings=settings, site_id=site_id, actor=actor)


def broker_files_for(session: Session, *, cloud_password: str) -> BrokerFiles:
    links = session.exec(select(SiteLink).order_by(col(SiteLink.site_id))).all()
    return broker_files(
        {link.mqtt_username: link.mqtt_password_hash for link in links},
        [link.site_id for link in links],
        mosquitto_password_hash(cloud_password),
    )
