"""Scenario files: a rule set history and a time-ordered list of events, replayed by
`anchang channel replay FILE` to reproduce a dispute exactly (docs/attribution.md).

An optional `expect` block states the answer the file's author worked out from the
rules page; replay reports any difference, so a scenario doubles as a test.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.attribution.engine import decide
from shared.attribution.events import Event
from shared.attribution.inputs import AttributionInputError
from shared.attribution.outcome import Decision, OwnerKind, ReferralState
from shared.attribution.reasons import ReasonCode
from shared.attribution.rules import RuleSet, RulesHistory
from shared.timeutil import UtcDateTime

MAX_SCENARIO_BYTES = 2_000_000


class ScenarioError(AttributionInputError):
    code = "scenario_invalid"
    title = "场景文件格式不正确"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExpectedReferral(_Strict):
    state: ReferralState
    reason: ReasonCode


class ExpectedOwner(_Strict):
    kind: OwnerKind
    broker_id: str | None = None
    reason: ReasonCode | None = None


class Expect(_Strict):
    owner: ExpectedOwner | None = None
    referrals: dict[str, ExpectedReferral] = Field(default_factory=dict)


class Scenario(_Strict):
    title: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=4000)
    rules: list[RuleSet] = Field(min_length=1)
    events: list[Event]
    as_of: UtcDateTime
    expect: Expect | None = None

    @model_validator(mode="after")
    def _rules_in_order(self) -> Self:
        RulesHistory(versions=tuple(self.rules))  # refuses versions or times out of order
        return self

    @property
    def history(self) -> RulesHistory:
        return RulesHistory(versions=tuple(self.rules))

    def run(self, as_of: datetime | None = None) -> Decision:
        return decide(self.history, self.events, as_of or self.as_of)


def load_scenario(path: Path) -> Scenario:
    """Read and check a scenario file; ScenarioError says what is wrong, in Chinese."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"无法读取场景文件 {path}：{exc.strerror}") from exc
    if len(raw) > MAX_SCENARIO_BYTES:
        raise ScenarioError("场景文件过大（上限 2 MB）")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"场景文件不是合法的 UTF-8 JSON：{exc}") from exc
    return parse_scenario(data)


def parse_scenario(data: object) -> Scenario:
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = "；".join(
            f"{'.'.join(str(p) for p in err['loc']) or '（根）'}：{err['msg']}"
            for err in exc.errors()[:10])
        raise ScenarioError(f"场景文件内容不合法：{problems}") from exc
    times = [e.at for e in scenario.events]
    if times != sorted(times):
        # The engine sorts anyway; a file out of order usually hides a mistyped time.
        raise ScenarioError("场景文件的事件必须按时间先后排列")
    return scenario


def check_expectations(scenario: Scenario, decision: Decision) -> list[str]:
    """Where the decision differs from the file's `expect` block (empty: as expected)."""
    expect = scenario.expect
    if expect is None:
        return []
    problems: list[str] = []
    owner = decision.owner
    if expect.owner is not None:
        want = expect.owner
        got = (owner.kind, owner.broker_id, owner.reason.code)
        if (want.kind, want.broker_id) != got[:2] or want.reason not in (None, got[2]):
            problems.append(f"归属应为 {want.kind}/{want.broker_id}/{want.reason}，"
                            f"实际为 {got[0]}/{got[1]}/{got[2]}")
    for referral_id, want_ref in expect.referrals.items():
        try:
            got_ref = decision.referral(referral_id)
        except KeyError:
            problems.append(f"报备 {referral_id} 不在事件中")
            continue
        if (got_ref.state, got_ref.reason.code) != (want_ref.state, want_ref.reason):
            problems.append(f"报备 {referral_id} 应为 {want_ref.state}/{want_ref.reason}，"
                            f"实际为 {got_ref.state}/{got_ref.reason.code}")
    return problems

