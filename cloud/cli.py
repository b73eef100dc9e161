"""`anchang`: the operator's command line for the cloud."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from sqlmodel import Session

from cloud.audit.cli import app as audit_app
from cloud.channel.cli import app as channel_app
from cloud.db import make_engine
from cloud.identity.cli import app as admin_app
from cloud.migrate import upgrade
from cloud.serving import BACKLOG, KEEP_ALIVE_SECONDS, connection_budget, default_workers
from cloud.settings import CloudSettings
from cloud.sync import identity, provision
from cloud.sync.credentials import mosquitto_conf
from cloud.sync.models import SiteLink
from cloud.sync.tls import make_ca_and_server_cert
from shared.envelope import ProtocolError
from shared.errors import AppError
from shared.http import UVICORN_LOGGING

app = typer.Typer(help="Anchang 云端运维命令", no_args_is_help=True)
app.add_typer(admin_app, name="admin", help="管理员账号")
app.add_typer(audit_app, name="audit", help="审计日志")
app.add_typer(channel_app, name="channel", help="渠道：报备与判客")
db_app = typer.Typer(help="数据库", no_args_is_help=True)
site_app = typer.Typer(help="案场与边缘设备凭据", no_args_is_help=True)
broker_app = typer.Typer(help="MQTT broker 配置", no_args_is_help=True)
sync_app = typer.Typer(help="边缘同步", no_args_is_help=True)
for sub, name in ((db_app, "db"), (site_app, "site"), (broker_app, "broker"), (sync_app, "sync")):
    app.add_typer(sub, name=name)

console = Console(stderr=True)


def _settings() -> CloudSettings:
    return CloudSettings()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """把数据库迁移到最新版本（Alembic）。"""
    settings = _settings()
    upgrade(settings.database_url, cipher=settings.cipher)
    console.print("数据库已迁移到最新版本")


@db_app.command("backup")
def db_backup(
    out: Annotated[Path, typer.Option(help="备份目录（之后请复制到异地）")] = Path("backups"),
) -> None:
    """备份数据库（PostgreSQL 用 pg_dump 自定义格式；SQLite 用在线备份），并写出清单。"""
    from cloud.backup import backup
    from cloud.pgtools import BackupError

    try:
        result = backup(_settings(), out)
    except BackupError as exc:
        console.print(f"[red]备份失败：{exc}[/red]")
        raise typer.Exit(2) from exc
    heads = "；".join(f"分片 {h['shard']} #{h['id']} {h['hash'][:16]}…"
                     for h in result.data["audit_heads"]) or "（空）"
    console.print(f"备份：{result.dump}\n清单：{result.manifest}\n"
                  f"SHA-256：{result.data['sha256']}\n迁移版本：{result.data['revision']}\n"
                  f"审计链头：{heads}")
    if not result.audited:
        console.print("[yellow]数据库尚未迁移到本版本（anchang db upgrade），"
                      "本次备份未记入审计日志[/yellow]")


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="备份文件（同名 .json 清单须在旁边）")],
    yes: Annotated[bool, typer.Option("--yes", help="确认用备份替换当前数据库")] = False,
) -> None:
    """用备份替换数据库：校验清单、恢复、迁移到最新版本、开始新的下行变更代、校验审计链。"""
    from cloud.backup import check_backup, restore
    from cloud.pgtools import BackupError

    try:
        data = check_backup(file)
        if not yes:
            console.print(f"备份完整（{data['created_at']}，迁移版本 {data['revision']}）。"
                          "恢复会用它替换当前数据库，之后写入的数据将丢失；"
                          "确认请加 --yes 重新执行")
            raise typer.Exit(1)
        result = restore(_settings(), file)
    except BackupError as exc:
        console.print(f"[red]恢复失败：{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"已恢复 {file.name}（备份于 {data['created_at']}），并迁移到最新版本")
    console.print(f"已为 {result.sites} 个案场开始新的下行变更代；边缘设备将重同步并补发"
                  "数据库已丢失的上行事件")
    if not result.head_found:
        shards = "、".join(str(s) for s in result.missing_heads)
        console.print(f"[red]BROKEN：备份清单记录的审计链头（分片 {shards}）"
                      "不在恢复后的数据库中，或已被改动[/red]")
    if result.chain.ok:
        console.print(f"OK：审计日志哈希链完整，共校验 {result.chain.checked} 条")
    else:
        console.print(f"[red]BROKEN：编号 {result.chain.first_bad_id} 的审计记录校验失败："
                      f"{result.chain.reason}[/red]")
    if not result.ok:
        raise typer.Exit(1)


@db_app.command("grant-app-role")
def db_grant_app_role(
    role: Annotated[str, typer.Option(help="应用连接数据库所用的角色（须已存在）")],
) -> None:
    """给应用角色授权：审计日志只可查询和追加（PostgreSQL）。"""
    from cloud.grants import grant_app_role

    engine = make_engine(_settings().database_url)
    if engine.dialect.name != "postgresql":
        console.print("仅适用于 PostgreSQL")
        raise typer.Exit(2)
    for statement in grant_app_role(engine, role):
        console.print(statement)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)


def _issue_env_file(
    out: Path, site_id: str, mqtt_host: str, mqtt_port: int, tls_ca: str | None,
    issue: Callable[[Session, CloudSettings], provision.SiteCredentials],
) -> Path:
    """Issue credentials in one transaction and write the appliance's env file (0600)."""
    settings = _settings()
    with Session(make_engine(settings.database_url)) as session:
        try:
            creds = issue(session, settings)
        except AppError as exc:
            console.print(f"错误：{exc.detail}")
            raise typer.Exit(1) from exc
        session.commit()
    env = out / f"{site_id}.edge.env"
    _write_private(env, creds.edge_env(mqtt_host=mqtt_host, mqtt_port=mqtt_port, tls_ca=tls_ca))
    return env


