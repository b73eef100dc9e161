"""`anchang audit …`: check the audit log's hash chains and their exported heads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from cloud.audit.chain import check_heads, verify_chain
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
    heads: Annotated[
        Path | None, typer.Option("--heads", help="每日导出的链头文件目录（默认 AUDIT_HEAD_DIR）")
    ] = None,
) -> None:
    """校验审计日志的各条哈希链、签名检查点和导出的链头。

    完整则输出 OK 与条数，否则输出第一处问题并以 1 退出。
    """
    settings = CloudSettings()
    folder = heads if heads is not None else Path(settings.audit_head_dir)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            report = verify_chain(session, keys=settings.chain_keys, from_id=from_id)
            heads_report = check_heads(session, folder, settings.chain_keys)
    finally:
        engine.dispose()
    if not report.ok:
        typer.echo(
            f"BROKEN：编号 {report.first_bad_id} 的审计记录校验失败"
            f"（第 {report.shard} 条链）：{report.reason}；在它之前校验的 {report.checked} 条完整",
            err=True,
        )
        raise typer.Exit(1)
    if not heads_report.ok:
        typer.echo(f"BROKEN：链头文件 {heads_report.bad_file} 校验失败：{heads_report.reason}",
                   err=True)
        raise typer.Exit(1)
    typer.echo(f"OK：审计日志哈希链完整，共校验 {report.checked} 条；"
               f"{folder} 中的 {heads_report.checked} 个链头文件一致")
