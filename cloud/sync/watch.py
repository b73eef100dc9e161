"""Holes watched by a clock, not by traffic.

A site whose stream stopped with a hole open sends nothing that would make us look: the
consumer calls `overdue_gaps` every few seconds. A hole open past the threshold raises
the alarm once, marks the site stalled (the console shows it), and — then and every
ASK_AGAIN_EVERY while it stays open — the consumer publishes an Ack with `resend_from`,
in case the appliance missed the earlier ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.settings import CloudSettings
from cloud.sync.models import SiteLink, SyncPending
from cloud.sync.service import ApplyResult
from shared.timeutil import as_utc

ASK_AGAIN_EVERY = timedelta(seconds=30)


def overdue_gaps(session: Session, settings: CloudSettings, now: datetime,
                 asked: dict[str, datetime]) -> list[ApplyResult]:
    """The acks to publish for holes open too long; `asked` (site → when) is the caller's
    memory of the last re-ask, so each site is asked at most every ASK_AGAIN_EVERY."""
    threshold = timedelta(seconds=settings.sync_gap_alarm_seconds)
    links = session.exec(
        select(SiteLink).where(col(SiteLink.gap_since).is_not(None),
                               col(SiteLink.gap_since) < now - threshold)
        .with_for_update(skip_locked=True)  # a site being applied right now is not idle
    ).all()
    answers = []
    for link in links:
        assert link.gap_since is not None
        if not link.gap_alarm:
            held = session.exec(select(SyncPending.seq).where(
                SyncPending.site_id == link.site_id, SyncPending.epoch == link.epoch)).all()
            link.gap_alarm = link.stalled = True
            audit_service.record(
                session, action="sync.gap_unhealed", result="failure",
                actor=f"site:{link.site_id}", object_type="site", object_id=link.site_id,
                detail={"missing_from": link.last_applied_seq + 1, "held": len(held),
                        "open_seconds": round((now - as_utc(link.gap_since)).total_seconds())},
            )
        last = asked.get(link.site_id)
        if last is not None and now - last < ASK_AGAIN_EVERY:
            continue
        asked[link.site_id] = now
        answers.append(ApplyResult(site_id=link.site_id, epoch=link.epoch,
                                   acked_seq=link.last_applied_seq,
                                   resend_from=link.last_applied_seq + 1))
    session.flush()
    return answers
