"""Reception rules both ends use: the per-project rota settings with the defaults of
domain/reception-and-sales.md, the away reasons, and the visit profile's vocabularies.

The edge applies the settings (the rota runs there, offline too); the cloud receives
every change made on the appliance as a `rota.changed` event (shared.reception_events)
and sends those made in the console down as `reception.settings` items. Both ends keep
the newer change (ADR 0051): `ReceptionSettingsItem.wins_over`.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.events import DbId
from shared.timeutil import SHANGHAI, as_utc

OrderMode = Literal["check_in", "fewest_new"]
# Away with a make-up reason keeps the place in the queue (补接): the next customer goes
# to the one behind, and the consultant receives as soon as they are back.
MakeUpReason = Literal["receiving", "washroom", "lunch", "business", "manager_approved"]
# Away for leave, rest or a private errand: to the tail, or off today's queue (a setting).
DropReason = Literal["leave", "rest", "private"]
AwayReason = MakeUpReason | DropReason
DropEffect = Literal["tail", "off"]
PenaltyKind = Literal["refusal", "skipped_question", "cherry_picking"]

MAKE_UP_REASONS: tuple[MakeUpReason, ...] = (
    "receiving", "washroom", "lunch", "business", "manager_approved")
DROP_REASONS: tuple[DropReason, ...] = ("leave", "rest", "private")
AWAY_LABELS: dict[str, str] = {
    "receiving": "接待客户中", "washroom": "洗手间", "lunch": "午餐", "business": "外出办事",
    "manager_approved": "经理批准离开", "leave": "请假", "rest": "休息", "private": "私事",
}
PENALTY_LABELS: dict[str, str] = {
    "refusal": "拒接客户", "skipped_question": "漏问来访信息", "cherry_picking": "挑客",
}

Gender = Literal["male", "female", "unknown"]
# 认知途径: how the visitor heard of the project.
Awareness = Literal["passing_by", "outdoor_ad", "online", "friend", "channel", "call",
                    "event", "old_customer", "other"]
Purpose = Literal["own_use", "investment"]  # 自住 / 投资
Grade = Literal["A", "B", "C", "D"]


def _default_drop_effects() -> dict[DropReason, DropEffect]:
    return {"leave": "off", "rest": "tail", "private": "tail"}


class ReceptionRules(BaseModel):
    """One project's reception settings; every number defaults to the rules page's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    order_mode: OrderMode = "check_in"
    return_consumes_turn: bool = False
    drop_effects: dict[DropReason, DropEffect] = Field(default_factory=_default_drop_effects)
    # The whole day until a manager sets the office's hours: the rules page names no
    # hours, and by default no reception should go uncounted.
    work_start: time = time.min
    work_end: time = time.max
    stand_in_share_percent: int = Field(50, ge=0, le=100,
                                        description="义务接待者在当日成交中的份额")
    claim_days: int = Field(2, ge=0, le=30, description="“来过但忘了顾问”可认领的天数")
    refusal_suspend_days: int = Field(7, ge=0, le=90)
    skip_turns_penalty: int = Field(1, ge=0, le=10,
                                    description="漏问或挑客：失去接下来的轮次数")

    @model_validator(mode="after")
    def _hours(self) -> Self:
        if self.work_start.tzinfo is not None or self.work_end.tzinfo is not None:
            # Office hours are Beijing wall-clock times; an offset would compare unlike
            # with unlike (a fuzzed PUT answered 500 before).
            raise ValueError("work_start and work_end are Beijing times without an offset")
        if self.work_end <= self.work_start:
            raise ValueError("work_end must be after work_start")
        return self

    def drop_effect(self, reason: str) -> DropEffect:
        """What a drop reason does; a make-up reason never comes here."""
        for drop, effect in self.drop_effects.items():
            if drop == reason:
                return effect
        return "tail"

    def in_working_hours(self, at: datetime) -> bool:
        """Receptions outside working hours (Asia/Shanghai) consume no turn."""
        local = at.astimezone(SHANGHAI).time()
        return self.work_start <= local < self.work_end

    def penalty_turns(self, kind: PenaltyKind) -> int:
        return 0 if kind == "refusal" else self.skip_turns_penalty


DEFAULT_RULES = ReceptionRules()

# Each setting's name as the console's 接待设置 form shows it, for saying which changed.
RULE_LABELS: dict[str, str] = {
    "order_mode": "接待顺序", "return_consumes_turn": "老客户复访占用轮次",
    "drop_effects": "离开原因的处理", "work_start": "上班时间", "work_end": "下班时间",
    "stand_in_share_percent": "义务接待成交分成", "claim_days": "“来过但忘了顾问”认领期",
    "refusal_suspend_days": "拒接客户停岗", "skip_turns_penalty": "漏问或挑客扣减轮次",
}


def changes(before: ReceptionRules, after: ReceptionRules) -> dict[str, list[Any]]:
    """{field: [old, new]} of what differs, in JSON form: what both ends audit and send
    with a change."""
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    return {k: [old[k], v] for k, v in new.items() if old[k] != v}


RECEPTION_SETTINGS = "reception.settings"  # the down-feed kind, keyed by project id


class ReceptionSettingsItem(BaseModel):
    """A project's reception settings as the cloud holds them (`reception.settings`).

    `changed_at` is the time of the change that set them: the cloud's clock for a console
    change, the appliance's (as it sent it) for one made there. `supersedes_at` is set
    when the cloud judged a change of this appliance older than its own: the appliance's
    time of that change, so the appliance gives it up even where its clock disagrees.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    project_id: DbId
    rules: ReceptionRules
    changed_at: AwareDatetime
    changed_by: DbId | None = None
    supersedes_at: AwareDatetime | None = None

    def wins_over(self, local_changed_at: datetime | None) -> bool:
        """The merge rule on the appliance: the newer change wins, a tie goes to the
        cloud; a local change the cloud already judged older gives way."""
        if local_changed_at is None:
            return True
        local = as_utc(local_changed_at)
        if self.supersedes_at is not None and as_utc(self.supersedes_at) >= local:
            return True
        return as_utc(self.changed_at) >= local
