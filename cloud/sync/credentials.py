"""Site credentials and the broker's password and ACL files.

A site gets two secrets: the HMAC key that signs every message, and the MQTT password
its agent logs into the broker with. The ACL confines each site to its own topics, so a
compromised appliance cannot publish as another site; the cloud account reads and
writes every site's topics.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass

from shared.envelope import MAX_MESSAGE_BYTES, Topics

CLOUD_MQTT_USERNAME = "anchang-cloud"
MOSQUITTO_PBKDF2_ITERATIONS = 101  # what mosquitto_passwd 2.0 writes by default


def site_mqtt_username(site_id: str) -> str:
    return f"site-{site_id}"


def mosquitto_password_hash(password: str, *, salt: bytes | None = None) -> str:
    """The `$7$` (PBKDF2-SHA512) form mosquitto 2.x reads from its password file."""
    salt = salt if salt is not None else os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, MOSQUITTO_PBKDF2_ITERATIONS)
    salt_b64, digest_b64 = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"$7${MOSQUITTO_PBKDF2_ITERATIONS}${salt_b64}${digest_b64}"


def new_password() -> str:
    return secrets.token_urlsafe(24)


def site_acl(site_id: str) -> str:
    topics = Topics(site_id)
    lines = [
        f"user {site_mqtt_username(site_id)}",
        f"topic write {topics.up}",
        f"topic write {topics.status}",
        f"topic write {topics.down_request}",
        f"topic read {topics.ack}",
        f"topic read {topics.down}",
    ]
    return "\n".join(lines) + "\n"


def cloud_acl(username: str = CLOUD_MQTT_USERNAME) -> str:
    return f"user {username}\ntopic readwrite {Topics.ROOT}/#\n"


@dataclass(frozen=True)
class BrokerFiles:
    passwd: str
    acl: str


def broker_files(entries: dict[str, str], site_ids: list[str], cloud_hash: str) -> BrokerFiles:
    """`entries` maps MQTT user → `$7$` hash for every site; the cloud account is added."""
    passwd = [f"{CLOUD_MQTT_USERNAME}:{cloud_hash}"]
    passwd += [f"{user}:{hashed}" for user, hashed in sorted(entries.items())]
    acl = cloud_acl() + "".join("\n" + site_acl(s) for s in sorted(site_ids))
    return BrokerFiles(passwd="\n".join(passwd) + "\n", acl=acl)


def mosquitto_conf(
    *, port: int, passwd_path: str, acl_path: str, persistence_dir: str | None,
    tls: tuple[str, str, str] | None = None, bind: str = "127.0.0.1", run_as: str | None = None,
) -> str:
    """A listener with authentication, the ACL and queue limits set on purpose.

    Mosquitto silently drops a QoS 1 subscriber's queue beyond max_queued_messages
    (default 1000); the edge never has more than its send window in flight, so a
    generous explicit limit keeps a burst from being dropped without making the broker
    an unbounded store. The broker refuses a message larger than the protocol allows
    (PUBACK "implementation specific error"), so an oversized one never reaches a
    subscriber, whoever sent it.
    """
    lines = [f"user {run_as}"] if run_as else []
    lines += [
        f"listener {port} {bind}",
        "allow_anonymous false",
        f"password_file {passwd_path}",
        f"acl_file {acl_path}",
        "max_queued_messages 100000",
        "max_inflight_messages 100",
        f"message_size_limit {MAX_MESSAGE_BYTES}",
        "persistent_client_expiration 14d",
    ]
    if tls is not None:
        ca, cert, key = tls
        lines += [f"cafile {ca}", f"certfile {cert}", f"keyfile {key}", "tls_version tlsv1.2"]
    if persistence_dir:
        lines += ["persistence true", f"persistence_location {persistence_dir.rstrip('/')}/",
                  "autosave_interval 1"]
    else:
        lines.append("persistence false")
    return "\n".join(lines) + "\n"
