"""`anchang-edge` command line: run the agent, show the sync state of the local database."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.store.db import StoreNotReady
from shared.timeutil import SHANGHAI

app = typer.Typer(help="Anchang 案场边缘节点 (edge agent)", no_args_is_help=True)
console = Console()


@app.command()
def run() -> None:
    """Run the kiosk API and the cloud sync (settings from ANCHANG_EDGE_* variables)."""
    import uvicorn

    from edge_agent.main import create_app
    from shared.http import UVICORN_LOGGING
    from shared.longlived import freeze_startup_objects

    settings = load_settings()
    served = create_app(settings)
    freeze_startup_objects()
    uvicorn.run(served, host=settings.host, port=settings.port, **UVICORN_LOGGING)


def load_settings() -> EdgeSettings:
    """Settings from the environment, or a clear refusal naming what is missing or wrong."""
    try:
        return EdgeSettings()
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"])
            console.print(f"[red]ANCHANG_EDGE_{field.upper()}: {error['msg']}[/red]")
        console.print("The edge agent has no built-in secrets: set the variables above.")
        raise typer.Exit(2) from None


def _when(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if value else "—"


async def _read_backlog(path: Path) -> outbox.Backlog:
    store = await Store.open(path, migrate=False)
    try:
        return await store.read(outbox.backlog)
    finally:
        await store.close()


@app.command()
def status(
    database: Annotated[
        Path | None, typer.Option(help="database file (default: ANCHANG_EDGE_DATABASE_PATH)")
    ] = None,
) -> None:
    """Print the outbox backlog, the last cloud ack and the down-feed cursor."""
    if database is None:
        database = Path(load_settings().database_path)
    try:
        backlog = asyncio.run(_read_backlog(database))
    except StoreNotReady as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    table = Table(title=f"edge sync state — {database}")
    table.add_column("item")
    table.add_column("value", justify="right")
    table.add_row("backlog (unacked events)", str(backlog.count))
    table.add_row("highest seq written", str(backlog.head_seq))
    table.add_row("last acked seq", str(backlog.last_acked_seq))
    table.add_row("last ack at (Asia/Shanghai)", _when(backlog.last_ack_at))
    table.add_row("oldest unacked at", _when(backlog.oldest_created_at))
    skew = backlog.clock_skew_seconds
    table.add_row("clock skew (edge − cloud)", "—" if skew is None else f"{skew:+.1f} s")
    table.add_row("down-feed cursor", str(backlog.down_cursor))
    console.print(table)


if __name__ == "__main__":
    app()
