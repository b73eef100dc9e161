"""The audit chain under attack: concurrent appenders on both backends cannot fork it, a
consistent rewrite without the key fails the signed checkpoints, and exported heads catch
cut-off newest rows (`anchang audit verify --heads`)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cloud.audit import service as audit_service
from cloud.audit.chain import CHECKPOINT_ACTION, HASHED, chain_hash, verify_chain
from cloud.audit.cli import app as audit_cli
from cloud.audit.models import AuditLog
from cloud.audit.tasks import export_head
from cloud.db import make_engine
from cloud.migrate import upgrade
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.conftest import cloud_env, make_settings


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """Each backend as deployed: SQLite through the app's own engine (WAL, busy timeout)."""
    if request.param == "postgresql":
        request.getfixturevalue("db")  # empties the tables afterwards
        yield request.getfixturevalue("engine")
        return
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_concurrent_appenders_never_fork_the_chain(any_engine: Engine) -> None:
    threads_n, per_thread = 6, 20
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def appender(worker: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with Session(any_engine) as session:
                    # A read first, as a request does: the parent must still be re-read
                    # under the write lock.
                    session.exec(select(AuditLog.id).limit(1)).all()
                    audit_service.record(session, action="visit.synced",
                                         actor=f"site:s{worker}", object_id=str(i))
                    session.commit()
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=appender, args=(w,)) for w in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    with Session(any_engine) as session:
        parents = session.exec(select(AuditLog.prev_hash)).all()
        assert len(parents) == len(set(parents)) == threads_n * per_thread
        report = verify_chain(session, keys={})
    assert (report.ok, report.checked) == (True, threads_n * per_thread)


def test_text_of_every_kind_hashes_alike_on_both_sides(any_engine: Engine) -> None:
    """On PostgreSQL one row is chained by the database in its insert (ADR 0063): its
    sum must be Python's for any text a detail can hold."""
    texts = ["案场 · 渠道报备", "😀 emoji", 'quote " and \\ backslash', "line\nbreak\ttab",
             "NUL-free \u2028 separator", "日本語とEnglish", ""]
    with Session(any_engine) as session:
        for i, value in enumerate(texts):
            entry = audit_service.record(session, action="test.text", actor="测试员",
                                         object_id=str(i), detail={"备注": value, "n": i},
                                         immediate=True)
            assert entry.hash == chain_hash(entry.prev_hash, {
                name: getattr(entry, name) for name in HASHED})
            session.commit()
        assert verify_chain(session, keys={}).ok


def test_many_rows_of_one_transaction_chain_in_order_and_read_back_as_hashed(
        any_engine: Engine) -> None:
    """On PostgreSQL a transaction's rows (a group of read audits, ADR 0064) are chained
    by the database in one insert: each from the one before, in the order recorded."""
    texts = ["案场 · 渠道报备", "😀 emoji", 'quote " and \\ backslash', "line\nbreak\ttab", ""]
    with Session(any_engine) as session:
        entries = [audit_service.record(
            session, action="test.rows", actor="测试员" if i % 2 else "cli",
            actor_id=None if i % 2 else i, ip=None if i % 3 else "10.0.0.1",
            object_id=str(i), detail={"备注": value, "n": i, "nested": {"list": [i, None]}})
            for i, value in enumerate(texts)]
        session.commit()
        assert [e.id for e in entries] == sorted(e.id for e in entries)  # type: ignore[type-var]
        for before, entry in itertools.pairwise(entries):
            assert entry.prev_hash == before.hash
        for entry in entries:
            assert entry.hash == chain_hash(entry.prev_hash, {
                name: getattr(entry, name) for name in HASHED})
            stored = session.get(AuditLog, entry.id)
            assert stored is not None and stored.detail == entry.detail
            assert (stored.actor, stored.ip, stored.hash) == (entry.actor, entry.ip, entry.hash)
        assert verify_chain(session, keys={}).ok


def test_a_second_child_of_one_parent_is_refused(any_engine: Engine) -> None:
    with Session(any_engine) as session:
        first = audit_service.record(session, action="user.create", actor="cli")
        session.commit()
        fork = AuditLog(at=utcnow(), actor="cli", action="user.update", detail={},
                        prev_hash=first.prev_hash, hash="f" * 64)
        session.add(fork)
        with pytest.raises(IntegrityError):
            session.commit()


def _append(session: Session, count: int) -> None:
    for i in range(count):
        audit_service.record(session, action="visit.synced", actor="site:site-a",
                             object_id=f"v{i}")
    session.commit()


