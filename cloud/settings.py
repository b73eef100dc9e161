"""Cloud settings: environment variables prefixed ANCHANG_CLOUD_ (or a .env file).

There are no built-in secrets: the service refuses to start without its keys. The demo
command generates a set into its data folder and passes them in.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cached_property
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from shared.browser import AddressList, HardeningSettings
from shared.crypto import BlindIndex, FieldCipher, decode_key, parse_key_ring
from shared.mqttc import MqttProtocol
from shared.secrets import KeyRingSecret, KeySecret


class CloudSettings(HardeningSettings):
    model_config = SettingsConfigDict(
        env_prefix="ANCHANG_CLOUD_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = Field(description="SQLAlchemy URL: postgresql+psycopg2://… or sqlite:///…")
    redis_url: str | None = Field(
        None, description="login rate limits and lockouts, shared by every API process; "
        "checked by /readyz. Unset (the demo): kept in-process, one process only")
    redis_prefix: str = Field("anchang:", max_length=64, description="prefix of every key")
    jwt_secret: SecretStr = Field(description="HS256 key for access tokens, ≥ 32 characters")
    data_keys: KeyRingSecret = Field(
        description="AES-GCM key ring 'k2:<b64>,k1:<b64>', first active"
    )
    blind_index_key: KeySecret = Field(description="HMAC key of the blind indexes (base64url)")
    audit_chain_keys: KeyRingSecret = Field(
        description="HMAC key ring 'a2:<b64>,a1:<b64>' (first active) signing the audit "
        "chain's checkpoints and head files; kept out of the database so whoever can "
        "rewrite the database cannot re-sign a rewritten chain")

    access_token_minutes: int = Field(15, ge=1, le=120)
    session_idle_minutes: int = Field(30, ge=5, le=24 * 60, description="refresh idle timeout")
    lockout_threshold: int = Field(
        5, ge=1, le=20, description="consecutive failures of one account from one source "
        "that lock that account for that source")
    lockout_minutes: int = Field(10, ge=1, le=24 * 60, description="the first lock; doubles "
                                 "each time the same source locks the account again that day")
    lockout_max_minutes: int = Field(24 * 60, ge=1, le=7 * 24 * 60)
    login_ip_limit: int = Field(30, ge=1, description="login attempts per source per window")
    login_ip_window_seconds: int = Field(60, ge=1, le=3600)
    referral_limit: int = Field(20, ge=1, description="referrals one broker may submit per "
                                                      "window (报备频率限制)")
    referral_window_seconds: int = Field(60, ge=1, le=3600)
    qr_signing_keys: KeyRingSecret | None = Field(
        None, description="Ed25519 seeds of the 扫码带看 codes, a key ring 'q2:<b64>,q1:<b64>' "
        "(first signs; the others still verify until their codes expired); unset: one key "
        "'d1' derived from the blind-index key (ADR 0024)")
    qr_ttl_minutes: int = Field(30, ge=1, le=24 * 60,
                                description="how long a 扫码带看 code stays valid")
    share_ttl_days: int = Field(30, ge=1, le=365,
                                description="how long a broker's share link (分享) opens")
    share_event_limit: int = Field(
        30, ge=1, description="opens and page views one visitor of one share may record per "
        "share window")
    share_ip_limit: int = Field(120, ge=1, description="opens, page views and lead forms one "
                                "source may send per share window")
    share_window_seconds: int = Field(60, ge=1, le=3600)
    lead_ip_limit: int = Field(10, ge=1, description="lead forms (留资) one source may send "
                               "per hour")
    login_account_limit: int = Field(
        20, ge=1, description="failures of one account, summed over sources it never signed "
        "in from, per window; then only its known sources may try")
    login_account_window_minutes: int = Field(15, ge=1, le=24 * 60)
    login_known_source_days: int = Field(
        30, ge=1, le=365, description="a source an account signed in from stays known this long")
    password_expiry_days: int = Field(90, ge=0, description="0 turns expiry off")
    password_history: int = Field(5, ge=0, le=24)

    # Serving under load (issue #24; docs/operations.md "Sizing the API").
    db_pool_size: int = Field(
        20, ge=1, le=500, description="database connections per API process = requests of "
        "that process using the database at once; the sum over all processes must stay "
        "under PostgreSQL's max_connections (or PgBouncer's pool)")
    db_wait_seconds: float = Field(
        2.0, gt=0, le=30, description="how long a request waits for a connection before "
        "it is answered 503 with Retry-After")
    db_pre_ping: bool = Field(
        False, description="test each pooled connection before use (one round trip per "
        "request); off: a connection broken by a database restart answers one request "
        "503 with Retry-After and the pool is renewed")
    database_listen_url: str | None = Field(
        None, description="PostgreSQL reached directly, for the principal cache's LISTEN "
        "connection, when database_url goes through PgBouncer in transaction mode (which "
        "cannot carry LISTEN); default database_url")
    principal_cache_seconds: float = Field(
        10.0, ge=0, le=60, description="how long a signed-in user's roles and scopes are "
        "reused without a query; changes invalidate at once (0 turns the cache off)")
    gzip_min_bytes: int = Field(1400, ge=0, description="compress responses above this size")

    console_networks: AddressList = Field(
        default_factory=list, description="addresses / CIDRs (e.g. the head office's LAN "
        "and VPN) from which the console's pages are served and the administrators (system, "
        "security, audit) may sign in and act; unset: anywhere. Business users, who work "
        "from phones, are not limited")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="origins (e.g. each edge's https://… address) whose pages — the "
        "consultant PWA — may call this API from a browser; '*' allows any. Safe to open: "
        "the API takes bearer tokens only, never cookies",
    )


    # Broker sign-in (issue #21; docs/channel.md "Sign-in", ADR 0023). Nothing here is
    # required: WeChat answers 503 until its app id and secret are set, SMS until a
    # provider is (the demo logs the code instead).
    h5_public_url: str | None = Field(
        None, max_length=200, description="the broker H5's public address, e.g. "
        "https://anchang.example.com/h5/ (invite links, WeChat's redirect); unset: this "
        "server's address as the request saw it + /h5/")
    wechat_open_base: str = Field("https://open.weixin.qq.com", max_length=200,
                                  description="WeChat's authorisation page (tests: a fake)")
    wechat_api_base: str = Field("https://api.weixin.qq.com", max_length=200,
                                 description="WeChat's API (tests: a fake)")
    wechat_appid: str | None = Field(None, max_length=64,
                                     description="公众号 app id of the web authorisation")
    wechat_secret: SecretStr | None = None
    wechat_mini_appid: str | None = Field(None, max_length=64, description="小程序 app id")
    wechat_mini_secret: SecretStr | None = None
    wechat_timeout_seconds: float = Field(5.0, gt=0, le=30)
    wechat_template_id: str | None = Field(
        None, max_length=64, description="the 公众号's template (模板消息) that carries the "
        "H5's messages to brokers following it: thing1 the title, thing2 the text, time3 "
        "the time; unset: messages stay in the H5 only")
    sms_provider: Literal["log", "aliyun", "tencent"] = Field(
        "log", description="'aliyun': Dysmsapi SendSms; 'tencent': Tencent Cloud SMS "
        "SendSms (API 3.0); 'log': the code goes to the server log, in the demo only "
        "(production answers 503 until a provider is set)")
    sms_endpoint: str | None = Field(
        None, max_length=200, description="unset: the provider's own "
        "(https://dysmsapi.aliyuncs.com, https://sms.tencentcloudapi.com)")
    sms_access_key_id: str | None = Field(None, max_length=64,
                                          description="Aliyun AccessKeyId / Tencent SecretId")
    sms_access_key_secret: SecretStr | None = None
    sms_sign_name: str = Field("安畅", max_length=40, description="the approved SMS signature")
    sms_template_code: str | None = Field(
        None, max_length=40, description="Aliyun: template with a ${code} parameter; "
        "Tencent: the TemplateId whose {1} is the code")
    sms_sdk_app_id: str | None = Field(None, max_length=20,
                                       description="Tencent's SmsSdkAppId (1400…)")
    sms_region: str = Field("ap-guangzhou", max_length=32, description="Tencent's region")
    sms_timeout_seconds: float = Field(5.0, gt=0, le=30)
    sms_code_ttl_seconds: int = Field(300, ge=60, le=1800)
    sms_code_attempts: int = Field(5, ge=1, le=10, description="wrong tries before a code "
                                   "is void")
    sms_cooldown_seconds: int = Field(60, ge=10, le=600, description="between two codes to "
                                      "one number")
    sms_ip_limit: int = Field(20, ge=1, description="codes one source may ask per hour")
    sms_phone_daily_limit: int = Field(10, ge=1, le=100, description="codes to one number "
                                       "a day")
    poster_font: str | None = Field(
        None, max_length=300, description="a CJK font file for the invite poster's words; "
        "unset: Noto Sans CJK of Debian's fonts-noto-cjk; none found: the QR code alone")
    referrer_auto_approve: bool = Field(
        False, description="an individual referrer invited by an active broker starts "
        "active; off: pending until a channel manager approves, as any other")

    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_protocol: MqttProtocol = "5"
    mqtt_tls_ca: str | None = Field(None, description="CA file; set to connect over TLS")
    mqtt_shared_group: str | None = Field(
        None, description="MQTT 5 shared-subscription group, e.g. 'cloud', to scale consumers"
    )
    mqtt_client_id: str = "anchang-cloud-sync"
    sync_enabled: bool = Field(False, description="run the sync consumer inside the API process")
    # ≤ 2000: an Ack naming a refusal for each message of a batch stays under 256 KiB.
    sync_batch_size: int = Field(200, ge=1, le=2000)
    sync_up_batch: int = Field(
        100, ge=0, le=500, description="most events an agent may put in one `up` message, "
        "told to agents in every Ack (MQTT 5 user property); 0 or 1: one event a message")
    clock_skew_alarm_seconds: int = Field(300, ge=1)
    sync_gap_alarm_seconds: int = Field(
        60, ge=5, le=3600, description="a hole in a site's stream open this long: alarm, "
        "the site is marked stalled and asked again for the missing events")
    down_feed_retention_days: int = Field(30, ge=1)
    face_count_warning: int = Field(
        80_000, ge=1, description="distinct persons with face data stored on the sites: "
        "warn (security baseline, the 2025 face measures)")
    face_count_filing: int = Field(
        100_000, ge=1, description="distinct persons with face data: the operator must file "
        "with the provincial regulator within 30 working days")
    share_event_retention_days: int = Field(
        180, ge=7, le=3650, description="opens and views of brokers' share pages are kept "
        "this long, then deleted by an hourly job (the shares' counts and the lead "
        "timeline's share items shrink with them; leads stay)")

    task_reminder_hours: int = Field(
        24, ge=1, le=7 * 24, description="a prospecting task's assignees short of their "
        "target are reminded this long before it ends (拓客任务到期提醒)")

    celery_broker_url: str | None = Field(
        None, description="Celery broker (redis://…); unset: redis_url. Demo mode runs jobs "
        "eagerly in-process instead")
    inactive_disable_days: int = Field(
        90, ge=1, le=3650, description="accounts unused this long are disabled by a daily job")
    audit_head_dir: str = Field(
        "var/audit-heads", description="folder (outside the database, ideally another disk or "
        "a mounted object store) where the daily job writes the audit chains' heads")
    audit_chain_shards: int = Field(
        16, ge=1, le=64, description="independent hash chains the audit log is spread over, "
        "each with its own lock, so that audited transactions commit side by side (ADR "
        "0059); more than the audited commits in flight at once. Changing it needs no "
        "migration: every shard ever written stays verified")
    audit_retention_days: int = Field(
        180, ge=180, le=3650, description="audit rows are kept this long, then archived to "
        "audit_archive_dir and deleted by a daily job; the law's floor is 180 days "
        "(网络安全法 art. 21), and the database itself refuses deleting younger rows")
    audit_archive_dir: str = Field(
        "var/audit-archive", description="folder (outside the database, backed up with it) "
        "of the audit rows past retention, one JSON-lines file per shard and run")

    # Appeal evidence (申诉材料; docs/decisions/0025-evidence-storage-and-risk-cases.md).
    evidence_store: Literal["local", "s3"] = Field(
        "local", description="where appeal evidence files are kept: a local folder (the "
        "demo, one server) or an S3-compatible object store through the minio SDK")
    evidence_dir: str = Field("var/evidence", description="the folder of the local store")
    evidence_max_bytes: int = Field(10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024,
                                    description="largest evidence file accepted (413 above)")
    s3_endpoint: str | None = Field(None, description="host:port of the S3 service")
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = Field("anchang-evidence", min_length=3, max_length=63)
    s3_secure: bool = Field(True, description="HTTPS to the S3 service")
    s3_region: str | None = Field(None, description="some services require one")


    @field_validator("jwt_secret")
    @classmethod
    def _jwt_strong(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("ANCHANG_CLOUD_JWT_SECRET must be at least 32 characters")
        return value

    @cached_property
    def cipher(self) -> FieldCipher:
        return FieldCipher(parse_key_ring(self.data_keys.get_secret_value()))

    @cached_property
    def chain_keys(self) -> dict[str, bytes]:
        return parse_key_ring(self.audit_chain_keys.get_secret_value())

    @cached_property
    def qr_keys(self) -> dict[str, bytes]:
        """The QR signing seeds by key id, the first active (shared.qr)."""
        if self.qr_signing_keys is not None:
            return parse_key_ring(self.qr_signing_keys.get_secret_value())
        # No new required secret: a seed of its own, derived one-way from a key every
        # deployment has, so it reveals nothing of that key.
        seed = hmac.new(decode_key(self.blind_index_key.get_secret_value()),
                        b"anchang qr signing key v1", hashlib.sha256).digest()
        return {"d1": seed}

    @cached_property
    def blind_index(self) -> BlindIndex:
        return BlindIndex(decode_key(self.blind_index_key.get_secret_value()))
