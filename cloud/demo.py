"""`make demo`: the whole system on embedded defaults, in one process.

SQLite for the cloud and the edge, Mosquitto if one answers on 127.0.0.1:1883 or else
an in-process amqtt broker, the cloud API with its sync consumer, one edge agent with
its kiosk API, seeded demo data. Secrets are generated once into the data folder: there
are no built-in keys or accounts (cloud.demo_setup makes them and the seed data; this
module runs it all).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlmodel import Session, select

from cloud import demo_channel
from cloud.catalog.models import Project
from cloud.db import make_engine
from cloud.demo_setup import DEMO_PEOPLE, DEMO_SITE, DemoPlan, prepare
from cloud.embedded_broker import EmbeddedBroker
from cloud.jobs.inprocess import run_schedule
from cloud.main import create_app as create_cloud_app
from cloud.sync.credentials import CLOUD_MQTT_USERNAME
from cloud.terminal_qr import print_qr
from edge_agent.cameras import simulated
from edge_agent.faces.assets import AssetError
from edge_agent.main import create_app as create_edge_app
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from shared.consent import CURRENT_NOTICE_VERSION
from shared.http import UVICORN_LOGGING
from shared.timeutil import utcnow

console = Console()

DEMO_VISITORS = [
    ("13812345678", "陈先生", 2, "三房，预算 500 万"),
    ("13987654321", "刘女士", 3, "改善型四房"),
    ("15900001111", "周先生", 1, "投资小户型"),
]


async def _register_demo_visits(edge_url: str, token: str, project_id: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=edge_url, headers=headers, timeout=10) as client:
        consultants: list[dict[str, Any]] = []
        for _ in range(100):  # the roster arrives with the first down-feed batch
            response = await client.get("/api/v1/kiosk/consultants")
            consultants = response.json() if response.status_code == 200 else []
            if consultants:
                break
            await asyncio.sleep(0.2)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("登记演示到访", total=len(DEMO_VISITORS))
            for i, (phone, name, party, intent) in enumerate(DEMO_VISITORS):
                # As the kiosk does: the visitor accepted the current notice just now.
                body = {"project_id": project_id, "phone": phone, "name": name,
                        "party_size": party, "intent": intent,
                        "consultant_id": consultants[i % len(consultants)]["id"]
                        if consultants else None,
                        "consent": {"notice_version": CURRENT_NOTICE_VERSION,
                                    "accepted_at": utcnow().isoformat()}}
                key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo-visit-{phone}"))
                response = await client.post("/api/v1/kiosk/visits", json=body,
                                             headers={"Idempotency-Key": key})
                if response.status_code not in (200, 201):
                    # A refused demo visit should be seen, not leave a console to puzzle over.
                    console.print(f"[yellow]演示到访登记被拒绝：{response.status_code} "
                                  f"{response.text[:200]}[/yellow]")
                progress.advance(task)


@contextlib.asynccontextmanager
async def _simulated_camera(edge_settings: EdgeSettings) -> AsyncIterator[str | None]:
    """The demo's camera: a visitor walking past, served as MJPEG on 127.0.0.1 and
    recorded as a confirmed camera, so the agent reads it with its real capture reader
    and the console shows its health (ADR 0040). Without the face assets (`make install`
    fetches them) the demo runs without it."""
    try:
        scene = await asyncio.to_thread(simulated.lobby_scene)
    except AssetError as exc:
        console.print(f"[yellow]模拟摄像机未启动：{exc}[/yellow]")
        yield None
        return
    password = secrets.token_urlsafe(12)
    source = simulated.MjpegSource(scene, fps=simulated.FPS,
                                   auth=(simulated.SIMULATED_USER, password))
    with simulated.serving_mjpeg(source) as url:
        store = await Store.open(edge_settings.database_path, cipher=edge_settings.cipher)
        try:
            await simulated.install(store, edge_settings, url, password)
        finally:
            await store.close()
        yield url


async def _serve(plan: DemoPlan, cloud_port: int) -> int:
    async with _simulated_camera(plan.edge):
        return await _serve_all(plan, cloud_port)


async def _serve_all(plan: DemoPlan, cloud_port: int) -> int:
    cloud_settings, edge_settings, data_dir = plan.cloud, plan.edge, plan.data_dir
    edge_port, port = edge_settings.port, cloud_settings.mqtt_port
    use_embedded = plan.embedded_broker
    broker = None
    if use_embedded:
        broker = EmbeddedBroker(
            port=port, workdir=data_dir,
            users={CLOUD_MQTT_USERNAME: plan.cloud_mqtt_password,
                   edge_settings.mqtt_username or "": plan.edge_mqtt_password},
            sites={edge_settings.mqtt_username or "": DEMO_SITE},
            cloud_username=CLOUD_MQTT_USERNAME,
        )
        await broker.start()

    servers = [
        uvicorn.Server(uvicorn.Config(create_cloud_app(cloud_settings), host="127.0.0.1",
                                      port=cloud_port, log_level="warning", **UVICORN_LOGGING,
                                      proxy_headers=False)),
        uvicorn.Server(uvicorn.Config(create_edge_app(edge_settings), host="127.0.0.1",
                                      port=edge_port, log_level="warning", **UVICORN_LOGGING)),
    ]
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            console.print("[red]服务启动失败（端口被占用？）[/red]")
            return 1
        await asyncio.sleep(0.1)

    engine = make_engine(cloud_settings.database_url)
    with Session(engine) as session:
        project = session.exec(select(Project).where(Project.site_id == DEMO_SITE)).one()
    engine.dispose()
    assert project.id is not None
    await _register_demo_visits(f"http://127.0.0.1:{edge_port}",
                                edge_settings.kiosk_token.get_secret_value(), project.id)
    _print_banner(cloud_port, edge_port, port, use_embedded, plan.accounts,
                  edge_settings.kiosk_token.get_secret_value(), data_dir)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Scheduled duties (inactive accounts, audit head, retention) eagerly, in this process.
    jobs_engine = make_engine(cloud_settings.database_url)
    tasks.append(asyncio.create_task(run_schedule(cloud_settings, jobs_engine, stop)))
    await stop.wait()
    for server in servers:
        server.should_exit = True
    await asyncio.gather(*tasks, return_exceptions=True)
    jobs_engine.dispose()
    if broker is not None:
        await broker.stop()
    return 0


def kiosk_setup_link(edge_url: str, kiosk_token: str) -> str:
    """Opened once on the tablet, it hands the kiosk its token (then drops it from the URL)."""
    return f"{edge_url}/kiosk/?token={kiosk_token}"


def print_kiosk_setup(console: Console, link: str) -> None:
    """The link on one line of its own, never wrapped into pieces (a terminal narrower than
    the link folds it, but a copy still gets it whole), then as a QR code for the tablet."""
    console.print("前台平板设置链接（在平板浏览器中打开一次，或用平板扫描下方二维码）：")
    console.print(link, soft_wrap=True, highlight=False, markup=False, emoji=False)
    print_qr(console, link)


def _print_banner(cloud_port: int, edge_port: int, mqtt_port: int, embedded: bool,
                  accounts: dict[str, str], kiosk_token: str, data_dir: Path) -> None:
    table = Table(title="Anchang 演示环境已启动", show_lines=False)
    table.add_column("内容")
    table.add_column("地址 / 账号")
    cloud, edge = f"http://127.0.0.1:{cloud_port}", f"http://127.0.0.1:{edge_port}"
    table.add_row("总部控制台（电脑浏览器）", f"{cloud}/console/")
    table.add_row("前台登记（平板，设置链接见下方）", f"{edge}/kiosk/")
    table.add_row("顾问助手 PWA（手机）", f"{edge}/pwa/")
    table.add_row("经纪人 H5（手机）", f"{cloud}/h5/")
    table.add_row("云端 API 文档", f"{cloud}/api/v1/docs")
    table.add_row("案场设备 API 文档", f"{edge}/api/v1/docs")
    table.add_row("云端健康检查", f"{cloud}/readyz")
    kind = "内置 amqtt" if embedded else "Mosquitto"
    table.add_row("MQTT broker", f"127.0.0.1:{mqtt_port}（{kind}）")
    for username, display, roles, _ in DEMO_PEOPLE:
        table.add_row(f"{display}（{'、'.join(roles)}）", f"{username} / {accounts[username]}")
    for username, display, role, *_ in demo_channel.DEMO_CHANNEL_PEOPLE:
        if username in accounts:
            table.add_row(f"{display}（{role}）", f"{username} / {accounts[username]}")
    broker = demo_channel.DEMO_H5_BROKER
    if broker in accounts:
        table.add_row("经纪人 H5 演示登录（手机，账号密码登录）",
                      f"{cloud}/h5/ · {broker} / {accounts[broker]}")
    console.print(table)
    print_kiosk_setup(console, kiosk_setup_link(edge, kiosk_token))
    console.print(f"演示数据目录：{data_dir}（删除它即可重置）。按 Ctrl-C 退出。")
    # A machine-readable line for scripts and the demo's own test.
    console.print(f"DEMO-READY cloud=http://127.0.0.1:{cloud_port} "
                  f"edge=http://127.0.0.1:{edge_port}", soft_wrap=True, highlight=False)


def run_demo(*, data_dir: Path, cloud_port: int, edge_port: int, mqtt_port: int,
             broker: str = "auto") -> int:
    plan = prepare(data_dir, cloud_port, edge_port, mqtt_port, broker)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_serve(plan, cloud_port))
    return 0
