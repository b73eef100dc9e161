"""Small builders for attribution tests: one project, one customer, times from T0."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.attribution import (
    ConsultantAssignment,
    DealMilestone,
    Decision,
    Event,
    FollowUp,
    NumberCompletion,
    OldOwnerFact,
    Override,
    PoolRelease,
    QrCheckIn,
    Referral,
    ReferralReview,
    RuleSet,
    RulesHistory,
    Visit,
    decide,
)

PROJECT = "p-xuhui"
PHONE = "13812345678"
MASK_34 = "138****5678"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# 2026-03-01 10:00 in Asia/Shanghai.
T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def rules(version: int = 1, effective_from: datetime = EPOCH, **params: Any) -> RuleSet:
    return RuleSet(version=version, effective_from=effective_from, project_id=PROJECT,
                   **params)


def history(*versions: RuleSet, **params: Any) -> RulesHistory:
    return RulesHistory(versions=versions or (rules(**params),))


def referral(id: str, at: datetime, broker: str = "broker-a", *, phone: str = PHONE,
             name: str = "张伟", team: str | None = None, live: int = 0) -> Referral:
    return Referral(id=id, at=at, project_id=PROJECT, broker_id=broker,
                    agency_id=f"agency-of-{broker}", team=team, phone=phone, name=name,
                    broker_live_referrals=live)


def review(id: str, at: datetime, referral_id: str, approved: bool = True) -> ReferralReview:
    return ReferralReview(id=id, at=at, referral_id=referral_id, approved=approved)


def visit(id: str, at: datetime, broker: str | None = None,
          consultant: str | None = "c-li") -> Visit:
    return Visit(id=id, at=at, broker_id=broker, consultant_id=consultant)


def qr(id: str, at: datetime, broker: str, phone: str | None = None) -> QrCheckIn:
    return QrCheckIn(id=id, at=at, broker_id=broker, consultant_id="c-li", phone=phone)


def follow_up(id: str, at: datetime, effective: bool = True) -> FollowUp:
    return FollowUp(id=id, at=at, actor_id="c-li", effective=effective)


def deal(id: str, at: datetime, stage: str = "subscription") -> DealMilestone:
    return DealMilestone(id=id, at=at, stage=stage)  # type: ignore[arg-type]


def completion(id: str, at: datetime, referral_id: str, phone: str = PHONE) -> NumberCompletion:
    return NumberCompletion(id=id, at=at, referral_id=referral_id, phone=phone)


def assign(id: str, at: datetime, consultant: str = "c-wang") -> ConsultantAssignment:
    return ConsultantAssignment(id=id, at=at, consultant_id=consultant)


def pool(id: str, at: datetime) -> PoolRelease:
    return PoolRelease(id=id, at=at)


def old_owner(id: str, at: datetime, scope: str) -> OldOwnerFact:
    return OldOwnerFact(id=id, at=at, scope=scope)  # type: ignore[arg-type]


def override(id: str, at: datetime, referral_id: str, state: str = "confirmed",
             code: str = "appeal_upheld") -> Override:
    return Override(id=id, at=at, referral_id=referral_id, state=state,  # type: ignore[arg-type]
                    code=code)  # type: ignore[arg-type]


def run(events: Sequence[Event], as_of: datetime, hist: RulesHistory | None = None,
        **params: Any) -> Decision:
    return decide(hist or history(**params), events, as_of)
