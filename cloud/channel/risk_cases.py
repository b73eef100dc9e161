"""Risk cases (风控案件): checks that fired, kept for a reviewer with their evidence.

A check never changes an owner by itself. `flag` records a case for the record, `review`
opens one a reviewer must decide, `block` (referral-stage checks only) also refuses the
referral at once — stored `invalid` with reason `risk_blocked` as an override that keeps
the engine's decision, and the broker may appeal. A reviewer confirms or dismisses a
case; a confirmed case may void the attribution (an override, audited, the broker
notified, who may appeal).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, false, select

from cloud.audit import service as audit_service
from cloud.catalog.models import Project
from cloud.channel import (
    notifications,
    overrides,
    risk_crowd,
    risk_findings,
    risk_policy,
    risk_scan,
    scopes,
)
from cloud.channel.errors import (
    RiskCaseClosed,
    RiskCaseNotFound,
    RiskVoidNeedsConfirmation,
    RiskVoidNeedsReferral,
)
from cloud.channel.models import Broker, Referral
from cloud.channel.risk_models import RiskCase
from cloud.deals import risk as deal_risk
from cloud.faces import risk as face_risk
from cloud.identity.deps import Principal
from cloud.settings import CloudSettings
from shared.timeutil import shanghai_date, utcnow

# Referrals the scheduled scan looks at again: younger than this.
SCAN_DAYS = 35
SCAN_JOB = "channel.risk_scan"
REFERRAL_SCAN_JOB = "channel.risk_referral_scan"
COMPUTED = {**risk_findings.COMPUTED, **risk_crowd.COMPUTED, **face_risk.COMPUTED,
            **deal_risk.COMPUTED}
# What the referral scan runs: a blocking check ran in the request already.
NOT_BLOCKING = ("flag", "review")


def case_scope(session: Session, principal: Principal) -> ColumnElement[bool]:
    if not principal.roles & scopes.PROJECT_SCOPED_ROLES:
        return false()
    if principal.site_ids is None:
        return col(RiskCase.id).is_not(None)
    projects = select(Project.id).where(col(Project.site_id).in_(principal.site_ids))
    return col(RiskCase.project_id).in_(projects)


def _raise(session: Session, *, referral: Referral, code: str, severity: str,
           finding: risk_findings.Finding) -> RiskCase | None:
    """Open a case unless this check already has one for this referral."""
    exists = session.exec(select(RiskCase.id).where(
        RiskCase.referral_id == referral.id, RiskCase.check_code == code)).first()
    if exists is not None:
        return None
    check = risk_policy.CHECKS[code]
    case = RiskCase(project_id=referral.project_id, referral_id=referral.id or 0,
                    broker_id=referral.broker_id, check_code=code, stage=check.stage,
                    severity=severity, summary=finding.summary[:300],
                    evidence=finding.evidence())
    session.add(case)
    session.flush()
    audit_service.record(session, action="channel.risk_case_open", actor="system",
                         object_type="channel_risk_case", object_id=str(case.id),
                         detail={"referral_id": referral.id, "check": code,
                                 "severity": severity})
    return case


# For checks other handlers raise as their facts arrive (cloud.channel.manual_guides).
open_case = _raise


def open_site_case(session: Session, *, project_id: int, subject_key: str, code: str,
                   severity: str, finding: risk_findings.Finding) -> RiskCase | None:
    """A case about a site, not a referral (cloud.faces.unregistered): one per check and
    `subject_key`; no broker, no attribution to void."""
    exists = session.exec(select(RiskCase.id).where(
        RiskCase.subject_key == subject_key, RiskCase.check_code == code)).first()
    if exists is not None:
        return None
    check = risk_policy.CHECKS[code]
    case = RiskCase(project_id=project_id, subject_key=subject_key, check_code=code,
                    stage=check.stage, severity=severity, summary=finding.summary[:300],
                    evidence=finding.evidence())
    session.add(case)
    session.flush()
    audit_service.record(session, action="channel.risk_case_open", actor="system",
                         object_type="channel_risk_case", object_id=str(case.id),
                         detail={"subject": subject_key, "check": code, "severity": severity})
    return case


def run(session: Session, *, settings: CloudSettings, referral: Referral, stages: set[str],
        as_of: datetime, known: risk_findings.Known | None = None,
        policy: risk_policy.Policy | None = None,
        actions: Collection[str] = ("flag", "review", "block")) -> list[RiskCase]:
    """Run the project's checks of `stages` set to one of `actions` on `referral`; the
    cases opened. `policy`: the project's, when the caller has it already."""
    policy = policy or risk_policy.policy(session, referral.project_id)
    subject: risk_findings.Subject | None = None
    opened = []
    for code, compute in COMPUTED.items():
        check = risk_policy.CHECKS[code]
        setting = policy.setting(code)
        if check.stage not in stages or setting.action not in actions:
            continue
        subject = subject or risk_findings.subject(session, settings, referral, as_of, known)
        finding = compute(subject, setting.params)
        if finding is not None:
            case = _raise(session, referral=referral, code=code, severity=setting.action,
                          finding=finding)
            if case is not None:
                opened.append(case)
    return opened


