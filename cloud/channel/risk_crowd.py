"""Risk checks across brokers and referrals, beyond the rules page's list: a broker
referring many numbers in a short time, one number referred by many brokers. They read
the other referrals around the one under check, so they only run in the referral scan
(channel.risk_referral_scan), never in the request, and never block (ADR 0049).

Each burst opens one case: on the referral that crossed the limit, not on every referral
of the burst after it — a referral whose window already holds a case of the check adds
nothing a reviewer would not see in that case's evidence.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from cloud.channel.models import Referral
from cloud.channel.risk_findings import Computation, Finding, Subject, item
from cloud.channel.risk_models import RiskCase

# A reviewer reads the referrals of the window; a longer list is cut.
EVIDENCE_ITEMS = 50


def _window(s: Subject, match: ColumnElement[bool], span: timedelta) -> list[Referral]:
    """The project's referrals matching `match` in (referral − span, referral], the one
    under check included, oldest first."""
    r = s.referral
    return list(s.session.exec(select(Referral).where(
        Referral.project_id == r.project_id, match,
        col(Referral.created_at) > r.created_at - span,
        col(Referral.created_at) <= r.created_at,
    ).order_by(col(Referral.created_at), col(Referral.id))).all())


def _already_raised(s: Subject, code: str, window: list[Referral]) -> bool:
    others = [r.id for r in window if r.id != s.referral.id]
    return bool(others) and s.session.exec(select(RiskCase.id).where(
        RiskCase.check_code == code, col(RiskCase.referral_id).in_(others))).first() is not None


def _timeline(window: list[Referral]) -> list[dict[str, object]]:
    return [item(r.created_at, "referral",
                 f"报备 {r.phone_masked}（经纪人 {r.broker_id}，{r.state}）",
                 referral_id=r.id, broker_id=r.broker_id)
            for r in window[-EVIDENCE_ITEMS:]]


def broker_burst(s: Subject, params: dict[str, int]) -> Finding | None:
    """The broker made more than max_referrals referrals at the project within
    window_minutes, this one included."""
    span = timedelta(minutes=params["window_minutes"])
    window = _window(s, col(Referral.broker_id) == s.referral.broker_id, span)
    if len(window) <= params["max_referrals"] or _already_raised(s, "broker_burst", window):
        return None
    return Finding(
        f"经纪人 {params['window_minutes']} 分钟内报备 {len(window)} 组客户"
        f"（上限 {params['max_referrals']} 组）",
        _timeline(window), {"referrals": len(window)})


def contested_number(s: Subject, params: dict[str, int]) -> Finding | None:
    """More than max_brokers different brokers referred the number at the project within
    window_days, this referral included. A masked number names nobody for sure: skipped."""
    if s.referral.phone_bidx is None:
        return None
    span = timedelta(days=params["window_days"])
    window = _window(s, col(Referral.phone_bidx) == s.referral.phone_bidx, span)
    brokers = sorted({r.broker_id for r in window})
    if len(brokers) <= params["max_brokers"] or _already_raised(s, "contested_number", window):
        return None
    return Finding(
        f"{params['window_days']} 天内有 {len(brokers)} 名经纪人报备同一号码"
        f"（上限 {params['max_brokers']} 名）",
        _timeline(window), {"brokers": brokers})


COMPUTED: dict[str, Computation] = {
    "broker_burst": broker_burst,
    "contested_number": contested_number,
}
