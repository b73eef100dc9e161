"""The API load benchmark's users (Locust, headless; run by tests/bench/api_load.py).

The plan — tokens, customers, the edge's address — comes from the JSON file named by
ANCHANG_BENCH_PLAN, written by the benchmark after seeding. Users think between actions
(ANCHANG_BENCH_THINK seconds, 0 for a closed loop). A 503 is recorded as a failure named
"shed": the benchmark tells deliberate sheds from real errors by that name.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from locust import between, constant, task
from locust.contrib.fasthttp import FastHttpUser

from tests.consent import consent_body

PLAN: dict[str, Any] = json.loads(open(os.environ["ANCHANG_BENCH_PLAN"]).read())  # noqa: SIM115
THINK = float(os.environ.get("ANCHANG_BENCH_THINK", "0"))
# Each benchmark writes the plan its users need; the others' keys are absent.
_consultants = itertools.cycle(PLAN.get("consultants", []))
_hq = itertools.cycle(PLAN.get("hq_tokens", []))
_brokers = itertools.cycle(PLAN.get("broker_tokens", []))
_sellers = itertools.cycle(PLAN.get("sellers", []))


def _wait() -> Any:
    return between(THINK / 2, THINK * 1.5) if THINK else constant(0)


class _ApiUser(FastHttpUser):
    abstract = True
    host = PLAN["api_url"]
    wait_time = _wait()
    # Keep-alive as browsers do; one connection per user.
    concurrency = 1
    token = ""

    def get(self, path: str, name: str, token: str | None = None) -> Any:
        with self.client.get(path, name=name, headers={"Authorization": token or self.token},
                             catch_response=True) as response:
            _judge(response)
            return response

    def post(self, path: str, name: str, body: dict[str, Any], key: str) -> None:
        with self.client.post(path, name=name, json=body, catch_response=True,
                              headers={"Authorization": self.token, "Idempotency-Key": key}
                              ) as response:
            _judge(response)


def _judge(response: Any) -> None:
    if response.status_code == 503:
        response.failure("shed")
    elif response.status_code >= 400:
        response.failure(f"HTTP {response.status_code}")
    else:
        response.success()


class HqUser(_ApiUser):
    """Headquarters: lists across every site, page walks, searches by phone."""

    weight = 2

    def on_start(self) -> None:
        self.token = "Bearer " + next(_hq)
        self.cursor: str | None = None

    @task(4)
    def visits_first_page(self) -> None:
        response = self.get("/api/v1/visits?limit=20", "visits (HQ, first page)")
        if response.status_code == 200:
            self.cursor = response.json().get("next_cursor")

    @task(2)
    def visits_next_page(self) -> None:
        if not self.cursor:
            return
        response = self.get(f"/api/v1/visits?limit=20&cursor={quote(self.cursor)}",
                            "visits (HQ, next page)")
        if response.status_code == 200:
            self.cursor = response.json().get("next_cursor")

    @task(2)
    def visits_of_a_site(self) -> None:
        site = random.choice(PLAN["site_ids"])
        self.get(f"/api/v1/visits?limit=20&site_id={site}", "visits (HQ, one site)")

    @task(2)
    def search_phone(self) -> None:
        phone = f"13{random.randint(0, 999_999_999):09d}"
        self.get(f"/api/v1/customers?phone={phone}", "customers by phone")

    @task(1)
    def me(self) -> None:
        self.get("/api/v1/auth/me", "auth/me")


class ConsultantUser(_ApiUser):
    """A consultant: the site's visits, a customer's follow-ups and timeline, a new
    follow-up now and then."""

    weight = 5

    def on_start(self) -> None:
        me = next(_consultants)
        self.token = "Bearer " + me["token"]
        self.customers: list[int] = me["customers"]

    @task(3)
    def site_visits(self) -> None:
        self.get("/api/v1/visits?limit=20", "visits (consultant)")

    @task(2)
    def follow_ups(self) -> None:
        customer = random.choice(self.customers)
        self.get(f"/api/v1/follow-ups?customer_id={customer}", "follow-ups of a customer")

    @task(2)
    def timeline(self) -> None:
        customer = random.choice(self.customers)
        self.get(f"/api/v1/customers/{customer}/timeline", "customer timeline")

    @task(1)
    def write_follow_up(self) -> None:
        key = str(uuid.uuid4())
        now = datetime.now(UTC)
        self.post("/api/v1/follow-ups", "follow-up create", {
            "id": key, "customer_id": random.choice(self.customers), "kind": "call",
            "reached": True, "note": "压测：电话回访",
            "occurred_at": (now - timedelta(minutes=1)).isoformat(),
            "next_at": (now + timedelta(days=2)).isoformat()}, key)


class KioskUser(FastHttpUser):
    """The lobby kiosk: registrations on the edge appliance, which syncs them to the cloud
    through Mosquitto and the sync consumer."""

    weight = 1
    host = PLAN.get("edge_url", "")
    wait_time = _wait()

    @task
    def register(self) -> None:
        key = str(uuid.uuid4())
        phone = f"147{random.randint(0, 99_999_999):08d}"
        with self.client.post("/api/v1/kiosk/visits", name="kiosk registration (edge)",
                              json={"phone": phone, "name": "压测", "party_size": 2,
                                    "consent": consent_body()},
                              headers={"Authorization": "Bearer " + PLAN["kiosk_token"],
                                       "Idempotency-Key": key},
                              catch_response=True) as response:
            _judge(response)


class ListReader(_ApiUser):
    """Only the list endpoints, as HQ and consultants page through them: the list target
    at a million visits, apart from the rest of the mix."""

    weight = 1

    def on_start(self) -> None:
        me = next(_consultants)
        self.consultant = "Bearer " + me["token"]
        self.customers: list[int] = me["customers"]
        self.token = "Bearer " + next(_hq)
        self.cursor: str | None = None

    @task(2)
    def hq_first_page(self) -> None:
        response = self.get("/api/v1/visits?limit=20", "visits (HQ, first page)")
        if response.status_code == 200:
            self.cursor = response.json().get("next_cursor")

    @task(1)
    def hq_next_page(self) -> None:
        if self.cursor:
            self.get(f"/api/v1/visits?limit=20&cursor={quote(self.cursor)}",
                     "visits (HQ, next page)")

    @task(1)
    def hq_one_site(self) -> None:
        site = random.choice(PLAN["site_ids"])
        self.get(f"/api/v1/visits?limit=20&site_id={site}", "visits (HQ, one site)")

    @task(2)
    def consultant_visits(self) -> None:
        self.get("/api/v1/visits?limit=20", "visits (consultant)", self.consultant)

    @task(2)
    def follow_ups(self) -> None:
        customer = random.choice(self.customers)
        self.get(f"/api/v1/follow-ups?customer_id={customer}", "follow-ups of a customer",
                 self.consultant)


class AuthenticatedReader(_ApiUser):
    """One signed-in indexed read, the counterpart of BareReader."""

    weight = 1

    def on_start(self) -> None:
        self.token = "Bearer " + next(_hq)

    @task
    def read(self) -> None:
        customer = random.randint(PLAN["first_customer"], PLAN["last_customer"])
        self.get(f"/api/v1/customers/{customer}", "customer by id (signed in)")


class BareReader(FastHttpUser):
    """The same indexed read on the bare stack."""

    weight = 1
    host = PLAN.get("bare_url", "")
    wait_time = constant(0)

    @task
    def read(self) -> None:
        customer = random.randint(PLAN["first_customer"], PLAN["last_customer"])
        self.client.get(f"/bare/customers/{customer}", name="customer by id (bare)")


class BrokerReferrer(_ApiUser):
    """A broker submitting referrals (报备): mostly new numbers, some already customers of
    the project, some that another broker referred first."""

    weight = 1

    def on_start(self) -> None:
        self.token = "Bearer " + next(_brokers)

    @task
    def refer(self) -> None:
        key = str(uuid.uuid4())
        self.post("/api/v1/channel/referrals", "referral", {
            "project_id": PLAN["project_id"], "phone": _referred_phone(), "name": "压测客户",
        }, key)


class BareReferrer(FastHttpUser):
    """The same referral's irreducible work on the bare stack."""

    weight = 1
    host = PLAN.get("bare_url", "")
    wait_time = constant(0)

    @task
    def refer(self) -> None:
        self.client.post("/bare/referrals", name="referral (bare)",
                         json={"project_id": PLAN["project_id"], "phone": _referred_phone()})



