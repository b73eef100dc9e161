"""`anchang channel replay FILE`: every documented scenario reproduces its expected
decision, and a malformed file gets a clear Chinese message and a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cloud.channel.cli import app as channel_cli
from cloud.cli import app as anchang
from shared.attribution.scenario import load_scenario

SCENARIOS = sorted((Path(__file__).parents[2] / "docs" / "attribution").glob("*.json"))


def test_there_are_documented_scenarios() -> None:
    assert len(SCENARIOS) >= 3


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_documented_scenarios_replay_to_their_expectations(path: Path) -> None:
    result = CliRunner().invoke(anchang, ["channel", "replay", str(path)])
    assert result.exit_code == 0, result.output
    expect = json.loads(path.read_text())["expect"]
    for referral_id, want in expect["referrals"].items():
        assert any(referral_id in line and want["reason"] in line
                   for line in result.output.splitlines()), result.output
    # One printed step, with the owner after it, per trace step, in order.
    steps = [line for line in result.output.splitlines() if line.rstrip().endswith("]")]
    trace = load_scenario(path).run().trace
    assert [line.rsplit("[", 1)[1][:-1] for line in steps] == [s.step_id for s in trace]


def _write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "scenario.json"
    path.write_text(content, encoding="utf-8")
    return path


def _scenario(**changes: object) -> dict[str, object]:
    base = json.loads(SCENARIOS[0].read_text())
    base.update(changes)
    return base


def _events_reversed() -> list[object]:
    return list(reversed(json.loads(SCENARIOS[0].read_text())["events"]))


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "不是合法的 UTF-8 JSON"),
    (json.dumps({"rules": []}), "场景文件内容不合法"),
    (json.dumps(_scenario(events=[{"kind": "teleport", "id": "x",
                                   "at": "2026-03-01T00:00:00Z"}])), "场景文件内容不合法"),
    (json.dumps(_scenario(events=_events_reversed())), "必须按时间先后排列"),
    (json.dumps(_scenario(events=[{
        "kind": "referral", "id": "r", "at": "2026-03-01T00:00:00Z", "project_id": "p-xuhui",
        "broker_id": "b", "agency_id": "a", "phone": "12345", "name": "张伟"}])),
     "手机号码"),
])
def test_malformed_files_exit_non_zero_with_a_chinese_message(
    tmp_path: Path, content: str, message: str,
) -> None:
    result = CliRunner().invoke(channel_cli, ["replay", str(_write(tmp_path, content))])
    assert result.exit_code == 2
    assert message in result.output


def test_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(channel_cli, ["replay", str(tmp_path / "absent.json")])
    assert result.exit_code == 2 and "无法读取场景文件" in result.output


def test_an_unmet_expectation_exits_1(tmp_path: Path) -> None:
    scenario = _scenario()
    scenario["expect"] = {"owner": {"kind": "none"}}
    result = CliRunner().invoke(channel_cli, ["replay", str(_write(tmp_path,
                                                                   json.dumps(scenario)))])
    assert result.exit_code == 1 and "与预期不符" in result.output


def test_as_of_replays_the_dispute_at_an_earlier_instant() -> None:
    result = CliRunner().invoke(channel_cli, ["replay", str(SCENARIOS[0]),
                                              "--as-of", "2026-03-01T10:00:00+08:00"])
    assert result.exit_code == 0, result.output
    assert "截至 2026-03-01 10:00:00" in result.output
    bad = CliRunner().invoke(channel_cli, ["replay", str(SCENARIOS[0]), "--as-of", "昨天"])
    assert bad.exit_code == 2 and "不是合法的时间" in bad.output
