"""An appliance's status: its store and agent (adopted or refused), its own view of its
link, its disk, its backlog and the clock skew it measured itself.

The skew is taken from the status only when the agent measured it by a fresh round trip
recently (`skew_sampled_at`, on the agent's clock, within SKEW_SAMPLE_MAX_AGE of the
status's own `edge_time`). A status's arrival time says nothing about clocks: it may
have waited in a queue for as long as an outage lasted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.settings import CloudSettings
from cloud.sync import identity
from cloud.sync.models import SiteLink
from cloud.sync.service import ApplyResult, lock_link
from shared.envelope import Rejection, Status
from shared.timeutil import as_utc

SKEW_SAMPLE_MAX_AGE = timedelta(minutes=10)


def _alarm(session: Session, link: SiteLink, action: str, **detail: object) -> None:
    audit_service.record(session, action=action, result="failure", actor=f"site:{link.site_id}",
                         object_type="site", object_id=link.site_id, detail=detail)


def _take_skew(session: Session, settings: CloudSettings, link: SiteLink, status: Status
               ) -> None:
    sampled = status.skew_sampled_at
    if status.clock_skew_seconds is None or sampled is None:
        return
    if as_utc(status.edge_time) - as_utc(sampled) > SKEW_SAMPLE_MAX_AGE:
        return
    skew = status.clock_skew_seconds
    link.clock_skew_seconds, link.skew_sampled_at = round(skew, 3), sampled
    alarm = abs(skew) > settings.clock_skew_alarm_seconds
    if alarm and not link.clock_skew_alarm:
        _alarm(session, link, "sync.clock_skew", skew_seconds=round(skew, 1))
    link.clock_skew_alarm = alarm


def _take_state(session: Session, link: SiteLink, status: Status) -> None:
    link.edge_backlog = status.backlog
    link.edge_last_acked_seq = status.last_acked_seq
    link.edge_next_seq = status.next_seq
    link.edge_oldest_unacked_at = status.oldest_unacked_at
    link.agent_version = status.agent_version[:40]
    if status.link != link.edge_link and status.link != "ok":
        _alarm(session, link, "sync.edge_link", state=status.link)
    link.edge_link = status.link
    if status.storage_full and not link.edge_storage_full:
        _alarm(session, link, "sync.edge_storage_full")
    link.edge_storage_full = status.storage_full
    # The appliance holds acks for events we do not have: we lost them (a restore). It
    # resends them on our fresh answer; until they are in, this stays raised.
    behind = status.last_acked_seq > link.last_applied_seq
    if behind and not link.cloud_behind_alarm:
        _alarm(session, link, "sync.cloud_behind", edge_acked=status.last_acked_seq,
               cloud_applied=link.last_applied_seq)
    link.cloud_behind_alarm = behind


def record_status(
    session: Session, *, settings: CloudSettings, status: Status, received_at: datetime,
    live: bool,
) -> ApplyResult:
    """Store the appliance's state; the answer tells it our position for its store, and —
    when live — echoes its time so it can measure its clock. A retained status replayed on
    subscribe (`live` False) only updates the online flag."""
    link = lock_link(session, status.site_id)
    online = status.state == "online"
    link.online = online
    link.status_at = received_at
    refusal: str | None = None
    if online and live:
        accepted = identity.adopt_epoch(session, link, status.epoch, status.last_acked_seq)
        refusal = None if accepted else identity.epoch_refusal(
            session, link, status.epoch, received_at)
        refusal = refusal or identity.instance_refusal(
            session, link, status.instance, received_at, live=True,
            sent_at=status.edge_time)
        if refusal is None and not identity.is_late_frame(link, status.instance,
                                                          status.edge_time):
            _take_state(session, link, status)
            _take_skew(session, settings, link, status)
    session.add(link)
    session.flush()
    result = ApplyResult(site_id=link.site_id, epoch=link.epoch,
                         acked_seq=link.last_applied_seq,
                         resend_from=link.last_applied_seq + 1 if link.gap_since else None)
    if live:
        result.echo, result.instance = status.edge_time, status.instance
    if refusal is not None:
        result.rejected.append(Rejection(reason=refusal, consumed=False))
    return result
