"""`anchang db backup` and `anchang db restore`: the cloud's database to a file and back.

A backup is two files side by side: the dump (PostgreSQL custom format, or for the
embedded SQLite backend a copy made with SQLite's online backup API) and a manifest
`<same name>.json` with its sha256, the migration revision and the head of every audit
chain shard at backup time. Both are written under a `.partial` name and renamed when complete, the
manifest last: a manifest present means its dump is whole.

A restore puts the database back as it was, so the appliances' view is ahead of it:
events they had acked are gone, down-feed offsets they passed will be handed out again.
The restore therefore starts a new down-feed generation (the appliances resync), and the
sync's status answer, which tells each appliance the cloud's real position, makes them
resend what the cloud lost (docs/sync-protocol.md §12).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.audit.chain import VerifyReport, chain_shards, verify_chain
from cloud.audit.models import AuditLog
from cloud.db import make_engine
from cloud.migrate import upgrade
from cloud.pgtools import BackupError, find_tool, libpq, pipe, require_at_least, run
from cloud.settings import CloudSettings
from cloud.sync import feed
from shared.timeutil import iso, utcnow

FORMAT = "anchang-backup/1"

# Everything of ours lives in schema public. A dump from an older revision lacks the
# tables a newer migration added, and `pg_restore --clean` drops only what the dump
# holds: those would stay and the upgrade after the restore would fail on them. So the
# restore empties the schema first, in the same transaction as the restore itself.
CLEAR_PUBLIC = """
DO $clear$
DECLARE r record;
BEGIN
  FOR r IN SELECT format('DROP %s IF EXISTS public.%I CASCADE',
      CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                     WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
                     ELSE 'TABLE' END, c.relname) AS stmt
    FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
     AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  LOOP EXECUTE r.stmt; END LOOP;
  FOR r IN SELECT format('DROP FUNCTION IF EXISTS %s CASCADE', p.oid::regprocedure) AS stmt
    FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
  LOOP EXECUTE r.stmt; END LOOP;
  FOR r IN SELECT format('DROP TYPE IF EXISTS public.%I CASCADE', t.typname) AS stmt
    FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace
     AND t.typtype IN ('e', 'd', 'r')
  LOOP EXECUTE r.stmt; END LOOP;
