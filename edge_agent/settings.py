"""Edge agent settings: environment variables prefixed ANCHANG_EDGE_ (or a .env file).

There are no built-in secrets: the agent refuses to start without its site key, data key
ring and kiosk token.
"""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from shared.browser import HardeningSettings
from shared.crypto import BlindIndex, FieldCipher, decode_key, parse_key_ring
from shared.envelope import SITE_ID_PATTERN
from shared.mqttc import MqttProtocol
from shared.secrets import KeyRingSecret, KeySecret

MIN_KIOSK_TOKEN_LENGTH = 24
# The repository's firmware_configs/ (Ansible points the setting at its installed copy).
DEFAULT_FIRMWARE_CONFIGS = str(Path(__file__).resolve().parents[1] / "firmware_configs")
# Where `python -m edge_agent.faces.assets` puts the models it takes from registry wheels.
DEFAULT_FACE_ASSETS = Path(sys.prefix) / "share" / "anchang" / "faces"


class EdgeSettings(HardeningSettings):
    model_config = SettingsConfigDict(
        env_prefix="ANCHANG_EDGE_", env_file=".env", extra="ignore", frozen=True
    )

    site_id: str = Field(pattern=SITE_ID_PATTERN, description="this sales office's site id")
    site_key: KeySecret = Field(
        description="per-site HMAC key (base64url, 32 bytes): message signatures, blind index"
    )
    data_keys: KeyRingSecret = Field(
        description="AES-GCM key ring 'k2:<b64>,k1:<b64>' for personal data at rest, first active"
    )
    kiosk_token: SecretStr = Field(description="bearer token of the kiosk tablet, ≥ 24 characters")

    database_path: str = Field("var/edge.db", description="SQLite file of the agent")
    host: str = Field("127.0.0.1", description="address the kiosk API listens on")
    port: int = Field(8100, ge=1, le=65535)
    log_level: str = Field("INFO", description="structlog level")


    sync_enabled: bool = Field(True, description="run the MQTT sync client (off in unit tests)")
    mqtt_protocol: MqttProtocol = Field(
        "5", description="'5'; '3.1.1' for the embedded demo broker (amqtt)"
    )
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(1883, ge=1, le=65535)
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_tls_ca: str | None = Field(None, description="CA file; set to connect over TLS")
    mqtt_keepalive: int = Field(30, ge=5, le=3600, description="seconds")
    mqtt_session_expiry_seconds: int = Field(
        7 * 24 * 3600, ge=0, description="broker keeps the session this long (WAN cuts of days)"
    )

    sync_window: int = Field(500, ge=1, le=10_000, description="max unacked events in flight")
    ack_timeout_seconds: float = Field(15, gt=0, description="no ack progress → resend")
    down_poll_seconds: float = Field(10, gt=0, description="down-feed request interval")
    status_interval_seconds: float = Field(30, gt=0, description="status publish interval")
    outbox_retention_days: int = Field(
        7, ge=1, le=90, description="acked events kept this long, for a cloud restored from a "
        "backup to be sent them again")

    cloud_url: str | None = Field(
        None, description="cloud API base (https://…), reached by the consultant login; unset: "
        "phones cannot log in through this appliance"
    )
    cloud_public_url: str | None = Field(
        None, description="the cloud's address as phones reach it, when not cloud_url; the "
        "consultant PWA falls back to it when this appliance is out of reach"
    )
    cloud_timeout_seconds: float = Field(5, gt=0, le=60, description="per cloud request")

    staff_idle_minutes: int = Field(
        30, ge=5, le=24 * 60, description="a consultant's edge token unused for a user action "
        "this long ends (as the cloud's session_idle_minutes)")
    kiosk_lookup_per_minute: int = Field(
        30, ge=1, le=600, description="customer look-ups one kiosk tablet (source address) may "
        "make per minute; more are answered 429")

    default_project_id: int | None = Field(
        None, ge=1, description="project a kiosk registration uses when it names none"
    )

    engineer_token: SecretStr | None = Field(
        None, description="bearer token of the field engineer's camera pages, ≥ 24 "
        "characters, kept off the lobby tablet; unset: the camera routes refuse everyone")
    firmware_configs_dir: str = Field(
        DEFAULT_FIRMWARE_CONFIGS, description="folder of the per-brand camera YAML files")
    discovery_interface: str | None = Field(
        None, description="IPv4 address of the LAN interface WS-Discovery probes leave "
        "from (unset: the kernel's choice)")
    discovery_port: int = Field(3702, ge=1, le=65535, description="WS-Discovery UDP port")
    discovery_wait_seconds: float = Field(
        3, gt=0, le=30, description="how long a scan collects WS-Discovery answers")
    onvif_timeout_seconds: float = Field(
        15, gt=0, le=120, description="one camera's ONVIF queries, in all")

    capture_enabled: bool = Field(
        True, description="read the confirmed cameras' video and report their health")
    camera_health_check_seconds: float = Field(
        10, gt=0, le=300, description="how often the readers' health is looked at")
    camera_health_report_seconds: float = Field(
        300, ge=10, le=3600, description="a streaming camera's health goes up this often; "
        "a change of state goes up at the next check")
    faces_enabled: bool = Field(
        False, description="this appliance may run face recognition (an engine installed); "
        "it does only while the site has face use switched on (site.faces from the cloud)")
    face_engine: Literal["yunet_dlib", "insightface"] = Field(
        "yunet_dlib", description="insightface in production (a licensed model pack), "
        "yunet_dlib where no pack is installed (demo, tests)")
    face_model_pack: str | None = Field(
        None, description="folder of the insightface model pack (*.onnx) provisioning installs")
    face_kiosk_camera_id: str | None = Field(
        None, pattern=r"^[0-9a-fA-F-]{32,36}$", description="the camera facing the kiosk "
        "tablet: a face consent links the visitor it saw (unset: the face seen last by any)")
    face_match_threshold: float | None = Field(
        None, gt=0, lt=1, description="cosine similarity at which a face matches a gallery "
        "entry (unset: the engine's calibrated value, docs/cameras.md)")
    face_assets_dir: str = Field(
        str(DEFAULT_FACE_ASSETS), description="folder of the YuNet model taken from its "
        "registry wheel (python -m edge_agent.faces.assets)")

    @field_validator("kiosk_token", "engineer_token")
    @classmethod
    def _token_strong(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_KIOSK_TOKEN_LENGTH:
            raise ValueError(f"tokens must be at least {MIN_KIOSK_TOKEN_LENGTH} characters")
        return value

    @cached_property
    def site_key_bytes(self) -> bytes:
        return decode_key(self.site_key.get_secret_value())

    @cached_property
    def cipher(self) -> FieldCipher:
        return FieldCipher(parse_key_ring(self.data_keys.get_secret_value()))

    @cached_property
    def blind_index(self) -> BlindIndex:
        """Site-keyed: the cloud computes the same index with this site's key."""
        return BlindIndex(self.site_key_bytes)
