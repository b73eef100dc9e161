"""Appeals (申诉): a broker contests a refusal or invalidation of their referral (报备申诉,
kind `referral`) or its attribution (成交申诉, kind `deal`), with a reason and evidence
files, before the project's deadline; a channel manager reviews and decides.

submitted → under_review → upheld / rejected; submitted or under_review → withdrawn (the
broker). An upheld appeal may override the referral's state (cloud.channel.overrides);
the broker is notified of every decision, and every step is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, false, select

from cloud.audit import service as audit_service
from cloud.catalog.models import Project
from cloud.channel import notifications, overrides, risk_policy, scopes
from cloud.channel.appeal_models import Appeal
from cloud.channel.errors import (
    AppealAlreadyOpen,
    AppealDeadlinePassed,
    AppealNotAllowed,
    AppealNotFound,
    AppealStateConflict,
    BrokerInactive,
    ReferralNotFound,
)
from cloud.channel.models import Broker, Referral
from cloud.identity.deps import Principal
from cloud.settings import CloudSettings
from shared.timeutil import utcnow

OPEN_STATES = ("submitted", "under_review")
# What each kind contests: a refusal or invalidation, or an attribution that stood.
_APPEALABLE = {"referral": ("invalid", "expired"), "deal": ("confirmed", "invalid", "expired")}
KIND_TEXT = {"referral": "报备申诉", "deal": "成交申诉"}
STATE_TEXT = {"submitted": "已提交", "under_review": "审核中", "upheld": "申诉成立",
              "rejected": "申诉驳回", "withdrawn": "已撤回"}


def appeal_scope(session: Session, principal: Principal) -> ColumnElement[bool]:
    """The appeals `principal` may read: the same boundary as referrals."""
    clauses: list[ColumnElement[bool]] = []
    if principal.roles & scopes.PROJECT_SCOPED_ROLES:
        if principal.site_ids is None:
            return col(Appeal.id).is_not(None)
        projects = select(Project.id).where(col(Project.site_id).in_(principal.site_ids))
        clauses.append(col(Appeal.project_id).in_(projects))
    agency_id = scopes.admin_agency(session, principal)
    if agency_id is not None:
        clauses.append(col(Appeal.agency_id) == agency_id)
    if "broker" in principal.roles or "agency_admin" in principal.roles:
        own = scopes.broker_of(session, principal)
        if own is not None:
            clauses.append(col(Appeal.broker_id) == own.id)
    return or_(*clauses) if clauses else false()


@dataclass(frozen=True)
class NewAppeal:
    referral_id: int
    kind: str | None  # None: from the referral's state
    reason: str


def submit(session: Session, *, principal: Principal, data: NewAppeal) -> Appeal:
    broker = scopes.broker_of(session, principal)
    if broker is None or broker.status != "active":
        raise BrokerInactive("经纪人账号未激活或已冻结，暂不能申诉")
    referral = session.get(Referral, data.referral_id, with_for_update=True)
    if referral is None or referral.broker_id != broker.id:
        raise ReferralNotFound()
    kind = data.kind or ("referral" if referral.state in _APPEALABLE["referral"] else "deal")
    if referral.state not in _APPEALABLE[kind]:
        raise AppealNotAllowed(f"{KIND_TEXT[kind]}不适用于当前状态的报备")
    now = utcnow()
    days = risk_policy.policy(session, referral.project_id).appeal_deadline_days
    deadline = referral.decided_at + timedelta(days=days)
    if now > deadline:
        raise AppealDeadlinePassed(f"已超过申诉期限（判定后 {days} 天）",
                                   extra={"deadline": deadline.isoformat()})
    open_one = session.exec(select(Appeal.id).where(
        Appeal.referral_id == referral.id, col(Appeal.state).in_(OPEN_STATES))).first()
    if open_one is not None:
        raise AppealAlreadyOpen(extra={"appeal_id": open_one})
    appeal = Appeal(referral_id=referral.id or 0, project_id=referral.project_id,
                    broker_id=broker.id or 0, agency_id=referral.agency_id, kind=kind,
                    reason=data.reason, appealed_state=referral.state,
                    appealed_reason=referral.reason_code, deadline=deadline, created_at=now)
    session.add(appeal)
    session.flush()
    _audit(session, principal, "channel.appeal_submit", appeal,
           {"referral_id": referral.id, "kind": kind, "appealed_state": referral.state,
            "appealed_reason": referral.reason_code})
    return appeal


def get(session: Session, *, principal: Principal, appeal_id: int) -> Appeal:
    row = session.exec(select(Appeal).where(
        Appeal.id == appeal_id, appeal_scope(session, principal))).first()
    if row is None:
        raise AppealNotFound()
    return row


def list_appeals(session: Session, *, principal: Principal, project_id: int | None,
                 state: str | None, limit: int, before_id: int | None) -> list[Appeal]:
    query = select(Appeal).where(appeal_scope(session, principal))
    if project_id is not None:
        query = query.where(Appeal.project_id == project_id)
    if state is not None:
        query = query.where(Appeal.state == state)
    if before_id is not None:
        query = query.where(col(Appeal.id) < before_id)
    return list(session.exec(query.order_by(col(Appeal.id).desc()).limit(limit)).all())


def own_open(session: Session, *, principal: Principal, appeal_id: int) -> Appeal:
    """An appeal the caller filed and may still add to (evidence, withdrawal)."""
    appeal = get(session, principal=principal, appeal_id=appeal_id)
    broker = scopes.broker_of(session, principal)
    if broker is None or appeal.broker_id != broker.id:
        raise AppealNotFound()
    if appeal.state not in OPEN_STATES:
        raise AppealStateConflict("申诉已有结论，不能再修改")
    return appeal


def withdraw(session: Session, *, principal: Principal, appeal_id: int) -> Appeal:
    appeal = own_open(session, principal=principal, appeal_id=appeal_id)
    appeal.state = "withdrawn"
    appeal.decided_at = utcnow()
    session.add(appeal)
    _audit(session, principal, "channel.appeal_withdraw", appeal, {})
    return appeal


def _staff_appeal(session: Session, principal: Principal, appeal_id: int) -> Appeal:
    appeal = get(session, principal=principal, appeal_id=appeal_id)
    if not scopes.sees_project(session, principal, appeal.project_id):
        raise AppealNotFound()
    return appeal


def start_review(session: Session, *, principal: Principal, appeal_id: int) -> Appeal:
    appeal = _staff_appeal(session, principal, appeal_id)
    if appeal.state != "submitted":
        raise AppealStateConflict("只有已提交的申诉可以开始审核")
    appeal.state = "under_review"
    appeal.reviewer_id = principal.user_id
    session.add(appeal)
    _audit(session, principal, "channel.appeal_review", appeal, {})
    _notify(session, appeal, "申诉审核中", f"您的{KIND_TEXT[appeal.kind]}正在审核")
    return appeal


@dataclass(frozen=True)
class Decision:
    outcome: str  # upheld / rejected
    comment: str
    new_state: str | None  # upheld: the referral's state from now on, if it changes


def decide(session: Session, *, principal: Principal, settings: CloudSettings,
           appeal_id: int, decision: Decision) -> Appeal:
    appeal = _staff_appeal(session, principal, appeal_id)
    if appeal.state not in OPEN_STATES:
        raise AppealStateConflict("申诉已有结论")
    if decision.outcome == "rejected" and decision.new_state is not None:
        raise AppealStateConflict("驳回的申诉不能改判报备状态")
    now = utcnow()
    appeal.state = decision.outcome
    appeal.reviewer_id = principal.user_id
    appeal.decision_comment = decision.comment
    appeal.decided_at = now
    if decision.new_state is not None:
        referral = session.get(Referral, appeal.referral_id, with_for_update=True)
        assert referral is not None
        if referral.state != decision.new_state:
            row = overrides.override(
                session, settings=settings, referral=referral, state=decision.new_state,
                reason_code="appeal_upheld", source="appeal", source_id=appeal.id or 0,
                comment=decision.comment, principal=principal,
                decided_by=principal.user_id)
            appeal.override_id = row.id
    session.add(appeal)
    _audit(session, principal, "channel.appeal_decide", appeal,
           {"outcome": decision.outcome, "comment": decision.comment,
            "new_state": decision.new_state, "override_id": appeal.override_id})
    _notify(session, appeal, f"申诉结果：{STATE_TEXT[decision.outcome]}",
            f"您的{KIND_TEXT[appeal.kind]}{STATE_TEXT[decision.outcome]}。处理意见：{decision.comment}")
    return appeal


def _notify(session: Session, appeal: Appeal, title: str, body: str) -> None:
    broker = session.get(Broker, appeal.broker_id)
    assert broker is not None
    notifications.notify(session, user_id=broker.user_id, kind="appeal", title=title,
                         body=body, data={"appeal_id": appeal.id,
                                          "referral_id": appeal.referral_id,
                                          "state": appeal.state})


def _audit(session: Session, principal: Principal, action: str, appeal: Appeal,
           detail: dict[str, object]) -> None:
    audit_service.record(session, action=action, principal=principal,
                         object_type="channel_appeal", object_id=str(appeal.id),
                         detail={"referral_id": appeal.referral_id, "state": appeal.state,
                                 **detail})
