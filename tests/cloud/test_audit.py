"""The audit log: hash chain, append-only trigger, tamper detection, concurrent appends,
search, the audit administrator's API and the verify CLI — on the real PostgreSQL."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select
from typer.testing import CliRunner

from cloud.audit import queries as audit_queries
from cloud.audit import service as audit_service
from cloud.audit.chain import VerifyReport, chain_hash, genesis_hash, verify_chain
from cloud.audit.cli import app as audit_cli
from cloud.audit.models import AuditLog
from cloud.audit.queries import AuditFilter
from cloud.audit.service import AuditEntry
from cloud.identity.principal import Principal
from cloud.settings import CloudSettings
from shared.timeutil import SHANGHAI
from tests.cloud import audit_rows, make_user, problem, signed_in
from tests.conftest import cloud_env

HQ = Principal(
    user_id=7, username="hq.li", display_name="李总", roles=frozenset({"hq_manager"}),
    permissions=frozenset(), site_ids=None, ip="198.51.100.4",
)


def _append(db: Session, count: int, action: str = "visit.synced") -> list[AuditEntry]:
    rows = [
        audit_service.record(db, action=action, actor="site:site-a", object_type="visit",
                             object_id=f"v{i}", detail={"n": i})
        for i in range(count)
    ]
    db.commit()
    return rows


def _attack(engine: Engine, sql: str, **params: object) -> None:
    """What a database superuser can do: switch the triggers off and rewrite history."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(sql), params)


def _cli_env(settings: CloudSettings) -> dict[str, str]:
    return {
        **cloud_env(settings),
    }


def test_rows_chain_from_the_genesis_hash(db: Session) -> None:
    first = audit_service.record(db, action="customer.unmask", principal=HQ,
                                 object_type="customer", object_id="42",
                                 detail={"field": "phone"})
    second = audit_service.record(db, action="user.create", actor="cli")
    db.commit()

    # One transaction, one shard: its rows chain to each other.
    assert first.prev_hash == genesis_hash(first.shard)
    assert (second.prev_hash, second.shard) == (first.hash, first.shard)
    assert (first.actor, first.actor_id, first.ip) == ("hq.li", 7, "198.51.100.4")
    assert (second.actor, second.actor_id, second.ip) == ("cli", None, None)
    assert verify_chain(db, keys={}) == VerifyReport(ok=True, checked=2)


def test_record_refuses_an_unknown_result(db: Session) -> None:
    with pytest.raises(ValueError, match="result"):
        audit_service.record(db, action="auth.login", result="ok")


def test_phone_numbers_never_reach_the_log(db: Session, engine: Engine) -> None:
    entry = audit_service.record(
        db, action="customer.update", actor="13912345678", object_id="13812345678",
        detail={"phone": "13812345678", "note": "客户 +86 138-1234-5678 来电",
                "numbers": [15900001111], "nested": {"raw": "0086 13700002222"}},
    )
    db.commit()

    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT actor || object_id || detail::text FROM audit_log WHERE id = :id"),
            {"id": entry.id},
        ).scalar_one()
    for digits in ("13812345678", "1234-5678", "15900001111", "13700002222", "13912345678"):
        assert digits not in stored
    assert entry.detail["phone"] == "138****5678"
    assert entry.detail["note"] == "客户 138****5678 来电"
    assert entry.detail["numbers"] == ["159****1111"]
    assert entry.object_id == "138****5678"
    assert verify_chain(db, keys={}).ok


def test_ids_and_hashes_are_not_mistaken_for_phone_numbers(db: Session) -> None:
    visit_id = "e5b1a3c2-1b2c-4d3e-8f90-a13812345678"
    digest = "13812345678abcdef" * 2
    entry = audit_service.record(db, action="visit.synced", object_type="visit",
                                 object_id=visit_id, detail={"digest": digest, "seq": 1390})
    assert (entry.object_id, entry.detail) == (visit_id, {"digest": digest, "seq": 1390})


def test_the_trigger_refuses_update_delete_and_truncate(db: Session, engine: Engine) -> None:
    [entry] = _append(db, 1)
    for sql in (
        "UPDATE audit_log SET result = 'failure' WHERE id = :id",
        "DELETE FROM audit_log WHERE id = :id",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql), {"id": entry.id})
    db.rollback()
    assert db.exec(select(AuditLog.result)).all() == ["success"]


def test_an_edited_row_is_found(db: Session, engine: Engine) -> None:
    rows = _append(db, 5)
    victim = rows[2]

    _attack(engine, """UPDATE audit_log SET detail = '{"n": 999}' WHERE id = :id""", id=victim.id)

    report = verify_chain(db, keys={})
    assert (report.ok, report.first_bad_id, report.checked) == (False, victim.id, 2)
    assert report.reason is not None and "被修改" in report.reason


def test_an_edited_and_rehashed_row_breaks_the_next_link(db: Session, engine: Engine) -> None:
    rows = _append(db, 4)
    victim = rows[1]
    forged = dict(asdict(victim), detail={"n": 1000})
    new_hash = chain_hash(victim.prev_hash, forged)

    _attack(engine, """UPDATE audit_log SET detail = '{"n": 1000}', hash = :h WHERE id = :id""",
            h=new_hash, id=victim.id)

    report = verify_chain(db, keys={})
    assert (report.ok, report.first_bad_id) == (False, rows[2].id)


