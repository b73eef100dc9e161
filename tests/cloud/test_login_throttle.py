"""Login abuse (baseline: identity): limits per source and per account in the real Redis,
locks per account+source that an anonymous attacker cannot stretch over a real user,
the same answers for names that exist and names that do not, and X-Forwarded-For
believed only from the configured proxies."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from cloud.identity.throttle import Limits, LoginThrottle, MemoryCounters
from cloud.main import create_app
from cloud.settings import CloudSettings
from shared.errors import AppError
from tests.cloud import PASSWORD, audit_rows, login, make_user, problem
from tests.cloud.throttle import expire_locks
from tests.conftest import make_settings
from tests.services import port_open

ATTACKER = "198.51.100.66"
OFFICE = "203.0.113.10"


def _app_at(settings: CloudSettings, ip: str) -> TestClient:
    return TestClient(create_app(settings), client=(ip, 40000))


@pytest.fixture
def attacker(settings: CloudSettings, db: Session) -> Iterator[TestClient]:
    with _app_at(settings, ATTACKER) as client:
        yield client


@pytest.fixture
def office(settings: CloudSettings, db: Session) -> Iterator[TestClient]:
    with _app_at(settings, OFFICE) as client:
        yield client


def _answer(response: httpx.Response) -> tuple[int, str, str, int | None]:
    body = problem(response)
    wait = response.headers.get("Retry-After")
    # To the ten seconds: the two runs are a moment apart, and the lock's clock runs.
    return (response.status_code, body["code"], body["detail"],
            None if wait is None else (int(wait) + 5) // 10)


def test_an_attacker_locks_the_account_only_for_themselves(
    attacker: TestClient, office: TestClient, db: Session, settings: CloudSettings
) -> None:
    make_user(db, "li.consultant", roles=["consultant"])
    assert login(office, "li.consultant").status_code == 200

    for _ in range(settings.lockout_threshold):
        login(attacker, "li.consultant", "Bad#guess00")

    assert problem(login(attacker, "li.consultant"))["code"] == "account_locked"
    # The real user, from their own source, is not locked out.
    assert login(office, "li.consultant").status_code == 200


def test_repeated_locks_from_one_source_grow_longer(
    attacker: TestClient, db: Session, settings: CloudSettings
) -> None:
    make_user(db, "zhou.consultant", roles=["consultant"])
    waits = []
    for _ in range(3):
        for _ in range(settings.lockout_threshold):
            last = login(attacker, "zhou.consultant", "Bad#guess00")
        waits.append(int(last.headers["Retry-After"]))
        assert expire_locks(settings) == 1

    base = settings.lockout_minutes * 60
    assert waits == [base, 2 * base, 4 * base]


def test_an_unknown_name_and_a_locked_account_get_the_same_answers(
    attacker: TestClient, db: Session, settings: CloudSettings
) -> None:
    make_user(db, "real.user", roles=["consultant"])

    def run(name: str) -> list[tuple[int, str, str, int | None]]:
        return [_answer(login(attacker, name, "Bad#guess00"))
                for _ in range(settings.lockout_threshold + 2)]

    real, unknown = run("real.user"), run("ghost.user")

    assert real == unknown
    assert real[-1][:2] == (429, "account_locked")
    assert real[0][:2] == (401, "invalid_credentials")


def test_failures_from_unknown_sources_add_up_but_spare_known_ones(
    settings: CloudSettings, db: Session
) -> None:
    tight = settings.model_copy(update={"login_account_limit": 3})
    make_user(db, "wu.manager", roles=["sales_manager"])
    with _app_at(tight, OFFICE) as office:
        assert login(office, "wu.manager").status_code == 200
        # A botnet: each source stays under the lockout, together they pass the limit.
        for i in range(3):
            with _app_at(tight, f"192.0.2.{i + 1}") as bot:
                assert problem(login(bot, "wu.manager", "Bad#guess00"))["code"] == (
                    "invalid_credentials")
        with _app_at(tight, "192.0.2.99") as bot:
            refused = login(bot, "wu.manager", PASSWORD)  # even the right password
            assert (refused.status_code, problem(refused)["code"]) == (429, "account_locked")
            assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
        assert login(office, "wu.manager").status_code == 200


def test_one_source_is_rate_limited_across_names(settings: CloudSettings, db: Session) -> None:
    tight = settings.model_copy(update={"login_ip_limit": 3, "login_ip_window_seconds": 60})
    with _app_at(tight, ATTACKER) as client:
        answers = [login(client, f"spray{i}.user", "Bad#guess00") for i in range(4)]

    assert [r.status_code for r in answers] == [401, 401, 401, 429]
    assert problem(answers[-1])["code"] == "login_rate_limited"
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60


def test_counters_are_shared_by_every_api_process(
    settings: CloudSettings, db: Session
) -> None:
    """Two app instances stand for two processes behind one balancer: a lock set through
    one holds in the other, which only a shared store (Redis) gives."""
    make_user(db, "he.consultant", roles=["consultant"])
    with _app_at(settings, ATTACKER) as first, _app_at(settings, ATTACKER) as second:
        for i in range(settings.lockout_threshold):
            login(first if i % 2 else second, "he.consultant", "Bad#guess00")
        assert problem(login(first, "he.consultant"))["code"] == "account_locked"
        assert problem(login(second, "he.consultant"))["code"] == "account_locked"


def test_redis_out_of_reach_refuses_logins(settings: CloudSettings, db: Session) -> None:
    assert not port_open("127.0.0.1", 1)
    broken = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    make_user(db, "ma.consultant", roles=["consultant"])
    with _app_at(broken, OFFICE) as client:
        response = login(client, "ma.consultant")

    assert (response.status_code, problem(response)["code"]) == (503, "unavailable")


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(
    settings: CloudSettings, db: Session
) -> None:
    behind = settings.model_copy(update={"trusted_proxies": ["10.0.0.0/24"]})
    forged = {"X-Forwarded-For": "192.0.2.200"}
    with _app_at(behind, "10.0.0.5") as via_proxy, _app_at(behind, ATTACKER) as direct:
        via_proxy.post("/api/v1/auth/login", headers=forged,
                       json={"username": "nobody.one", "password": "Bad#guess00"})
        direct.post("/api/v1/auth/login", headers=forged,
                    json={"username": "nobody.two", "password": "Bad#guess00"})

    rows = {r.actor: r.ip for r in audit_rows(db, "auth.login")}
    assert rows == {"nobody.one": "192.0.2.200", "nobody.two": ATTACKER}


def test_a_proxy_setting_that_is_not_an_address_is_refused(settings: CloudSettings) -> None:
    make_settings(settings.database_url, trusted_proxies=["10.0.0.0/8"])
    with pytest.raises(ValueError, match="nginx"):
        make_settings(settings.database_url, trusted_proxies=["nginx"])


def test_the_demo_keeps_the_same_rules_in_process() -> None:
    limits = Limits(lockout_threshold=2, lockout_seconds=60, lockout_max_seconds=3600,
                    ip_limit=100, ip_window=60, account_limit=100, account_window=60,
                    known_source_ttl=3600)
    throttle = LoginThrottle(MemoryCounters(), limits, "demo:")

    assert throttle.failed("a", "1.1.1.1") is None
    assert throttle.failed("a", "1.1.1.1") == 60
    with pytest.raises(AppError) as info:
        throttle.admit("a", "1.1.1.1")
    assert (info.value.code, info.value.retry_after) == ("account_locked", 60)
    throttle.admit("a", "2.2.2.2")  # another source is not locked
    throttle.release("a")
    throttle.admit("a", "1.1.1.1")