def _referred_phone() -> str:
    """1 in 10 a seeded customer's number, 1 in 10 from a small pool brokers compete for,
    the rest new numbers."""
    draw = random.random()
    if draw < 0.1:
        return f"139{random.randint(0, PLAN['known_phones'] - 1):08d}"
    if draw < 0.2:
        return f"158{random.randint(0, 4_999):08d}"
    return f"15{random.randint(0, 999_999_999):09d}"


class _SalesUser(_ApiUser):
    abstract = True

    def on_start(self) -> None:
        me = next(_sellers)
        self.token = "Bearer " + me["token"]
        self.project: int = me["project_id"]
        self.phones: list[str] = me["phones"]
        self.etag: str = me["grid_etag"]



class CustomerSearcher(_SalesUser):
    """客户查询 by phone in the caller's scope: half the numbers are their site's customers,
    half nobody's."""

    @task
    def search(self) -> None:
        phone = (random.choice(self.phones) if random.random() < 0.5
                 else f"13{random.randint(0, 999_999_999):09d}")
        self.get(f"/api/v1/customers?phone={phone}", "customer search by phone")


class GridWatcher(_SalesUser):
    """The live 销控表 as an open console page keeps it: a poll with the ETag it holds (304
    while nothing changed). The page's first load is GridLoader's workload; here every
    user starts with the ETag the benchmark read, as from a page opened before the run —
    a hundred first loads at once would measure the opening, not the poll."""

    @task
    def poll(self) -> None:
        with self.client.get(f"/api/v1/inventory/projects/{self.project}/grid",
                             name="grid poll (If-None-Match)", catch_response=True,
                             headers={"Authorization": self.token,
                                      "If-None-Match": self.etag}) as response:
            if response.status_code == 200:
                self.etag = response.headers.get("ETag", "")
                response.success()
            elif response.status_code == 304:
                response.success()
            else:
                _judge(response)


class GridLoader(_SalesUser):
    """The whole 销控表 of a project, as a page opening it loads it."""

    @task
    def load(self) -> None:
        self.get(f"/api/v1/inventory/projects/{self.project}/grid", "grid full load")
