"""The demo's setup, before its event loop starts: secrets generated once into the data
folder, the cloud database migrated and seeded (the site, its people, the channel's and
the units' demo data), and the settings of both sides."""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlmodel import Session, col, select

from cloud import demo_channel
from cloud.catalog.models import Project, Site
from cloud.db import make_engine
from cloud.identity import service as identity_service
from cloud.identity.models import User
from cloud.inventory import demo as inventory_demo
from cloud.migrate import upgrade
from cloud.settings import CloudSettings
from cloud.sync import provision
from cloud.sync.credentials import CLOUD_MQTT_USERNAME, new_password
from edge_agent.settings import EdgeSettings
from shared.crypto import new_key
from shared.mqttc import MqttProtocol

console = Console()

DEMO_SITE = "demo-sh"
DEMO_PEOPLE = [
    # username, display name, roles, scoped to the demo site
    ("admin", "总部管理员", ["sys_admin"], False),
    ("security", "安全管理员", ["security_admin"], False),
    ("auditor", "审计管理员", ["audit_admin"], False),
    ("wanglei", "王磊", ["consultant"], True),
    ("lina", "李娜", ["consultant"], True),
    ("zhaomin", "赵敏", ["sales_manager"], True),
    ("zhouzong", "周总", ["sales_director"], True),
    ("qiantai", "前台小周", ["receptionist"], True),
]
# Roles the security administrator grants after creation: an administrator who also
# unmasks personal data needs that explicit, audited grant (three-admin separation).
DEMO_GRANTS = [("admin", ["sys_admin", "hq_manager"])]


def _password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "Ac#" + "".join(secrets.choice(alphabet) for _ in range(13))


def _secrets(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "secrets.json"
    if path.exists():
        loaded: dict[str, Any] = json.loads(path.read_text())
        if "audit_chain_keys" in loaded:
            # A demo folder from before the channel seed or a later demo person.
            if _add_channel_accounts(loaded) | _add_people(loaded):
                path.write_text(json.dumps(loaded, ensure_ascii=False, indent=2))
            return loaded
        values = loaded  # a demo folder from before the audit key: add one
    else:
        values = {
            "jwt_secret": new_key() + new_key(),
            "data_keys": f"k1:{new_key()}",
            "blind_index_key": new_key(),
            "cloud_mqtt_password": new_password(),
            "accounts": {username: _password() for username, *_ in DEMO_PEOPLE},
        }
    values["audit_chain_keys"] = f"a1:{new_key()}"
    _add_channel_accounts(values)
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, ensure_ascii=False, indent=2))
    path.chmod(0o600)
    return values


def _add_people(values: dict[str, Any]) -> bool:
    """Passwords for demo people added since the folder was made; True when any was.
    Their accounts exist only in a demo database provisioned after that."""
    accounts = values.setdefault("accounts", {})
    missing = [u for u, *_ in DEMO_PEOPLE if u not in accounts]
    accounts.update({u: _password() for u in missing})
    return bool(missing)


def _add_channel_accounts(values: dict[str, Any]) -> bool:
    """Passwords for the channel's demo accounts; True when any was added."""
    accounts = values.setdefault("accounts", {})
    missing = [u for u, *_ in demo_channel.DEMO_CHANNEL_PEOPLE if u not in accounts]
    for username in missing:
        accounts[username] = _password()
    return bool(missing)


def _seed_channel(settings: CloudSettings, session: Session, accounts: dict[str, str]) -> None:
    """The channel's demo data (agencies, brokers, rules, referrals…), once."""
    project = session.exec(select(Project).where(Project.site_id == DEMO_SITE)).first()
    if project is None or project.id is None or demo_channel.seeded(session):
        return
    with console.status("生成渠道演示数据…"):
        demo_channel.seed(session, settings=settings, site_id=DEMO_SITE,
                          project_id=project.id, accounts=accounts)
        session.commit()


def _seed_inventory(session: Session) -> None:
    """The units of the demo project (buildings, 首开, 销控, a 预留 request), once."""
    project = session.exec(select(Project).where(Project.site_id == DEMO_SITE)).first()
    if project is None or project.id is None or inventory_demo.seeded(session, project.id):
        return
    people = {u.username: u for u in session.exec(
        select(User).where(col(User.username).in_(["zhaomin", "wanglei"]))).all()}
    with console.status("生成房源演示数据…"):
        inventory_demo.seed(session, project_id=project.id, manager=people["zhaomin"],
                            consultant=people["wanglei"])
        session.commit()