@site_app.command("create")
def site_create(
    site_id: Annotated[str, typer.Option("--id", help="案场代码，如 sh-xuhui")],
    name: Annotated[str, typer.Option(help="案场名称")],
    project: Annotated[list[str], typer.Option(help="项目名称，可多次指定")],
    out: Annotated[Path, typer.Option(help="写出边缘设备 edge.env 的目录")],
    mqtt_host: str = "127.0.0.1",
    mqtt_port: int = 8883,
    tls_ca: str | None = None,
) -> None:
    """创建案场、项目和设备凭据，并写出边缘设备的 edge.env。"""
    env = _issue_env_file(
        out, site_id, mqtt_host, mqtt_port, tls_ca,
        lambda session, settings: provision.provision_site(
            session, settings=settings, site_id=site_id, name=name, projects=project),
    )
    console.print(f"案场 {site_id} 已创建；设备配置写入 {env}（仅此一份，请妥善保管）")
    console.print("请运行 `anchang broker files` 重新生成 broker 的密码与 ACL 文件")


@site_app.command("rotate-credentials")
def site_rotate(
    site_id: Annotated[str, typer.Argument(help="案场代码")],
    out: Annotated[Path, typer.Option(help="写出新 edge.env 的目录")],
    mqtt_host: str = "127.0.0.1",
    mqtt_port: int = 8883,
    tls_ca: str | None = None,
) -> None:
    """为案场换发签名密钥与 MQTT 密码。"""
    env = _issue_env_file(
        out, site_id, mqtt_host, mqtt_port, tls_ca,
        lambda session, settings: provision.issue_credentials(
            session, settings=settings, site_id=site_id),
    )
    console.print(f"新凭据写入 {env}；请重新生成并下发 broker 文件")


@broker_app.command("files")
def broker_files(
    out: Annotated[Path, typer.Option(help="写出 passwd、acl 与 mosquitto.conf 的目录")],
    port: Annotated[int, typer.Option(help="监听端口")] = 8883,
    bind: Annotated[str, typer.Option(help="监听地址")] = "0.0.0.0",  # noqa: S104
    tls_dir: Annotated[Path | None, typer.Option(help="含 ca.crt/server.crt/server.key")] = None,
    persistence_dir: Annotated[str, typer.Option(help="持久化目录")] = "/var/lib/mosquitto",
) -> None:
    """为 Mosquitto 生成密码文件、ACL 与配置：每个案场只能读写自己的主题。"""
    settings = _settings()
    if settings.mqtt_password is None:
        console.print("需要设置 ANCHANG_CLOUD_MQTT_PASSWORD（云端连接 broker 的密码）")
        raise typer.Exit(2)
    with Session(make_engine(settings.database_url)) as session:
        files = provision.broker_files_for(
            session, cloud_password=settings.mqtt_password.get_secret_value()
        )
    _write_private(out / "passwd", files.passwd)
    _write_private(out / "acl", files.acl)
    tls = None
    if tls_dir is not None:
        tls = (str(tls_dir / "ca.crt"), str(tls_dir / "server.crt"), str(tls_dir / "server.key"))
    conf = mosquitto_conf(port=port, bind=bind, passwd_path=str(out / "passwd"),
                          acl_path=str(out / "acl"), persistence_dir=persistence_dir,
                          tls=tls)
    (out / "mosquitto.conf").write_text(conf)
    console.print(f"已写出 {out / 'passwd'}、{out / 'acl'} 与 {out / 'mosquitto.conf'}；"
                  "向运行中的 Mosquitto 发送 SIGHUP 即可重新加载密码与 ACL")


@broker_app.command("tls")
def broker_tls(
    out: Annotated[Path, typer.Option(help="证书目录")],
    host: Annotated[list[str], typer.Option(help="broker 的主机名或 IP")] = ["127.0.0.1"],  # noqa: B006
) -> None:
    """生成私有 CA 与 broker 服务器证书（无企业 PKI 时使用）。"""
    ca, cert, key = make_ca_and_server_cert(out, host)
    console.print(f"CA: {ca}\n证书: {cert}\n私钥: {key}")


