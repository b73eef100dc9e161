"""The visitor's consent to the kiosk's notice, as the edge keeps it with each visit."""

from __future__ import annotations

from datetime import datetime

from edge_agent.kiosk.schemas import VisitIn
from shared.consent import KIOSK_SCREEN, NOTICE_VERSIONS, TABLET_MAX, known_notice
from shared.envelope import within_time_bounds
from shared.errors import ValidationFailed
from shared.events import VisitConsent


class ConsentRequired(ValidationFailed):
    code = "consent_required"
    title = "访客尚未同意《个人信息与摄像头使用告知》，不能登记；请先请访客阅读并同意告知"


class UnknownNoticeVersion(ValidationFailed):
    code = "consent_notice_unknown"
    title = "告知书版本无效或已停用，请刷新前台平板后请访客重新阅读并同意告知"


class ConsentTimeInvalid(ValidationFailed):
    code = "consent_time_invalid"
    title = "前台平板的时钟明显不正确（早于 2024 年或过于遥远），请校准平板时间后重新登记"


def consent_of(data: VisitIn, *, tablet: str, now: datetime) -> VisitConsent:
    """The consent record the edge keeps: the kiosk's notice version and acceptance time
    (the tablet's clock, a hint), the edge's own receipt time and the tablet. The notice
    promises the visitor that this is kept, so a registration without it is refused."""
    if data.consent is None:
        raise ConsentRequired()
    if not known_notice(data.consent.notice_version):
        raise UnknownNoticeVersion(extra={"notice_version": data.consent.notice_version,
                                          "known": list(NOTICE_VERSIONS)})
    try:
        # Only a hint, so drift is kept as sent; a clock the protocol cannot carry (a
        # tablet reset to 1970) is the one case refused, with what to do about it.
        within_time_bounds(data.consent.accepted_at)
    except ValueError as exc:
        raise ConsentTimeInvalid(extra={"accepted_at": data.consent.accepted_at.isoformat()}
                                 ) from exc
    return VisitConsent(
        notice_version=data.consent.notice_version,
        method=KIOSK_SCREEN,
        accepted_at=data.consent.accepted_at,
        recorded_at=now,
        tablet=(tablet or "unknown")[:TABLET_MAX],
    )
