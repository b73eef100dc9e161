"""One way to make and connect a paho client, for the cloud consumer and the edge agent.

MQTT 5 is the default (reason codes on PUBACK, session expiry, shared subscriptions).
3.1.1 is kept for the embedded demo broker (amqtt speaks only 3.1.1) and for brokers a
client may already run.
"""

from __future__ import annotations

import ssl
from typing import Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

MqttProtocol = Literal["5", "3.1.1"]


def new_client(
    *, client_id: str, protocol: MqttProtocol, username: str | None, password: str | None,
    tls_ca: str | None,
) -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311,
        clean_session=None if protocol == "5" else False,
    )
    if username:
        client.username_pw_set(username, password)
    if tls_ca:
        client.tls_set(ca_certs=tls_ca, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


def connect_async(
    client: mqtt.Client, *, host: str, port: int, keepalive: int, protocol: MqttProtocol,
    session_expiry_seconds: int,
) -> None:
    """A persistent session: the broker keeps subscriptions and queued QoS 1 messages."""
    if protocol == "5":
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = session_expiry_seconds
        client.connect_async(host, port, keepalive=keepalive, clean_start=False,
                             properties=props)
    else:
        client.connect_async(host, port, keepalive=keepalive)
