"""Who is speaking for a site: its store (epoch) and its running agent (instance).

- **Epoch.** The first epoch a site presents is adopted. Another one — a re-imaged or
  restored appliance, whose seqs restart or repeat — is refused (`epoch_mismatch`, the
  message consumes nothing) until an operator re-enrols the site (`anchang site
  re-enrol`); the next status of a new epoch is then adopted and the stream continues
  from that store's own acked position. No row of the old epoch is touched.
- **Instance.** A new agent process of the same store takes over: the previous one is
  gone. But when the previous instance speaks again after the switch, within
  TWIN_WINDOW, with a message sent after the new one started sending, two agents run
  with one site's credentials (a cloned appliance): alarm, and the newer one is refused
  (`instance_conflict`) until an operator decides (`anchang site resolve-twin`).

Every adoption, refusal and alarm is audited; the caller holds the site's row lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import update
from sqlmodel import Session, col

from cloud.audit import service as audit_service
from cloud.sync.models import SiteLink, SyncEvent
from shared.errors import ValidationFailed
from shared.timeutil import as_utc

# Two instances both heard within this window are two agents, not a restart.
TWIN_WINDOW = timedelta(minutes=5)
# A refused epoch is audited again at most this often (an old appliance keeps trying).
REFUSAL_AUDIT_EVERY = timedelta(minutes=10)

EPOCH_MISMATCH = "epoch_mismatch"


class UnknownInstance(ValidationFailed):
    code = "unknown_instance"
    title = "该实例不是这个案场正在使用的两台设备之一，请核对控制台“案场设备”页显示的实例"

    def __init__(self, instance: str) -> None:
        super().__init__(extra={"instance": instance})
INSTANCE_CONFLICT = "instance_conflict"


def _audit(session: Session, link: SiteLink, action: str, result: str, **detail: object
           ) -> None:
    audit_service.record(session, action=action, result=result, actor=f"site:{link.site_id}",
                         object_type="site", object_id=link.site_id, detail=detail)


def epoch_refusal(session: Session, link: SiteLink, epoch: UUID, now: datetime) -> str | None:
    """None when `epoch` is the site's; else the refusal (recorded on the link)."""
    if link.epoch == str(epoch):
        return None
    if link.epoch is None:
        return None  # not enrolled yet: the first status adopts it
    due = link.epoch_refused_at is None or now - as_utc(link.epoch_refused_at) > \
        REFUSAL_AUDIT_EVERY or link.refused_epoch != str(epoch)
    link.refused_epoch, link.epoch_refused_at = str(epoch), now
    if due:
        _audit(session, link, "sync.epoch_refused", "failure", epoch=str(epoch),
               enrolled=link.epoch, reenrol_allowed=link.reenrol_allowed)
    return EPOCH_MISMATCH


def adopt_epoch(session: Session, link: SiteLink, epoch: UUID, acked_position: int) -> bool:
    """From a status: adopt `epoch` when the site has none yet, or an operator allowed a
    new one. Returns True when the site now speaks `epoch`."""
    value = str(epoch)
    if link.epoch == value:
        return True
    if link.epoch is None:
        # The stream from before epochs is this store's: its applied events become its.
        session.execute(update(SyncEvent).where(
            col(SyncEvent.site_id) == link.site_id, col(SyncEvent.epoch) == "").values(
            epoch=value))
        link.epoch = value
        _audit(session, link, "sync.epoch_enrolled", "success", epoch=value,
               continues_from=link.last_applied_seq)
        return True
    if not link.reenrol_allowed:
        return False
    previous = link.epoch
    link.epoch, link.reenrol_allowed = value, False
    link.refused_epoch = link.epoch_refused_at = None
    # The new store continues from what it knows the cloud acked (0 for a fresh one).
    link.last_applied_seq = link.highest_seen_seq = acked_position
    link.gap_since, link.gap_alarm, link.stalled = None, False, False
    link.conflict_alarm = link.cloud_behind_alarm = False
    _audit(session, link, "sync.epoch_changed", "success", previous=previous, epoch=value,
           continues_from=acked_position)
    return True