def at_referral(session: Session, *, settings: CloudSettings, referral: Referral,
                principal: Principal, known: risk_findings.Known | None = None,
                policy: risk_policy.Policy | None = None) -> list[RiskCase]:
    """The referral-stage checks set to `block`, run as the referral is submitted: a case
    refuses a referral the engine accepted. The others wait for the referral scan."""
    opened = run(session, settings=settings, referral=referral, stages={"referral"},
                 as_of=referral.created_at, known=known, policy=policy, actions=("block",))
    blocking = [c for c in opened if c.severity == "block"]
    if blocking and referral.state != "invalid":
        overrides.override(
            session, settings=settings, referral=referral, state="invalid",
            reason_code="risk_blocked",
            source="risk_case", source_id=blocking[0].id or 0,
            comment="；".join(c.summary for c in blocking), principal=principal,
            decided_by=principal.user_id)
    return opened


def record_duplicate_qr(session: Session, *, referral: Referral, scans: list[dict[str, Any]]
                        ) -> RiskCase | None:
    """For the QR check-in handler: a guided-visit code of this referral used again
    (`scans`: each use's time, appliance and outcome, as the handler knows them)."""
    setting = risk_policy.policy(session, referral.project_id).setting("duplicate_qr")
    if setting.action == "off" or len(scans) < 2:
        return None
    timeline = [{"at": str(s.get("at", "")), "kind": "qr_scan",
                 "text": f"扫描带看码（{s.get('device', '未知设备')}）", **s} for s in scans]
    finding = risk_findings.Finding(f"同一带看码被使用 {len(scans)} 次", timeline,
                                    {"scans": len(scans)})
    return _raise(session, referral=referral, code="duplicate_qr", severity=setting.action,
                  finding=finding)


def scan(session: Session, settings: CloudSettings) -> dict[str, Any]:
    """The scheduled run: visit- and allocation-stage checks on recent referrals, whose
    facts (visits, follow-ups, unmaskings) arrive after the referral. Only the referrals
    whose facts arrived since the last run are checked (risk_scan.changed_since), from a
    watermark kept in the database; the first run checks all of the last SCAN_DAYS."""
    return scan_at(session, settings, utcnow())


def scan_at(session: Session, settings: CloudSettings, now: datetime) -> dict[str, Any]:
    since = risk_scan.watermark(session, SCAN_JOB)
    recent = risk_scan.changed_since(session, since=since, now=now, days=SCAN_DAYS)
    opened = sum(len(run(session, settings=settings, referral=r,
                         stages={"visit", "allocation", "confirmation"}, as_of=now))
                 for r in recent)
    risk_scan.advance(session, SCAN_JOB, now)
    return {"checked": len(recent), "opened": opened}


def scan_referrals(session: Session, settings: CloudSettings) -> dict[str, Any]:
    """The scheduled run of the referral-stage checks not set to `block`, and of the checks
    across referrals, on the referrals made since the last run — refused ones too — and
    on those whose number's look-up reached the cloud late (risk_scan.referred_since)."""
    return scan_referrals_at(session, settings, utcnow())


