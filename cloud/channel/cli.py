"""`anchang channel …`: replay an attribution scenario to reproduce a dispute exactly."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from cloud.channel.redecide import redecide_project
from cloud.db import make_engine
from cloud.settings import CloudSettings
from shared.attribution.render import decision_lines, step_lines
from shared.attribution.scenario import check_expectations, load_scenario
from shared.errors import AppError
from shared.timeutil import parse_iso, utcnow

app = typer.Typer(help="渠道：报备与判客", no_args_is_help=True, add_completion=False)


@app.callback()
def main() -> None:
    """渠道工具。"""


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(help="场景文件（JSON，格式见 docs/attribution.md）")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="判到此时刻为止（ISO 8601），默认用文件中的 as_of")
    ] = None,
) -> None:
    """按场景文件重放判客：逐条输出每一步的判定、原因代码与依据，最后输出结论。"""
    when: datetime | None = None
    if as_of is not None:
        try:
            when = parse_iso(as_of)
        except ValueError as exc:
            typer.echo(f"错误：--as-of 不是合法的时间：{as_of}", err=True)
            raise typer.Exit(2) from exc
    try:
        scenario = load_scenario(file)
        decision = scenario.run(when)
    except AppError as exc:
        typer.echo(f"错误：{exc.detail}", err=True)
        raise typer.Exit(2) from exc
    if scenario.title:
        typer.echo(f"场景：{scenario.title}")
    for step in decision.trace:
        for line in step_lines(step):
            typer.echo(line)
    typer.echo("")
    for line in decision_lines(decision):
        typer.echo(line)
    # The expect block describes the file's own as_of; another instant has no expectation.
    problems = check_expectations(scenario, decision) if when is None else []
    if problems:
        for problem in problems:
            typer.echo(f"与预期不符：{problem}", err=True)
        raise typer.Exit(1)



@app.command()
def redecide(
    project_id: Annotated[int, typer.Option("--project-id", min=1, help="项目 id")],
) -> None:
    """按当前时间重新判定项目的有效报备（待确认、有效），输出变化的条数。"""
    settings = CloudSettings()
    with Session(make_engine(settings.database_url)) as session:
        result = redecide_project(session, settings=settings, project_id=project_id,
                                  as_of=utcnow())
        session.commit()
    typer.echo(f"已重新判定 {result.checked} 条报备，{result.changed} 条有变化")
