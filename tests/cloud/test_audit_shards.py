"""The audit log as several hash chains (ADR 0059), on the real PostgreSQL: audited
transactions on different shards commit side by side while one shard still serialises
its own; every shard starts from a genesis of its own; tampering, a row moved to another
shard, a shard's newest rows cut off and a shard rewritten are all found; checkpoints,
head files and retention work shard by shard."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cloud.audit import service as audit_service
from cloud.audit.chain import (
    ARCHIVE_ACTION,
    CHECKPOINT_ACTION,
    HASHED,
    chain_hash,
    check_heads,
    genesis_hash,
    link_mac,
    verify_chain,
)
from cloud.audit.cli import app as audit_cli
from cloud.audit.models import GENESIS_HASH, AuditLog
from cloud.audit.retention import archive_expired
from cloud.audit.service import AuditEntry
from cloud.audit.tasks import export_head
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.conftest import cloud_env, make_settings
from tests.integration.peer import wait_for


def _in_shards(db: Session, counts: dict[int, int]) -> dict[int, list[AuditEntry]]:
    """`counts[k]` rows in shard k, one transaction per shard."""
    rows: dict[int, list[AuditEntry]] = {}
    for shard, count in counts.items():
        rows[shard] = [audit_service.record(db, action="visit.synced", actor="site:a",
                                            object_id=f"{shard}-{i}", shard=shard)
                       for i in range(count)]
        db.commit()
    return rows


def _attack(engine: Engine, sql: str, **params: object) -> None:
    """A database superuser: triggers off, history changed."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(sql), params)


def _heads_settings(settings: CloudSettings, folder: Path) -> CloudSettings:
    return make_settings(settings.database_url, audit_head_dir=str(folder),
                         audit_chain_keys=settings.audit_chain_keys.get_secret_value())


def _waiting_advisory_locks(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )).scalar_one())


def test_transactions_on_different_shards_commit_side_by_side(
    db: Session, engine: Engine
) -> None:
    with Session(engine) as holder, Session(engine) as other:
        # Chained now: the holder keeps its shard's lock, uncommitted, until the end.
        held = audit_service.record(holder, action="test.hold", actor="a", immediate=True)
        # On one chain this commit would wait for the holder, and fail after 5 s.
        other.connection().execute(text("SET LOCAL lock_timeout = '5s'"))
        passed = audit_service.record(other, action="test.pass", actor="b")
        other.commit()

        assert passed.shard != held.shard
        assert db.exec(select(AuditLog.action)).all() == ["test.pass"]
        holder.commit()
    db.rollback()
    assert verify_chain(db, keys={}).ok


def test_one_shard_still_serialises_its_transactions(
    db: Session, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_service._SHARDS, "count", 1)
    done: list[AuditEntry] = []

    def second() -> None:
        with Session(engine) as session:
            entry = audit_service.record(session, action="test.second", actor="b")
            session.commit()
            done.append(entry)

    with Session(engine) as holder:
        held = audit_service.record(holder, action="test.first", actor="a", immediate=True)
        thread = threading.Thread(target=second)
        thread.start()
        wait_for(lambda: _waiting_advisory_locks(engine) == 1, what="the second to wait")
        assert done == []
        holder.commit()
    thread.join(timeout=10)

    [entry] = done
    assert (entry.shard, held.shard) == (0, 0)
    assert entry.prev_hash == held.hash  # after the first, not beside it: no fork


def test_a_busy_process_spreads_its_transactions_over_the_shards(
    db: Session, engine: Engine
) -> None:
    threads_n, per_thread = 8, 10
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def appender(worker: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with Session(engine) as session:
                    audit_service.record(session, action="visit.synced",
                                         actor=f"site:s{worker}", object_id=str(i))
                    audit_service.record(session, action="visit.synced",
                                         actor=f"site:s{worker}", object_id=f"{i}b")
                    session.commit()
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=appender, args=(w,)) for w in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    rows = db.exec(select(AuditLog).order_by(col(AuditLog.id))).all()
    assert len({r.shard for r in rows}) > 1
    # A transaction's two rows are neighbours in one shard.
    pairs: dict[tuple[str, str], list[AuditLog]] = defaultdict(list)
    for r in rows:
        pairs[(r.actor, r.object_id.removesuffix("b"))].append(r)
    assert all(a.shard == b.shard and b.prev_hash == a.hash for a, b in pairs.values())
    report = verify_chain(db, keys={})
    assert (report.ok, report.checked) == (True, threads_n * per_thread * 2)


