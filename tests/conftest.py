"""Shared fixtures: a real PostgreSQL database built by Alembic, the cloud app, keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from cloud.identity import security
from cloud.main import create_app
from cloud.migrate import upgrade
from cloud.settings import CloudSettings
from shared.crypto import new_key
from tests.fakes.aliyun_sms import FakeAliyunSms
from tests.fakes.server import serving
from tests.fakes.wechat import FakeWeChat
from tests.services import REDIS_URL, require, scratch_database


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2id at its smallest cost for this process: production's profile takes
    0.1-0.7 s a hash or check on two cores, and the worlds of the tests create and sign
    in hundreds of users. Hashes stay salted argon2id; the production profile is
    checked in test_password_policy.py, and app servers the tests start as processes
    keep it (and upgrade these hashes at sign-in)."""
    saved = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    security._dummy_hash.cache_clear()
    yield
    security._hasher = saved
    security._dummy_hash.cache_clear()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head by Alembic."""
    with scratch_database("anchang_test_") as url:
        upgrade(url)
        yield url


def truncate_all(engine: Engine) -> None:
    """Empty every table and restart every sequence, as TRUNCATE … RESTART IDENTITY of all
    tables would; triggers (the audit log's append-only guard) are bypassed here only.

    Only the tables holding rows are emptied, by DELETE, and only the sequences read since
    their last restart are restarted: a TRUNCATE of all ~150 tables took 0.7–1.2 s after
    every test (each truncated table gets new files, and CASCADE reaches most of them
    from any one), the largest share of the suite's time; a test fills a dozen tables."""
    names = [t.name for t in SQLModel.metadata.sorted_tables]
    probe = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT FROM \"{name}\")" for name in names)
    with engine.begin() as conn:
        filled = [f'"{name}"' for name in conn.execute(text(probe)).scalars()]
        # pg_sequences shows no last value for a sequence not read since its restart.
        used = conn.execute(text("SELECT quote_ident(schemaname) || '.' || "
                                 "quote_ident(sequencename) FROM pg_sequences "
                                 "WHERE last_value IS NOT NULL")).scalars().all()
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in filled:  # no foreign key is checked as a replica: any order will do
            conn.execute(text(f"DELETE FROM {table}"))
        for sequence in used:
            conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


def make_settings(database_url: str, **overrides: object) -> CloudSettings:
    values: dict[str, object] = {
        "database_url": database_url,
        "jwt_secret": new_key() + new_key(),
        "data_keys": f"k1:{new_key()}",
        "blind_index_key": new_key(),
        "audit_chain_keys": f"a1:{new_key()}",
    }
    values.update(overrides)
    return CloudSettings(_env_file=None, **values)  # type: ignore[arg-type,call-arg]


def cloud_env(settings: CloudSettings) -> dict[str, str]:
    """The ANCHANG_CLOUD_* variables that give a CLI run or a child process these
    settings' database and keys."""
    return {
        "ANCHANG_CLOUD_DATABASE_URL": settings.database_url,
        "ANCHANG_CLOUD_JWT_SECRET": settings.jwt_secret.get_secret_value(),
        "ANCHANG_CLOUD_DATA_KEYS": settings.data_keys.get_secret_value(),
        "ANCHANG_CLOUD_BLIND_INDEX_KEY": settings.blind_index_key.get_secret_value(),
        "ANCHANG_CLOUD_AUDIT_CHAIN_KEYS": settings.audit_chain_keys.get_secret_value(),
    }


@pytest.fixture(scope="session")
def settings(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> CloudSettings:
    """The cloud's settings: the login throttle on the real Redis, under a key prefix of
    this test session's own (other sessions may share the server); evidence files in a
    folder of the session's."""
    require("Redis", "127.0.0.1", 6379)
    return make_settings(pg_url, redis_url=REDIS_URL,
                         redis_prefix=f"anchang-test-{uuid.uuid4().hex[:10]}:",
                         evidence_dir=str(tmp_path_factory.mktemp("evidence")))


def clear_redis(settings: CloudSettings) -> None:
    """Forget every key under the settings' prefix (login counters, locks)."""
    assert settings.redis_url is not None
    client = redis.Redis.from_url(settings.redis_url)
    keys = list(client.scan_iter(match=settings.redis_prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="session")
def engine(pg_url: str) -> Iterator[Engine]:
    eng = create_engine(pg_url)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine, settings: CloudSettings) -> Iterator[Session]:
    """A session on the real database; every table and the login counters are emptied
    after the test."""
    with Session(engine, expire_on_commit=False) as session:
        yield session
    truncate_all(engine)
    clear_redis(settings)


@pytest.fixture
def client(settings: CloudSettings, db: Session) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


# Broker sign-in against local fakes of WeChat and Aliyun SMS, served over real HTTP.
WX_WEB, WX_MINI = "wx00000000000web1", "wx0000000000mini1"
SMS_KEY_ID = "LTAI5tFakeKeyId"


@pytest.fixture(scope="session")
def fake_wechat() -> Iterator[tuple[FakeWeChat, str]]:
    fake = FakeWeChat(apps={WX_WEB: "web-secret-0123456789", WX_MINI: "mini-secret-0123456789"})
    with serving(fake.app()) as url:
        yield fake, url


# The files that take a worker longest (seconds of one worker, `make test` on a 2-core
# machine, 2026-11-29), handed out first: pytest-xdist gives whole files to workers in
# collection order, and one of these started last kept a worker busy for minutes after
# the other had run out of files.
LONG_FILES = (
    "tests/integration/test_api_fuzz.py",  # 226
    "tests/e2e/test_pwa.py",  # 97
    "tests/e2e/test_console.py",  # 96
    "tests/e2e/test_kiosk.py",  # 94
    "tests/integration/test_sync_link_faults.py",  # 81
    "tests/e2e/test_console_shell.py",  # 80
    "tests/integration/test_edge_to_cloud.py",  # 66
    "tests/e2e/test_console_visits.py",  # 63
    "tests/e2e/test_console_times.py",  # 60
    "tests/integration/test_chaos_short.py",  # 55
    "tests/e2e/test_cameras.py",  # 52
    "tests/e2e/test_pwa_deals.py",  # 52
    "tests/cloud/test_authorization_matrix.py",  # 51
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long files first, each in its own order; the rest as collected."""
    rank = {path: i for i, path in enumerate(LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(rank)))


@pytest.fixture(scope="session")
def fake_sms() -> Iterator[tuple[FakeAliyunSms, str]]:
    fake = FakeAliyunSms(keys={SMS_KEY_ID: "fake-access-key-secret"},
                         sign_names=frozenset({"安畅"}), templates=frozenset({"SMS_100001"}))
    with serving(fake.app()) as url:
        yield fake, url


def signin_settings(settings: CloudSettings, wx_url: str, sms_url: str,
                    **more: object) -> CloudSettings:
    return settings.model_copy(update={
        "login_ip_limit": 1000, "h5_public_url": "https://h5.example.cn/h5/",
        "wechat_open_base": wx_url, "wechat_api_base": wx_url,
        "wechat_appid": WX_WEB, "wechat_secret": SecretStr("web-secret-0123456789"),
        "wechat_mini_appid": WX_MINI, "wechat_mini_secret": SecretStr("mini-secret-0123456789"),
        "sms_provider": "aliyun", "sms_endpoint": sms_url, "sms_access_key_id": SMS_KEY_ID,
        "sms_access_key_secret": SecretStr("fake-access-key-secret"),
        "sms_template_code": "SMS_100001", **more})