def _rewrite(engine: Engine, *, drop_checkpoints: bool) -> None:
    """What someone with the database but not the key can do: change history and recompute
    every hash of every shard so the plain chains verify again."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        if drop_checkpoints:
            conn.execute(text("DELETE FROM audit_log WHERE action = :a"), {"a": CHECKPOINT_ACTION})
        conn.execute(text("UPDATE audit_log SET actor = 'someone.else' "
                          "WHERE id = (SELECT min(id) FROM audit_log)"))
    with Session(engine) as session:
        rows = session.exec(select(AuditLog).order_by(col(AuditLog.id))).all()
        fields = [({n: getattr(r, n) for n in HASHED}, r.id, r.shard, r.prev_hash) for r in rows]
    prev: dict[int, str] = {}
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for values, row_id, shard, prev_hash in fields:
            parent = prev.setdefault(shard, prev_hash)
            new = chain_hash(parent, values)
            conn.execute(text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :i"),
                         {"p": parent, "h": new, "i": row_id})
            prev[shard] = new


def test_a_consistent_rewrite_fails_the_signed_checkpoint(
    db: Session, engine: Engine, settings: CloudSettings, tmp_path: Path
) -> None:
    _append(db, 4)
    export_head(db, make_settings(settings.database_url, audit_head_dir=str(tmp_path),
                                  audit_chain_keys=settings.audit_chain_keys.get_secret_value()))
    db.commit()
    _append(db, 2)
    assert verify_chain(db, keys=settings.chain_keys).ok
    # Days later every row is still behind the checkpoint, or after it and young.
    later = utcnow() + timedelta(days=1)
    assert verify_chain(db, keys=settings.chain_keys, now=later).ok

    _rewrite(engine, drop_checkpoints=False)
    db.rollback()
    assert verify_chain(db, keys={}).ok is False  # the checkpoint names the old parent
    report = verify_chain(db, keys=settings.chain_keys)
    assert report.ok is False
    assert report.reason is not None and "签名检查点无效" in report.reason


def test_dropping_the_checkpoints_leaves_old_rows_uncovered(
    db: Session, engine: Engine, settings: CloudSettings, tmp_path: Path
) -> None:
    _append(db, 3)
    export_head(db, make_settings(settings.database_url, audit_head_dir=str(tmp_path),
                                  audit_chain_keys=settings.audit_chain_keys.get_secret_value()))
    db.commit()
    _rewrite(engine, drop_checkpoints=True)
    db.rollback()

    # The plain chain verifies: only the missing checkpoint gives the rewrite away.
    assert verify_chain(db, keys=settings.chain_keys).ok
    report = verify_chain(db, keys=settings.chain_keys, now=utcnow() + timedelta(days=3))
    assert report.ok is False
    assert report.reason is not None and "没有被签名检查点覆盖" in report.reason


def _cli_env(settings: CloudSettings) -> dict[str, str]:
    return {
        **cloud_env(settings),
    }


@pytest.fixture
def exported(db: Session, settings: CloudSettings, tmp_path: Path) -> Path:
    """Rows, a checkpoint and its head file, then more rows."""
    heads = tmp_path / "heads"
    _append(db, 3)
    export_head(db, make_settings(settings.database_url, audit_head_dir=str(heads),
                                  audit_chain_keys=settings.audit_chain_keys.get_secret_value()))
    db.commit()
    _append(db, 2)
    return heads


def test_verify_heads_passes_on_an_intact_log(exported: Path, settings: CloudSettings) -> None:
    result = CliRunner().invoke(audit_cli, ["verify", "--heads", str(exported)],
                                env=_cli_env(settings))
    assert result.exit_code == 0, result.output
    assert "共校验 6 条" in result.output and "1 个链头文件一致" in result.output


def test_verify_heads_finds_the_newest_rows_cut_off(
    exported: Path, engine: Engine, settings: CloudSettings
) -> None:
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("DELETE FROM audit_log WHERE id >= (SELECT min(id) FROM audit_log "
                          "WHERE action = :a)"), {"a": CHECKPOINT_ACTION})

    result = CliRunner().invoke(audit_cli, ["verify", "--heads", str(exported)],
                                env=_cli_env(settings))
    assert result.exit_code == 1
    assert "最新的记录被截断" in result.output


def test_verify_heads_finds_a_whole_chain_rewritten(
    exported: Path, engine: Engine, settings: CloudSettings
) -> None:
    _rewrite(engine, drop_checkpoints=True)

    result = CliRunner().invoke(audit_cli, ["verify", "--heads", str(exported)],
                                env=_cli_env(settings))
    assert result.exit_code == 1
    assert "链头" in result.output


def test_a_forged_head_file_is_refused(exported: Path, settings: CloudSettings) -> None:
    [head] = exported.glob("audit-head-*.json")
    head.write_text(head.read_text().replace('"mac": "', '"mac": "0'))

    result = CliRunner().invoke(audit_cli, ["verify", "--heads", str(exported)],
                                env=_cli_env(settings))
    assert result.exit_code == 1
    assert "签名无效" in result.output


def test_an_unreadable_head_file_is_reported(exported: Path, settings: CloudSettings) -> None:
    (exported / "audit-head-20260101.json").write_text("[1, 2")

    result = CliRunner().invoke(audit_cli, ["verify", "--heads", str(exported)],
                                env=_cli_env(settings))
    assert result.exit_code == 1
    assert "无法读取" in result.output