def test_a_transaction_keeps_one_shard_across_savepoints(db: Session) -> None:
    with db.begin_nested():
        kept = audit_service.record(db, action="test.kept", actor="a")  # chained at once
    with pytest.raises(RuntimeError), db.begin_nested():
        audit_service.record(db, action="test.rolled_back", actor="a")
        raise RuntimeError
    last = audit_service.record(db, action="test.last", actor="a")  # chained at commit
    db.commit()

    assert db.exec(select(AuditLog.action).order_by(col(AuditLog.id))).all() == [
        "test.kept", "test.last"]
    assert (last.shard, last.prev_hash) == (kept.shard, kept.hash)
    assert verify_chain(db, keys={}).ok


def test_each_shard_starts_from_its_own_genesis(db: Session) -> None:
    rows = _in_shards(db, {0: 2, 3: 2, 15: 1})

    assert genesis_hash(0) == GENESIS_HASH
    assert len({genesis_hash(k) for k in range(64)}) == 64
    for shard, entries in rows.items():
        assert entries[0].prev_hash == genesis_hash(shard)
        assert all(e.shard == shard for e in entries)
    # The shard is part of the hash (shard 0's rows hash as the single chain's did).
    moved = {n: getattr(rows[3][0], n) for n in HASHED} | {"shard": 4}
    assert chain_hash(rows[3][0].prev_hash, moved) != rows[3][0].hash
    assert verify_chain(db, keys={}).checked == 5


def test_an_edited_row_is_found_in_its_shard(db: Session, engine: Engine) -> None:
    rows = _in_shards(db, {0: 3, 3: 3})

    _attack(engine, "UPDATE audit_log SET actor = 'x' WHERE id = :id", id=rows[3][1].id)

    report = verify_chain(db, keys={})
    assert (report.ok, report.shard, report.first_bad_id) == (False, 3, rows[3][1].id)
    assert report.checked == 3 + 1  # shard 0 whole, then shard 3 up to the bad row


def test_a_row_moved_to_another_shard_is_found(db: Session, engine: Engine) -> None:
    rows = _in_shards(db, {2: 3, 5: 2})
    newest = rows[2][-1]  # its own shard still verifies without it

    _attack(engine, "UPDATE audit_log SET shard = 5 WHERE id = :id", id=newest.id)

    report = verify_chain(db, keys={})
    assert (report.ok, report.shard, report.first_bad_id) == (False, 5, newest.id)
    assert report.reason is not None and "另一条链" in report.reason


def test_a_row_moved_and_rehashed_fails_the_head_file(
    db: Session, engine: Engine, settings: CloudSettings, tmp_path: Path
) -> None:
    """Moved to the start of an empty shard and re-hashed there, the row verifies: the
    head file, naming it in its old shard, does not."""
    _in_shards(db, {2: 2})
    export_head(db, _heads_settings(settings, tmp_path))
    db.commit()
    head = db.exec(select(AuditLog).where(AuditLog.shard == 2)
                   .order_by(col(AuditLog.id).desc())).first()
    assert head is not None and head.action == CHECKPOINT_ACTION
    fields = {n: getattr(head, n) for n in HASHED} | {"shard": 9}

    _attack(engine, "UPDATE audit_log SET shard = 9, prev_hash = :p, hash = :h WHERE id = :id",
            p=genesis_hash(9), h=chain_hash(genesis_hash(9), fields), id=head.id)

    db.rollback()
    assert verify_chain(db, keys=settings.chain_keys).ok is False  # the checkpoint's link
    heads = check_heads(db, tmp_path, settings.chain_keys)
    assert heads.ok is False and heads.reason is not None and "链头不符" in heads.reason


