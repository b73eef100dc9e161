"""Saved 多维查询: a user saves a query definition under a name (checked against the
whitelist of dimensions and measures), runs it again (checked again, counted in the
runner's scope at that moment), replaces and deletes it; nobody reaches another's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cloud.channel import saved_queries
from cloud.channel.saved_query_models import SavedQuery
from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud import signed_in
from tests.cloud.analytics_world import FROM, TO, World, build
from tests.cloud.migration_drift import drift

URL = "/api/v1/channel/analytics"
RANGE = {"date_from": FROM.isoformat(), "date_to": TO.isoformat()}
BY_AGENCY = {"dimensions": ["agency"], "measures": ["referrals", "valid"],
             "filters": RANGE, "sort": [{"by": "referrals", "desc": True}]}


@pytest.fixture
def world(db: Session, settings: CloudSettings) -> World:
    return build(db, settings)


@pytest.fixture
def api(settings: CloudSettings, world: World) -> Iterator[TestClient]:
    roomy = settings.model_copy(update={"login_ip_limit": 1000})
    with TestClient(create_app(roomy)) as client:
        yield client


def _put(api: TestClient, user: str, name: str, body: dict[str, Any]) -> httpx.Response:
    response: httpx.Response = api.put(f"{URL}/saved-queries/{quote(name)}",
                                       headers=signed_in(api, user), json=body)
    return response


def _run(api: TestClient, user: str, name: str, **page: int) -> httpx.Response:
    response: httpx.Response = api.post(f"{URL}/saved-queries/{quote(name)}/run",
                                        headers=signed_in(api, user), json=page or None)
    return response


def test_a_saved_query_runs_as_the_same_query_would(api: TestClient, world: World) -> None:
    saved = _put(api, "hqall", "各渠道报备", BY_AGENCY)
    assert saved.status_code == 200, saved.text
    assert saved.json()["name"] == "各渠道报备"
    assert saved.json()["query"]["dimensions"] == ["agency"]
    direct = api.post(f"{URL}/query", headers=signed_in(api, "hqall"), json=BY_AGENCY).json()
    again = _run(api, "hqall", "各渠道报备")
    assert again.status_code == 200, again.text
    assert again.json()["items"] == direct["items"] and direct["items"]
    assert again.json()["total"] == direct["total"]
    paged = _run(api, "hqall", "各渠道报备", page=2, page_size=1).json()
    assert (paged["page"], paged["page_size"], paged["items"]) == (2, 1, direct["items"][1:2])

    # The same name replaces it; the list is the caller's, by name.
    _put(api, "hqall", "各渠道报备", {**BY_AGENCY, "measures": ["referrals"]})
    _put(api, "hqall", "按项目", {"dimensions": ["project"], "measures": ["referrals"]})
    mine = api.get(f"{URL}/saved-queries", headers=signed_in(api, "hqall")).json()
    assert [(q["name"], q["query"]["measures"]) for q in mine] == [
        ("各渠道报备", ["referrals"]), ("按项目", ["referrals"])]
    assert api.delete(f"{URL}/saved-queries/{quote('按项目')}",
                      headers=signed_in(api, "hqall")).status_code == 204
    assert len(api.get(f"{URL}/saved-queries", headers=signed_in(api, "hqall")).json()) == 1


def test_a_run_counts_in_the_runners_scope_and_others_cannot_reach_it(
        api: TestClient, world: World) -> None:
    _put(api, "cm_a", "我的渠道", BY_AGENCY)
    for user in ("cm_b", "hqall"):
        assert _run(api, user, "我的渠道").json()["code"] == "saved_query_not_found"
        gone = api.delete(f"{URL}/saved-queries/{quote('我的渠道')}",
                          headers=signed_in(api, user))
        assert gone.status_code == 404
        assert api.get(f"{URL}/saved-queries", headers=signed_in(api, user)).json() == []
    # The same definition saved by cm_b counts site B's referrals only.
    _put(api, "cm_b", "我的渠道", BY_AGENCY)
    a_rows = _run(api, "cm_a", "我的渠道").json()["items"]
    b_rows = _run(api, "cm_b", "我的渠道").json()["items"]
    assert a_rows != b_rows
    direct_b = api.post(f"{URL}/query", headers=signed_in(api, "cm_b"), json=BY_AGENCY).json()
    assert b_rows == direct_b["items"]
    refused = _put(api, "consult_a", "x", BY_AGENCY)
    assert refused.status_code == 403


def test_only_whitelisted_definitions_are_saved_and_run(
        api: TestClient, world: World, db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    unknown = _put(api, "hqall", "坏的", {"dimensions": ["phone"], "measures": ["referrals"]})
    assert (unknown.status_code, unknown.json()["code"]) == (422, "analytics_dimension_unknown")
    sneaky = _put(api, "hqall", "坏的", {**BY_AGENCY, "sql": "DROP TABLE app_user"})
    assert sneaky.status_code == 422
    bad_name = api.put(f"{URL}/saved-queries/a%01b", headers=signed_in(api, "hqall"),
                       json=BY_AGENCY)
    assert bad_name.status_code in (404, 422)  # a control character never names one
    assert _put(api, "hqall", "x" * 41, BY_AGENCY).status_code == 422
    assert db.exec(select(SavedQuery)).all() == []

    # A definition the whitelist no longer takes is refused at run, with the reason.
    _put(api, "hqall", "旧的", BY_AGENCY)
    row = db.exec(select(SavedQuery)).one()
    row.definition = {**row.definition, "measures": ["commission"]}
    db.add(row)
    db.commit()
    stale = _run(api, "hqall", "旧的")
    assert (stale.status_code, stale.json()["code"]) == (422, "analytics_measure_unknown")
    row.definition = {**row.definition, "unknown_key": 1}
    db.add(row)
    db.commit()
    assert _run(api, "hqall", "旧的").json()["code"] == "saved_query_outdated"

    monkeypatch.setattr(saved_queries, "MAX_SAVED", 2)
    assert _put(api, "hqall", "第二个", BY_AGENCY).status_code == 200
    full = _put(api, "hqall", "第三个", BY_AGENCY)
    assert (full.status_code, full.json()["code"]) == (422, "saved_query_limit")
    assert _put(api, "hqall", "第二个", BY_AGENCY).status_code == 200  # replacing is fine


def test_the_table_is_migrated_as_declared(engine: Any) -> None:
    assert drift(engine, {"channel_saved_query"}) == []