def scan_referrals_at(session: Session, settings: CloudSettings, now: datetime
                      ) -> dict[str, Any]:
    since = risk_scan.watermark(session, REFERRAL_SCAN_JOB)
    due = risk_scan.referred_since(session, since=since, now=now)
    policies: dict[int, risk_policy.Policy] = {}
    opened = 0
    for referral in due:
        if referral.project_id not in policies:
            policies[referral.project_id] = risk_policy.policy(session, referral.project_id)
        opened += len(run(session, settings=settings, referral=referral, stages={"referral"},
                          as_of=referral.created_at, policy=policies[referral.project_id],
                          actions=NOT_BLOCKING))
    risk_scan.advance(session, REFERRAL_SCAN_JOB, now)
    return {"checked": len(due), "opened": opened}


def get(session: Session, *, principal: Principal, case_id: int) -> RiskCase:
    row = session.exec(select(RiskCase).where(
        RiskCase.id == case_id, case_scope(session, principal))).first()
    if row is None:
        raise RiskCaseNotFound()
    return row


def list_cases(session: Session, *, principal: Principal, project_id: int | None,
               state: str | None, check_code: str | None, limit: int,
               before_id: int | None) -> list[RiskCase]:
    query = select(RiskCase).where(case_scope(session, principal))
    for column, value in ((RiskCase.project_id, project_id), (RiskCase.state, state),
                          (RiskCase.check_code, check_code)):
        if value is not None:
            query = query.where(column == value)
    if before_id is not None:
        query = query.where(col(RiskCase.id) < before_id)
    return list(session.exec(query.order_by(col(RiskCase.id).desc()).limit(limit)).all())


@dataclass(frozen=True)
class Review:
    outcome: str  # confirmed / dismissed
    comment: str
    void_attribution: bool


def review(session: Session, *, principal: Principal, settings: CloudSettings, case_id: int,
           data: Review) -> RiskCase:
    case = get(session, principal=principal, case_id=case_id)
    if case.state != "open":
        raise RiskCaseClosed()
    if data.void_attribution and data.outcome != "confirmed":
        raise RiskVoidNeedsConfirmation()
    if data.void_attribution and case.referral_id is None:
        raise RiskVoidNeedsReferral()
    case.state = data.outcome
    case.reviewer_id = principal.user_id
    case.comment = data.comment
    case.decided_at = utcnow()
    referral = (session.get(Referral, case.referral_id, with_for_update=True)
                if case.referral_id is not None else None)
    if data.void_attribution and referral is not None and referral.state != "invalid":
        overrides.override(session, settings=settings, referral=referral, state="invalid",
                           reason_code="risk_voided", source="risk_case",
                           source_id=case.id or 0, comment=data.comment, principal=principal,
                           decided_by=principal.user_id)
        case.voided = True
        broker = session.get(Broker, referral.broker_id)
        assert broker is not None
        notifications.notify(
            session, user_id=broker.user_id, kind="risk_void", title="报备归属已作废",
            body=f"经风控复核，您的报备（{referral.phone_masked}）归属已作废：{data.comment}。"
                 "如有异议可在申诉期限内提起申诉",
            data={"referral_id": referral.id, "risk_case_id": case.id})
    session.add(case)
    audit_service.record(session, action="channel.risk_case_review", principal=principal,
                         object_type="channel_risk_case", object_id=str(case.id),
                         detail={"referral_id": case.referral_id, "check": case.check_code,
                                 "outcome": data.outcome, "comment": data.comment,
                                 "voided": case.voided})
    return case


def dashboard(session: Session, *, principal: Principal, days: int) -> dict[str, Any]:
    """Open cases by check and project; cases opened per day (Asia/Shanghai) lately."""
    scope = case_scope(session, principal)
    open_rows = session.exec(
        select(RiskCase.check_code, RiskCase.project_id, func.count())
        .where(scope, RiskCase.state == "open")
        .group_by(col(RiskCase.check_code), col(RiskCase.project_id))).all()
    since = utcnow() - timedelta(days=days)
    trend: dict[str, int] = {}
    for at in session.exec(select(RiskCase.created_at).where(
            scope, col(RiskCase.created_at) >= since)).all():
        day = shanghai_date(at).isoformat()
        trend[day] = trend.get(day, 0) + 1
    return {
        "open": [{"check_code": c, "project_id": p, "count": n} for c, p, n in open_rows],
        "trend": [{"day": d, "count": n} for d, n in sorted(trend.items())],
    }

