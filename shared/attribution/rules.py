"""The channel rule set (渠道规则) of a project: every parameter of domain/channel-rules.md.

Numbers are per-project settings with the page's defaults, optionally overridden per
channel team, and versioned: each version says from when it applies (effective_from).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.rules import PROTECTION_DAYS_DEFAULT
from shared.timeutil import UtcDateTime

AttributionMode = Literal["report_protection", "competitive_visit", "visit_wins"]
Confirmation = Literal["instant", "on_site"]
DealStage = Literal["pledge", "subscription", "contract"]
PhonePolicy = Literal["full", "3+4", "3+6", "first9", "first7"]
CompletionStage = Literal["visit", "subscription", "contract"]
NamePolicy = Literal["full", "surname"]
# none: no owner may be referred; other_projects: owners of this project may not;
# all: any owner may be referred.
OldOwnerPolicy = Literal["none", "other_projects", "all"]

DEAL_STAGE_RANK: dict[str, int] = {"pledge": 1, "subscription": 2, "contract": 3}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DurationWindow(_Frozen):
    """A window of fixed length from its start (e.g. 72 h after the referral)."""

    kind: Literal["duration"] = "duration"
    length: timedelta = Field(gt=timedelta(0), description="窗口长度（ISO 8601，如 PT72H）")


class ClockWindow(_Frozen):
    """定点: valid until a clock time in Asia/Shanghai, `days` days after the start's day
    (0 = the same day, e.g. 23:59 that day)."""

    kind: Literal["clock"] = "clock"
    until: time = Field(description="截止时刻（北京时间），如 23:59")
    days: int = Field(default=0, ge=0, le=30, description="起算日之后第几天的该时刻")


Window = Annotated[DurationWindow | ClockWindow, Field(discriminator="kind")]


class Warnings(_Frozen):
    """Reminders this long before each window ends; each must be shorter than its window."""

    referral: timedelta = Field(default=timedelta(days=1), ge=timedelta(0))
    visit: timedelta = Field(default=timedelta(days=1), ge=timedelta(0))
    follow_up: timedelta = Field(default=timedelta(days=1), ge=timedelta(0))


class TeamOverride(_Frozen):
    """What one channel team (渠道团队) may have differently; unset fields inherit."""

    attribution_mode: AttributionMode | None = None
    confirmation: Confirmation | None = None
    lead_time: timedelta | None = None
    referral_protection: Window | None = None
    visit_protection: timedelta | None = None
    phone_policy: PhonePolicy | None = None
    live_referral_cap: int | None = None
    warnings: Warnings | None = None


class RuleSet(_Frozen):
    version: int = Field(ge=1)
    effective_from: UtcDateTime
    project_id: str = Field(min_length=1, max_length=64)
    attribution_mode: AttributionMode = "report_protection"
    confirmation: Confirmation = "instant"
    # Referrals wait for the developer's review before they protect anyone.
    developer_approval: bool = False
    lead_time: timedelta = Field(default=timedelta(minutes=30), ge=timedelta(0))
    referral_protection: Window = DurationWindow(length=timedelta(hours=72))
    visit_protection: timedelta = Field(default=timedelta(days=30), gt=timedelta(0))
    # two: visit_protection runs from the confirmed visit; one: from the referral.
    protection_stages: Literal["one", "two"] = "two"
    deal_milestone: DealStage = "subscription"
    follow_up_lapse: timedelta | None = Field(default=timedelta(days=7), gt=timedelta(0))
    recycle: bool = True
    consultant_protection: timedelta = Field(
        default=timedelta(days=PROTECTION_DAYS_DEFAULT), gt=timedelta(0))
    warnings: Warnings = Warnings()
    phone_policy: PhonePolicy = "full"
    completion_stage: CompletionStage = "visit"
    name_policy: NamePolicy = "full"
    old_owner_policy: OldOwnerPolicy = "other_projects"
    re_referral: bool = True
    live_referral_cap: int | None = Field(default=None, ge=1)
    team_overrides: dict[str, TeamOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _warnings_shorter_than_windows(self) -> Self:
        for team in self.team_overrides:
            # Validating the merged set catches an override that breaks a warning.
            try:
                self.for_team(team)
            except ValidationError as exc:
                problems = "；".join(str(e["msg"]) for e in exc.errors())
                raise ValueError(f"渠道团队 {team} 的规则不合法：{problems}") from exc
        _check_warnings(self)
        return self

    def for_team(self, team: str | None) -> RuleSet:
        """The rules a referral of `team` is judged by."""
        override = self.team_overrides.get(team) if team is not None else None
        if override is None:
            return self
        changes = override.model_dump(exclude_none=True)
        merged = self.model_dump() | {k: getattr(override, k) for k in changes}
        merged["team_overrides"] = {}
        return RuleSet.model_validate(merged)


def _check_warnings(rules: RuleSet) -> None:
    warn = rules.warnings
    window = rules.referral_protection
    # A 定点 window's length depends on the hour of the referral: at least `days` days.
    # A same-day one has no length to check against; its warning is clamped to its start.
    shortest = window.length if isinstance(window, DurationWindow) else timedelta(days=window.days)
    if shortest > timedelta(0) and warn.referral >= shortest:
        raise ValueError("报备保护期的提醒时间必须短于保护期")
    if warn.visit >= rules.visit_protection:
        raise ValueError("到访保护期的提醒时间必须短于保护期")
    if rules.follow_up_lapse is not None and warn.follow_up >= rules.follow_up_lapse:
        raise ValueError("跟进逾期的提醒时间必须短于跟进周期")


class RulesHistory(_Frozen):
    """A project's rule versions, in version order; the one in force at t is the last
    whose effective_from ≤ t."""

    versions: tuple[RuleSet, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        projects = {v.project_id for v in self.versions}
        if len(projects) != 1:
            raise ValueError("规则版本必须属于同一个项目")
        for before, after in zip(self.versions, self.versions[1:], strict=False):
            if after.version <= before.version or after.effective_from <= before.effective_from:
                raise ValueError("规则版本号与生效时间必须严格递增")
        return self

    @property
    def project_id(self) -> str:
        return self.versions[0].project_id

    def at(self, when: datetime) -> RuleSet | None:
        current = None
        for rules in self.versions:
            if rules.effective_from <= when:
                current = rules
        return current