@sync_app.command("run")
def sync_run(
    client_id: Annotated[str | None, typer.Option(help="MQTT 客户端 ID；多实例时各不相同")] = None,
    metrics_port: Annotated[int | None, typer.Option(help="Prometheus 指标端口")] = None,
) -> None:
    """单独运行同步消费者（可多实例，配合 MQTT 5 共享订阅）。"""
    import signal
    import threading

    from cloud.audit import service as audit_service
    from cloud.sync.consumer import SyncConsumer
    from shared.logs import configure_logging
    from shared.longlived import freeze_startup_objects

    configure_logging("cloud-sync")
    settings = _settings()
    audit_service.configure(shards=settings.audit_chain_shards)
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr="127.0.0.1")
    consumer = SyncConsumer(settings, make_engine(settings.database_url), client_id=client_id)
    freeze_startup_objects()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    consumer.start()
    stop.wait()
    consumer.stop()


def _on_link(site_id: str, change: Callable[[Session, SiteLink], None]) -> None:
    from cloud.sync.service import lock_link

    settings = _settings()
    try:
        with Session(make_engine(settings.database_url)) as session:
            change(session, lock_link(session, site_id))
            session.commit()
    except ProtocolError as exc:
        console.print(f"[red]案场 {site_id} 没有边缘设备凭据（{exc.reason}）[/red]")
        raise typer.Exit(1) from exc
    except AppError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc


@site_app.command("re-enrol")
def site_reenrol(site_id: Annotated[str, typer.Argument(help="案场代码")]) -> None:
    """允许案场设备以新的身份（epoch）接入：重装或从备份恢复的设备，在此之前其数据会被拒收。"""
    _on_link(site_id, lambda session, link: identity.allow_reenrol(session, link, actor="cli"))
    console.print(f"已允许 {site_id} 的下一台新设备身份接入；设备下次上报状态时生效（审计已记录）")


@site_app.command("resolve-twin")
def site_resolve_twin(
    site_id: Annotated[str, typer.Argument(help="案场代码")],
    keep: Annotated[str, typer.Option(help="保留的设备实例 id（控制台“案场设备”页可查）")],
) -> None:
    """两台设备使用同一案场凭据时，选定保留哪一台；另一台的数据继续被拒收，请将其关机。"""
    _on_link(site_id, lambda session, link: identity.resolve_twin(
        session, link, keep, actor="cli"))
    console.print(f"已保留实例 {keep}；请关闭另一台设备")


@sync_app.command("new-generation")
def sync_new_generation() -> None:
    """数据库从备份恢复后执行：下行变更开始新的一代，所有案场设备将全量重同步。"""
    from cloud.sync import feed

    settings = _settings()
    with Session(make_engine(settings.database_url)) as session:
        count = feed.new_generation(session, actor="cli")
        session.commit()
    console.print(f"已为 {count} 个案场开始新的下行变更代")


@sync_app.command("prune-feed")
def sync_prune() -> None:
    """清理超过保留期的下行变更；游标落后的设备会收到全量重同步。"""
    from cloud.sync import feed

    settings = _settings()
    with Session(make_engine(settings.database_url)) as session:
        removed = feed.prune(session, retention_days=settings.down_feed_retention_days)
        session.commit()
    console.print(f"已清理 {removed} 条")


@app.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int | None, typer.Option(help="进程数，默认每个 CPU 核一个")] = None,
) -> None:
    """运行云端 API。"""
    settings = _settings()
    count = workers or default_workers()
    if count > 1 and settings.sync_enabled:
        # Each worker would run a consumer under the same MQTT client id.
        console.print("多进程运行时请关闭内置同步（ANCHANG_CLOUD_SYNC_ENABLED=false），"
                      "另行运行 `anchang sync run`")
        raise typer.Exit(2)
    budget = connection_budget(settings, count)
    if budget is not None and not budget.fits:
        console.print(f"数据库连接不够：{count} 个进程最多需要 {budget.needed} 个连接，"
                      f"PostgreSQL 只有 {budget.available} 个可用。请减少进程数或 "
                      "ANCHANG_CLOUD_DB_POOL_SIZE，或经 PgBouncer（事务模式）连接"
                      "（见运维手册“API 容量规划”）")
        raise typer.Exit(2)
    uvicorn.run("cloud.asgi:app", host=host, port=port, workers=count, **UVICORN_LOGGING,
                timeout_keep_alive=KEEP_ALIVE_SECONDS, backlog=BACKLOG,
                # X-Forwarded-For is believed from ANCHANG_CLOUD_TRUSTED_PROXIES only
                # (cloud.main), not from uvicorn's default of 127.0.0.1.
                proxy_headers=False)


@app.command("demo")
def demo(
    data_dir: Annotated[Path, typer.Option(help="演示数据目录")] = Path(".demo"),
    cloud_port: int = 8000,
    edge_port: int = 8100,
    mqtt_port: int = 18830,
    broker: Annotated[str, typer.Option(help="auto | embedded | mosquitto")] = "auto",
) -> None:
    """一条命令运行演示：SQLite 云端、内置 MQTT broker、一台边缘设备、演示数据。"""
    from cloud.demo import run_demo

    sys.exit(run_demo(data_dir=data_dir, cloud_port=cloud_port, edge_port=edge_port,
                      mqtt_port=mqtt_port, broker=broker))


if __name__ == "__main__":
    app()