def test_a_shards_newest_rows_cut_off_after_a_checkpoint_are_found(
    db: Session, engine: Engine, settings: CloudSettings, tmp_path: Path
) -> None:
    _in_shards(db, {0: 2, 4: 3, 7: 1})
    export_head(db, _heads_settings(settings, tmp_path))
    db.commit()
    checkpoints = {r.shard: r.id for r in db.exec(
        select(AuditLog).where(AuditLog.action == CHECKPOINT_ACTION)).all()}
    assert set(checkpoints) == {0, 4, 7}

    _attack(engine, "DELETE FROM audit_log WHERE shard = 4 AND id >= :id", id=checkpoints[4])

    db.rollback()
    assert verify_chain(db, keys=settings.chain_keys).ok  # the plain chains cannot tell
    result = CliRunner().invoke(audit_cli, ["verify", "--heads", str(tmp_path)],
                                env=cloud_env(settings))
    assert result.exit_code == 1
    assert f"链头记录 {checkpoints[4]} 已不在审计日志中（第 4 条链最新的记录被截断）" \
        in result.output


def test_a_whole_shard_deleted_is_found_by_the_head_file(
    db: Session, engine: Engine, settings: CloudSettings, tmp_path: Path
) -> None:
    _in_shards(db, {1: 2, 6: 2})
    export_head(db, _heads_settings(settings, tmp_path))
    db.commit()

    _attack(engine, "DELETE FROM audit_log WHERE shard = 6")

    db.rollback()
    heads = check_heads(db, tmp_path, settings.chain_keys)
    assert heads.ok is False and heads.reason is not None and "第 6 条链" in heads.reason


def test_one_shard_rewritten_without_the_key_fails_its_checkpoint(
    db: Session, engine: Engine, settings: CloudSettings, tmp_path: Path
) -> None:
    _in_shards(db, {0: 2, 5: 3})
    export_head(db, _heads_settings(settings, tmp_path))
    db.commit()
    rows = db.exec(select(AuditLog).where(AuditLog.shard == 5).order_by(col(AuditLog.id))).all()
    prev = genesis_hash(5)
    for row in rows:  # the first row changed, every hash of the shard recomputed
        fields = {n: getattr(row, n) for n in HASHED}
        if row.id == rows[0].id:
            fields["actor"] = "someone.else"
        new = chain_hash(prev, fields)
        _attack(engine, "UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h "
                "WHERE id = :id", a=fields["actor"], p=prev, h=new, id=row.id)
        prev = new

    db.rollback()
    report = verify_chain(db, keys=settings.chain_keys)
    assert (report.ok, report.shard) == (False, 5)
    assert report.reason is not None and "签名检查点无效" in report.reason


def _old(monkeypatch: pytest.MonkeyPatch, days: int) -> Callable[[], None]:
    """Rows stamped `days` ago until the returned function is called."""
    monkeypatch.setattr(audit_service, "utcnow", lambda: utcnow() - timedelta(days=days))
    return lambda: monkeypatch.setattr(audit_service, "utcnow", utcnow)


