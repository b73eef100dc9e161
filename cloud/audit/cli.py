"""`anchang audit …`: check the audit log's hash chain."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session

from cloud.audit.service import verify_chain
from cloud.db import make_engine
from cloud.settings import CloudSettings

app = typer.Typer(help="安全审计日志", no_args_is_help=True, add_completion=False)


@app.callback()
def main() -> None:
    """安全审计日志工具。"""


@app.command()
def verify(
    from_id: Annotated[
        int | None, typer.Option("--from-id", help="从此编号开始校验（更早的记录已归档时）")
    ] = None,
) -> None:
    """校验审计日志的哈希链：完整则输出 OK 与条数，否则输出第一条被篡改记录的编号并以 1 退出。"""
    settings = CloudSettings()
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            report = verify_chain(session, from_id=from_id)
    finally:
        engine.dispose()
    if report.ok:
        typer.echo(f"OK：审计日志哈希链完整，共校验 {report.checked} 条")
        return
    typer.echo(
        f"BROKEN：编号 {report.first_bad_id} 的审计记录校验失败：{report.reason}；"
        f"在它之前的 {report.checked} 条完整",
        err=True,
    )
    raise typer.Exit(1)