def _seed(settings: CloudSettings, data_dir: Path, accounts: dict[str, str], mqtt_host: str,
          mqtt_port: int) -> Path:
    """Create the demo site, its people, its channel data and the edge's env file, once."""
    env_path = data_dir / f"{DEMO_SITE}.edge.env"
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        if session.get(Site, DEMO_SITE) is not None and env_path.exists():
            _seed_channel(settings, session, accounts)
            _seed_inventory(session)
            engine.dispose()
            return env_path
        creds = provision.provision_site(session, settings=settings, site_id=DEMO_SITE,
                                         name="上海·星河湾演示案场", projects=["星河湾一期"],
                                         actor="demo")
        users = {
            username: identity_service.create_user(
                session, username=username, password=accounts[username], display_name=display,
                roles=roles, site_ids=[DEMO_SITE] if scoped else [], scope_all=not scoped,
                must_change_password=False, actor="demo",
            )
            for username, display, roles, scoped in DEMO_PEOPLE
        }
        granter = identity_service.load_principal(session, user=users["security"], ip=None)
        for username, roles in DEMO_GRANTS:
            identity_service.set_roles(session, principal=granter, user_id=users[username].id or 0,
                                       roles=roles, personal_data_grant=True)
        session.commit()
        _seed_channel(settings, session, accounts)
        _seed_inventory(session)
    env_path.write_text(creds.edge_env(mqtt_host=mqtt_host, mqtt_port=mqtt_port))
    env_path.chmod(0o600)
    engine.dispose()
    return env_path


def _read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.removeprefix("ANCHANG_EDGE_").lower(): v for k, v in pairs}


def _mosquitto_reachable() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class DemoPlan:
    data_dir: Path
    cloud: CloudSettings
    edge: EdgeSettings
    embedded_broker: bool
    accounts: dict[str, str]
    cloud_mqtt_password: str
    edge_mqtt_password: str


def prepare(data_dir: Path, cloud_port: int, edge_port: int, mqtt_port: int,
            broker_choice: str) -> DemoPlan:
    """Secrets, database and seed data: the blocking part, before the event loop starts."""
    data_dir = data_dir.resolve()
    values = _secrets(data_dir)
    use_embedded = broker_choice == "embedded" or (
        broker_choice == "auto" and not _mosquitto_reachable()
    )
    port = mqtt_port if use_embedded else 1883
    protocol: MqttProtocol = "3.1.1" if use_embedded else "5"
    cloud_settings = CloudSettings(
        _env_file=None,
        database_url=f"sqlite:///{data_dir}/cloud.db",
        jwt_secret=values["jwt_secret"], data_keys=values["data_keys"],
        blind_index_key=values["blind_index_key"], audit_chain_keys=values["audit_chain_keys"],
        sync_enabled=True, mqtt_port=port,
        # The demo's terminal shows its URLs and accounts, not a line per request.
        mode="demo", access_log=False, audit_head_dir=str(data_dir / "audit-heads"),
        audit_archive_dir=str(data_dir / "audit-archive"),
        evidence_dir=str(data_dir / "evidence"),
        mqtt_protocol=protocol, mqtt_username=CLOUD_MQTT_USERNAME,
        mqtt_password=values["cloud_mqtt_password"], mqtt_client_id="anchang-demo-cloud",
        # The consultant PWA is served by the edge and writes to the cloud when the edge
        # is unreachable.
        cors_origins=[f"http://127.0.0.1:{edge_port}", f"http://localhost:{edge_port}"],
    )
    upgrade(cloud_settings.database_url, cipher=cloud_settings.cipher)
    env_path = _seed(cloud_settings, data_dir, values["accounts"], "127.0.0.1", port)
    edge_env = _read_env(env_path)
    edge_env.update(mqtt_port=str(port), mqtt_protocol=protocol)
    edge_settings = EdgeSettings.model_validate(
        {**edge_env, "database_path": str(data_dir / "edge.db"), "port": edge_port,
         "down_poll_seconds": 2, "mode": "demo", "access_log": False,
         "cloud_url": f"http://127.0.0.1:{cloud_port}"}
    )
    return DemoPlan(data_dir, cloud_settings, edge_settings, use_embedded, values["accounts"],
                    values["cloud_mqtt_password"], edge_env["mqtt_password"])