def instance_refusal(session: Session, link: SiteLink, instance: UUID, now: datetime,
                     *, live: bool, sent_at: datetime) -> str | None:
    """None when `instance` may speak for the site; INSTANCE_CONFLICT when it is the
    newer of two agents running at once. Only what a running agent sends is evidence: a
    retained status replayed on subscribe, or an offline one (a last will, published by
    the broker when the next agent takes over the connection), is not (`live` False);
    nor is a late frame (`is_late_frame`), whose content is still good: it comes from
    the same store."""
    value = str(instance)
    if link.refused_instance == value:
        return INSTANCE_CONFLICT
    if link.instance == value:
        _heard_current(link, now, sent_at)
        return None
    if not live or is_late_frame(link, instance, sent_at):
        return None  # no switch back to an agent that has ended
    recent = link.instance_switched_at is not None and \
        now - as_utc(link.instance_switched_at) < TWIN_WINDOW
    if link.previous_instance == value and recent:
        # The instance we switched away from is still talking: two agents, one site.
        newer = link.instance
        link.instance, link.previous_instance = value, None
        link.instance_offset, link.previous_offset = link.previous_offset, None
        link.instance_since = None
        _heard_current(link, now, sent_at)
        link.refused_instance, link.twin_alarm = newer, True
        _audit(session, link, "sync.twin_detected", "failure", kept=value, refused=newer)
        return None
    # A new agent process (a restart, an upgrade): it takes over.
    link.previous_instance, link.instance = link.instance, value
    link.previous_offset, link.instance_offset = link.instance_offset, None
    link.instance_switched_at, link.instance_since = now, None
    _heard_current(link, now, sent_at)
    return None


def _heard_current(link: SiteLink, now: datetime, sent_at: datetime) -> None:
    sent_at = as_utc(sent_at)
    if link.instance_since is None or sent_at < as_utc(link.instance_since):
        link.instance_since = sent_at
    offset = (now - sent_at).total_seconds()
    if link.instance_offset is None or offset < link.instance_offset:
        link.instance_offset = offset


def is_late_frame(link: SiteLink, instance: UUID, sent_at: datetime) -> bool:
    """A message of the previous agent sent before the current one started sending — a
    frame a proxy buffered, or the broker delivered behind the new agent's first: what it
    says about the appliance's state is out of date, and it is no sign of a second agent.
    Judged by the appliance's clock (the same on both sides of a restart) or, when that
    clock was stepped between the two agents, by the previous agent's send time brought
    to our clock; a clone sending after the switch passes neither."""
    if link.previous_instance != str(instance) or link.instance_switched_at is None:
        return False
    sent_at = as_utc(sent_at)
    if link.instance_since is not None and sent_at < as_utc(link.instance_since):
        return True
    return link.previous_offset is not None and \
        sent_at + timedelta(seconds=link.previous_offset) < as_utc(link.instance_switched_at)


def allow_reenrol(session: Session, link: SiteLink, *, actor: str) -> None:
    link.reenrol_allowed = True
    audit_service.record(session, action="sync.reenrol_allowed", actor=actor,
                         object_type="site", object_id=link.site_id,
                         detail={"epoch": link.epoch, "refused_epoch": link.refused_epoch})


def resolve_twin(session: Session, link: SiteLink, keep: str, *, actor: str) -> None:
    """The operator chose which of two agents speaks for the site; the other stays
    refused (it should be switched off)."""
    if keep not in (link.instance, link.refused_instance):
        raise UnknownInstance(keep)
    other = link.refused_instance if keep == link.instance else link.instance
    link.instance, link.previous_instance = keep, None
    link.instance_since = link.instance_offset = link.previous_offset = None  # learnt anew
    link.refused_instance, link.twin_alarm = other, False
    audit_service.record(session, action="sync.twin_resolved", actor=actor,
                         object_type="site", object_id=link.site_id,
                         detail={"kept": keep, "refused": other})
