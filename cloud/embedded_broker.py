"""The demo's in-process MQTT broker (amqtt), used when no Mosquitto is reachable.

It authenticates from a password file (argon2 hashes) and applies the same per-site
topic confinement as the generated Mosquitto ACL. amqtt speaks MQTT 3.1.1 only, so the
demo's clients use 3.1.1 against it; production runs Mosquitto or EMQX.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from amqtt.broker import Broker
from argon2 import PasswordHasher

from shared.envelope import Topics


def site_acl(site_username: str, site_id: str) -> tuple[list[str], list[str]]:
    topics = Topics(site_id)
    return [topics.up, topics.status, topics.down_request], [topics.ack, topics.down]


class EmbeddedBroker:
    def __init__(self, *, port: int, workdir: Path, users: dict[str, str],
                 sites: dict[str, str], cloud_username: str) -> None:
        """`users` maps username → password; `sites` maps site username → site id."""
        self.port = port
        workdir.mkdir(parents=True, exist_ok=True)
        hasher = PasswordHasher()
        passwd = workdir / "embedded-broker.passwd"
        passwd.write_text("".join(f"{u}:{hasher.hash(p)}\n" for u, p in users.items()))
        passwd.chmod(0o600)
        everything = f"{Topics.ROOT}/#"
        publish: dict[str, list[str]] = {cloud_username: [everything]}
        subscribe: dict[str, list[str]] = {cloud_username: [everything]}
        for username, site_id in sites.items():
            publish[username], subscribe[username] = site_acl(username, site_id)
        self._config: dict[str, Any] = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
            "plugins": {
                "amqtt.plugins.authentication.FileAuthPlugin": {"password_file": str(passwd)},
                "amqtt.plugins.topic_checking.TopicAccessControlListPlugin": {
                    # amqtt 0.12 names the subscribe ACL `acl` in its config dataclass.
                    "publish_acl": publish, "acl": subscribe,
                },
            },
        }
        self._broker: Broker | None = None

    async def start(self) -> None:
        self._broker = Broker(self._config, loop=asyncio.get_running_loop())
        await self._broker.start()

    async def stop(self) -> None:
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None