END
$clear$;
"""


@dataclass(frozen=True)
class BackupResult:
    dump: Path
    manifest: Path
    data: dict[str, Any]
    audited: bool  # False: the database predates this release's audit log (not migrated)


@dataclass(frozen=True)
class RestoreResult:
    manifest: dict[str, Any]
    chain: VerifyReport
    missing_heads: list[int]  # shards whose head in the manifest is gone or changed
    sites: int  # sites whose down-feed got a new generation

    @property
    def head_found(self) -> bool:
        return not self.missing_heads

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.head_found


def manifest_path(dump: Path) -> Path:
    return dump.with_suffix(".json")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(partial: Path, target: Path) -> None:
    """Make `partial` durable, then give it its real name (and make the name durable)."""
    _fsync(partial)
    partial.replace(target)
    _fsync(target.parent)


def _private_file(path: Path) -> None:
    # Created 0600 before the tool writes into it: a dump holds every customer record.
    os.close(os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600))


def _database_state(engine: Engine) -> tuple[str, list[dict[str, Any]]]:
    """The migration revision and each audit shard's newest row. Every shard, not the
    newest row of all: a chain verifies just as well with its newest rows cut off, so a
    restore could lose one shard's tail unseen while another shard's head is intact."""
    sharded = "shard" in {c["name"] for c in inspect(engine).get_columns("audit_log")}
    with Session(engine) as session:
        revisions = session.connection().execute(
            text("SELECT version_num FROM alembic_version ORDER BY version_num")).scalars().all()
        # The columns named only: a database of an older release may lack newer ones,
        # and before ADR 0059 its one chain is shard 0.
        heads: list[dict[str, Any]] = []
        for shard in chain_shards(session) if sharded else [0]:
            query = select(AuditLog.id, AuditLog.hash).order_by(col(AuditLog.id).desc())
            if sharded:
                query = query.where(AuditLog.shard == shard)
            head = session.exec(query.limit(1)).first()
            if head is not None:
                heads.append({"shard": shard, "id": head[0], "hash": head[1]})
    return ",".join(revisions), heads


def _newest(heads: list[dict[str, Any]]) -> dict[str, Any]:
    """The manifest's `audit_head` (format 1's one head, which older releases read)."""
    newest = max(heads, key=lambda h: int(h["id"]), default=None)
    return {"id": newest["id"], "hash": newest["hash"]} if newest else {"id": 0, "hash": None}


def _missing_heads(session: Session, data: dict[str, Any]) -> list[int]:
    """The shards whose manifest head is not in the restored log as it was backed up;
    a manifest of an older release names one head, its newest row of all."""
    heads = data.get("audit_heads")
    if heads is None:
        head = data.get("audit_head") or {}
        heads = [{"shard": 0, **head}] if head.get("id") else []
    missing: list[int] = []
    for head in heads:
        row = session.get(AuditLog, head["id"])
        if row is None or row.hash != head["hash"]:
            missing.append(int(head["shard"]))
    return missing


def _sqlite_path(database_url: str) -> Path:
    name = make_url(database_url).database
    if not name or name == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份或恢复")
    return Path(name)


def _server_major(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def backup(settings: CloudSettings, out_dir: Path, *, actor: str = "cli") -> BackupResult:
    """Dump the configured database into `out_dir`; audited as `db.backup`."""
    url = settings.database_url
    engine = make_engine(url)
    try:
        postgres = engine.dialect.name == "postgresql"
        tools: dict[str, str] = {"anchang": version("anchang")}
        if postgres:
            pg_dump = find_tool("pg_dump")
            server = _server_major(engine)
            require_at_least(pg_dump, server, "数据库服务器")
            tools |= {"pg_dump": pg_dump.version, "server_major": str(server)}
        else:
            source = _sqlite_path(url)
            tools["sqlite"] = sqlite3.sqlite_version
        # Read before the dump starts: the dump's snapshot is later, so it holds this head.
        revision, heads = _database_state(engine)
        now = utcnow()
        database = make_url(url).database or ""
        stem = f"anchang-{Path(database).stem}-{now:%Y%m%dT%H%M%SZ}"
        out_dir.mkdir(parents=True, exist_ok=True)
        dump = out_dir / f"{stem}.{'dump' if postgres else 'sqlite3'}"
        partial = dump.with_name(dump.name + ".partial")
        _private_file(partial)
        try:
            if postgres:
                uri, env = libpq(url)
                run([pg_dump.path, "--format=custom", "--no-password", f"--file={partial}",
                     f"--dbname={uri}"], env, "pg_dump")
            else:
                with closing(sqlite3.connect(source)) as src, \
                        closing(sqlite3.connect(partial)) as dst:
                    src.backup(dst)
            _publish(partial, dump)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        newest = _newest(heads)
        data: dict[str, Any] = {
            "format": FORMAT, "created_at": iso(now),
            "backend": "postgresql" if postgres else "sqlite", "database": database,
            "revision": revision, "audit_head": newest, "audit_heads": heads,
            "file": dump.name,
            "size": dump.stat().st_size, "sha256": sha256_of(dump), "tools": tools,
        }
        manifest = manifest_path(dump)
        partial = manifest.with_name(manifest.name + ".partial")
        _private_file(partial)
        partial.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        _publish(partial, manifest)
        # A backup taken before `db upgrade` (as one should) finds the log of the release
        # before: this release's rows cannot join its chain (ADR 0059's shards).
        audited = "shard" in {c["name"] for c in inspect(engine).get_columns("audit_log")}
        if audited:
            with Session(engine) as session:
                audit_service.record(session, action="db.backup", actor=actor,
                                     object_type="database", object_id=database[-64:],
                                     detail={"file": dump.name, "sha256": data["sha256"],
                                             "audit_head_id": newest["id"],
                                             "audit_shards": len(heads)})
                session.commit()
        return BackupResult(dump, manifest, data, audited)
    finally:
        engine.dispose()


def check_backup(dump: Path) -> dict[str, Any]:
    """The manifest beside `dump`, once the dump's sha256 matches it."""
    manifest = manifest_path(dump)
    if not dump.is_file():
        raise BackupError(f"备份文件不存在：{dump}")
    try:
        data: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(f"缺少备份清单 {manifest}：无法确认备份完整，拒绝恢复") from exc
    except ValueError as exc:
        raise BackupError(f"备份清单 {manifest} 不是有效的 JSON") from exc
    if data.get("format") != FORMAT:
        raise BackupError(f"不认识的备份清单格式：{data.get('format')!r}")
    if sha256_of(dump) != data.get("sha256"):
        raise BackupError(f"备份文件 {dump.name} 的 SHA-256 与清单不符：文件已损坏或被篡改，"
                          "拒绝恢复")
    return data