def test_old_rows_must_lie_behind_a_checkpoint_of_their_own_shard(
    db: Session, engine: Engine, settings: CloudSettings, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    back = _old(monkeypatch, 5)
    _in_shards(db, {1: 2, 4: 2})
    back()
    export_head(db, _heads_settings(settings, tmp_path))
    db.commit()
    assert verify_chain(db, keys=settings.chain_keys).ok

    # Shard 4's checkpoint is its newest row: dropped, its chain still links.
    _attack(engine, "DELETE FROM audit_log WHERE shard = 4 AND action = :a", a=CHECKPOINT_ACTION)

    db.rollback()
    report = verify_chain(db, keys=settings.chain_keys)
    assert (report.ok, report.shard) == (False, 4)
    assert report.reason is not None and "没有被签名检查点覆盖" in report.reason


def test_the_checkpoint_job_signs_every_shard_once_and_skips_idle_ones(
    db: Session, settings: CloudSettings, tmp_path: Path
) -> None:
    _in_shards(db, {0: 1, 2: 2})
    export_head(db, _heads_settings(settings, tmp_path))
    db.commit()
    _in_shards(db, {2: 1})
    summary = export_head(db, _heads_settings(settings, tmp_path))
    db.commit()

    checkpoints = db.exec(select(AuditLog.shard).where(AuditLog.action == CHECKPOINT_ACTION)
                          .order_by(col(AuditLog.id))).all()
    assert checkpoints == [0, 2, 2]  # shard 0 had nothing new the second time
    [file] = tmp_path.glob("audit-head-*.json")
    heads = json.loads(file.read_text())["heads"]
    newest = {r.shard: r for r in db.exec(select(AuditLog).order_by(col(AuditLog.id))).all()}
    assert [(h["shard"], h["id"], h["hash"]) for h in heads] == [
        (k, r.id, r.hash) for k, r in sorted(newest.items())]
    assert summary["shards"] == 2
    assert check_heads(db, tmp_path, settings.chain_keys).ok
    assert verify_chain(db, keys=settings.chain_keys).ok


def test_a_head_file_of_the_single_chain_is_still_checked(
    db: Session, settings: CloudSettings, tmp_path: Path
) -> None:
    [row] = _in_shards(db, {0: 1})[0]
    assert row.id is not None
    key_id, key = next(iter(settings.chain_keys.items()))
    old = {"id": row.id, "hash": row.hash, "key_id": key_id,
           "mac": link_mac(key, row.id, row.hash)}
    (tmp_path / "audit-head-20261120.json").write_text(json.dumps(old))
    assert check_heads(db, tmp_path, settings.chain_keys).ok

    (tmp_path / "audit-head-20261120.json").write_text(json.dumps({**old, "hash": "0" * 64}))
    assert check_heads(db, tmp_path, settings.chain_keys).ok is False


def test_retention_archives_each_shard_on_its_own(
    db: Session, engine: Engine, settings: CloudSettings, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    back = _old(monkeypatch, 200)
    _in_shards(db, {0: 2, 3: 3})
    back()
    young = _in_shards(db, {3: 2, 8: 1})

    summary = archive_expired(db, make_settings(settings.database_url,
                                                audit_archive_dir=str(tmp_path)))
    db.commit()

    assert summary["archived"] == 5
    files = {json.loads(p.read_text("utf-8").splitlines()[0])["shard"]: p
             for p in tmp_path.glob("audit-archive-s*.jsonl")}
    assert sorted(files) == [0, 3]
    header, *lines = (json.loads(line) for line in files[3].read_text("utf-8").splitlines())
    assert [r["object_id"] for r in lines] == ["3-0", "3-1", "3-2"]
    assert {r["shard"] for r in lines} == {3}
    assert header["through_hash"] == young[3][0].prev_hash
    remaining = db.exec(select(AuditLog.shard, AuditLog.action)
                        .order_by(col(AuditLog.id))).all()
    assert sorted(remaining) == [(0, ARCHIVE_ACTION), (3, ARCHIVE_ACTION),
                                 (3, "visit.synced"), (3, "visit.synced"), (8, "visit.synced")]
    assert verify_chain(db, keys=settings.chain_keys).ok

    # One more of shard 3's rows deleted than were archived: its chain breaks there.
    _attack(engine, "DELETE FROM audit_log WHERE id = :id", id=young[3][0].id)
    db.rollback()
    report = verify_chain(db, keys=settings.chain_keys)
    assert (report.ok, report.shard, report.first_bad_id) == (False, 3, young[3][1].id)


def test_pruning_deletes_only_the_named_shards_rows(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    back = _old(monkeypatch, 200)
    _in_shards(db, {0: 2, 3: 2})
    back()

    removed = db.connection().execute(text("SELECT audit_log_prune(3, 9223372036854775807)"))
    assert removed.scalar_one() == 2
    assert db.exec(select(AuditLog.shard)).all() == [0, 0]