def test_a_deleted_row_is_found(db: Session, engine: Engine) -> None:
    rows = _append(db, 4)

    _attack(engine, "DELETE FROM audit_log WHERE id = :id", id=rows[1].id)

    report = verify_chain(db, keys={})
    assert (report.ok, report.first_bad_id) == (False, rows[2].id)
    assert report.reason is not None and "被删除" in report.reason


def test_search_filters_and_pages_newest_first(db: Session) -> None:
    audit_service.record(db, action="auth.login", actor="a.user", result="failure")
    audit_service.record(db, action="auth.logout", actor="a.user")
    audit_service.record(db, action="authz.custom", actor="b.user")
    audit_service.record(db, action="user.create", actor="b.user", object_type="user",
                         object_id="5")
    db.commit()

    def actions(**kwargs: object) -> list[str]:
        page = audit_queries.search(db, filters=AuditFilter(**kwargs))  # type: ignore[arg-type]
        return [r.action for r in page.items]

    assert actions(action_prefix="auth.") == ["auth.logout", "auth.login"]
    assert actions(actor="b.user") == ["user.create", "authz.custom"]
    assert actions(result="failure") == ["auth.login"]
    assert actions(object_type="user", object_id="5") == ["user.create"]
    assert actions(since=datetime.now(UTC) + timedelta(minutes=1)) == []
    assert len(actions(until=datetime.now(UTC) + timedelta(minutes=1))) == 4

    first = audit_queries.search(db, filters=AuditFilter(), limit=3)
    rest = audit_queries.search(db, filters=AuditFilter(), cursor=first.next_cursor, limit=3)
    assert [r.action for r in first.items] == ["user.create", "authz.custom", "auth.logout"]
    assert [r.action for r in rest.items] == ["auth.login"]
    assert rest.next_cursor is None


def test_only_audit_admins_read_and_their_reading_is_audited(
    client: TestClient, db: Session
) -> None:
    make_user(db, "aud.admin", roles=["audit_admin"])
    make_user(db, "hq.boss", roles=["sys_admin"], scope_all=True)
    boss = signed_in(client, "hq.boss")
    auditor = signed_in(client, "aud.admin")

    refused = client.get("/api/v1/audit/logs", headers=boss)
    assert refused.status_code == 403
    assert problem(refused)["code"] == "forbidden"
    assert client.get("/api/v1/audit/logs/export", headers=boss).status_code == 403

    first = client.get("/api/v1/audit/logs", headers=auditor, params={"action": "auth.login"})
    assert first.status_code == 200, first.text
    assert {r["action"] for r in first.json()["items"]} == {"auth.login"}
    [read] = audit_rows(db, "audit.read")
    assert read.actor == "aud.admin"
    assert read.detail["filters"] == {"action_prefix": "auth.login"}
    assert read.detail["count"] == 2
    newest = client.get("/api/v1/audit/logs", headers=auditor, params={"limit": 1}).json()
    assert newest["items"][0]["action"] == "audit.read"
    assert newest["next_cursor"] is not None


def test_export_is_excel_ready_csv_in_beijing_time_and_audited(
    client: TestClient, db: Session
) -> None:
    make_user(db, "aud.admin", roles=["audit_admin"])
    hostile = audit_service.record(db, action="auth.login", result="failure",
                                   actor="=HYPERLINK(\"http://x\")", ip="192.0.2.1",
                                   detail={"reason": "unknown_user"})
    db.commit()
    auditor = signed_in(client, "aud.admin")

    response = client.get("/api/v1/audit/logs/export", headers=auditor,
                          params={"action": "auth.login", "result": "failure"})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "时间（北京时间）", "操作人"]
    [line] = rows[1:]
    assert line[0] == str(hostile.id)
    assert line[1] == hostile.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    assert line[2] == "'=HYPERLINK(\"http://x\")"  # neutralised for Excel
    assert line[8] == "失败"
    [export] = audit_rows(db, "audit.export")
    assert (export.actor, export.detail["count"]) == ("aud.admin", 1)


def test_naive_filter_times_mean_beijing_time(client: TestClient, db: Session) -> None:
    make_user(db, "aud.admin", roles=["audit_admin"])
    auditor = signed_in(client, "aud.admin")
    [login_row] = audit_rows(db, "auth.login")
    local = login_row.at.astimezone(SHANGHAI).replace(tzinfo=None)

    before = client.get("/api/v1/audit/logs", headers=auditor, params={
        "action": "auth.login", "to": (local - timedelta(seconds=1)).isoformat()})
    after = client.get("/api/v1/audit/logs", headers=auditor, params={
        "action": "auth.login", "from": (local - timedelta(seconds=1)).isoformat()})

    assert before.json()["items"] == []
    assert [r["id"] for r in after.json()["items"]] == [login_row.id]


def test_verify_cli_reports_ok_then_the_broken_row(
    db: Session, engine: Engine, settings: CloudSettings
) -> None:
    rows = _append(db, 3)
    runner = CliRunner()

    ok = runner.invoke(audit_cli, ["verify"], env=_cli_env(settings))
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("OK")
    assert "3 条" in ok.output

    _attack(engine, "UPDATE audit_log SET actor = 'someone.else' WHERE id = :id", id=rows[1].id)
    broken = runner.invoke(audit_cli, ["verify"], env=_cli_env(settings))
    assert broken.exit_code == 1
    assert f"编号 {rows[1].id} 的审计记录校验失败" in broken.output
    assert "被修改" in broken.output