def _other_connections(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")).scalar_one())


def _restore_postgres(engine: Engine, url: str, dump: Path, data: dict[str, Any]) -> None:
    others = _other_connections(engine)
    engine.dispose()
    if others:
        # Dropping tables waits for every open transaction on them: with the API or a
        # consumer still running the restore would hang, or they would write into it.
        raise BackupError(f"还有 {others} 个连接在使用该数据库：请先停止 API、同步消费者"
                          "（anchang sync run）和 Celery worker，再恢复")
    pg_restore, psql = find_tool("pg_restore"), find_tool("psql")
    dumped_with = int(str(data.get("tools", {}).get("pg_dump", "0")).split(".")[0])
    require_at_least(pg_restore, dumped_with, "生成备份的 pg_dump")
    require_at_least(psql, pg_restore.major, "pg_restore")
    uri, env = libpq(url)
    # One transaction for emptying and refilling: a failure leaves the database as it was.
    pipe([pg_restore.path, "--file=-", str(dump)],
         [psql.path, "--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1",
          "--single-transaction", f"--command={CLEAR_PUBLIC}", "--file=-",
          f"--dbname={uri}"], env, "pg_restore")


def _restore_sqlite(url: str, dump: Path) -> None:
    # The backup API copies every page under the target's write lock: no partial file,
    # and tables a newer revision added do not survive (the copy replaces the schema too).
    with closing(sqlite3.connect(f"file:{dump}?mode=ro", uri=True)) as src, \
            closing(sqlite3.connect(_sqlite_path(url), timeout=10)) as dst:
        src.backup(dst)


def restore(settings: CloudSettings, dump: Path, *, actor: str = "cli") -> RestoreResult:
    """Replace the configured database with the backup `dump`, migrate it to head, start
    a new down-feed generation, verify the audit chain and audit `db.restore`."""
    data = check_backup(dump)
    url = settings.database_url
    engine = make_engine(url)
    backend = "postgresql" if engine.dialect.name == "postgresql" else "sqlite"
    if data.get("backend") != backend:
        engine.dispose()
        raise BackupError(f"这是 {data.get('backend')} 的备份，当前数据库是 {backend}")
    if backend == "postgresql":
        _restore_postgres(engine, url, dump, data)
    else:
        engine.dispose()
        _restore_sqlite(url, dump)
    # A backup taken by an older release is brought to this release's schema.
    upgrade(url, cipher=settings.cipher)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            missing = _missing_heads(session, data)
            chain = verify_chain(session, keys=settings.chain_keys)
            sites = feed.new_generation(session, actor=actor)
            audit_service.record(
                session, action="db.restore", actor=actor,
                result="success" if chain.ok and not missing else "failure",
                object_type="database", object_id=(make_url(url).database or "")[-64:],
                detail={"file": dump.name, "sha256": data["sha256"],
                        "backup_created_at": data.get("created_at"),
                        "backup_revision": data.get("revision"), "chain_ok": chain.ok,
                        "chain_checked": chain.checked, "audit_head_found": not missing,
                        "audit_heads_missing": missing,
                        "new_generation_sites": sites})
            session.commit()
    finally:
        engine.dispose()
    return RestoreResult(data, chain, missing, sites)
