"""A project's reception settings (接待设置) at the cloud: read and changed in the console
by a sales manager, director or HQ within their sites, audited with what changed, and
sent to the office's appliance as a `reception.settings` down-feed item. Changes made on
the appliance arrive as `settings_changed` rota events (cloud.reception.sync_events).

The merge rule both ends obey (ADR 0051): each change carries its time — the cloud's
for the console, the appliance's (corrected by its measured skew) for the office — and
the newer wins; on a tie the cloud's stays. An appliance change the cloud finds older
than its own is answered with the cloud's settings again, naming that change
(`supersedes_at`), so the appliance gives it up whatever its clock says.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.catalog.models import Project
from cloud.identity.models import User
from cloud.identity.principal import Principal
from cloud.reception.models import ReceptionSetting
from cloud.reception.schemas import ReceptionSettingsOut
from cloud.settings import CloudSettings
from cloud.sync import feed
from cloud.sync.feed import DerivedKind, register_kind
from cloud.sync.models import SiteLink
from shared.errors import NotFound
from shared.reception import (
    DEFAULT_RULES,
    RECEPTION_SETTINGS,
    ReceptionRules,
    ReceptionSettingsItem,
    changes,
)
from shared.timeutil import as_utc, utcnow

CONSOLE = "console"
# Stamps only grow: a console change after an appliance change stamped ahead of our
# clock is still the newer one.
TICK = timedelta(microseconds=1)


class ProjectNotFound(NotFound):
    code = "project_not_found"
    title = "项目不存在或不在您的数据范围内"


def _project(session: Session, principal: Principal, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None or not principal.sees_site(project.site_id):
        raise ProjectNotFound()
    return project


def rules_of(row: ReceptionSetting | None) -> ReceptionRules:
    return DEFAULT_RULES if row is None else ReceptionRules.model_validate(row.rules)


def _out(session: Session, project_id: int, row: ReceptionSetting | None
         ) -> ReceptionSettingsOut:
    name = None
    if row is not None and row.changed_by is not None:
        name = session.exec(select(User.display_name).where(
            col(User.id) == row.changed_by)).first()
    return ReceptionSettingsOut(
        project_id=project_id, rules=rules_of(row), defaults=DEFAULT_RULES,
        changed_at=row.changed_at if row else None, changed_by=row.changed_by if row else None,
        changed_by_name=name, changed_via=row.changed_via if row else None)


def read(session: Session, principal: Principal, project_id: int) -> ReceptionSettingsOut:
    _project(session, principal, project_id)
    return _out(session, project_id, session.get(ReceptionSetting, project_id))


def save(session: Session, principal: Principal, project_id: int,
         rules: ReceptionRules) -> ReceptionSettingsOut:
    """The console's change: stamped now, audited, sent to the office's appliance."""
    project = _project(session, principal, project_id)
    link = session.get(SiteLink, project.site_id, with_for_update=True)
    row = session.get(ReceptionSetting, project_id, with_for_update=True)
    changed = changes(rules_of(row), rules)
    if not changed:
        return _out(session, project_id, row)
    now = utcnow()
    if row is None:
        row = ReceptionSetting(project_id=project_id, rules={}, changed_at=now,
                               changed_via=CONSOLE)
    row.rules = rules.model_dump(mode="json")
    row.changed_at = max(now, as_utc(row.changed_at) + TICK)
    row.changed_by, row.changed_via = principal.user_id, CONSOLE
    session.add(row)
    session.flush()
    audit_service.record(session, action="reception.settings", principal=principal,
                         ip=principal.ip, object_type="project", object_id=str(project_id),
                         detail={"changed": changed, "via": CONSOLE})
    if link is not None:
        announce(session, link.site_id, row)
    return _out(session, project_id, row)


def apply_site_change(session: Session, site_id: str, *, project_id: int,
                      rules: ReceptionRules, at: datetime, sent_at: datetime, by: int,
                      row: ReceptionSetting | None) -> ReceptionSetting | None:
    """An appliance's change (`at`: on our clock; `sent_at`: the appliance's own stamp).
    Kept when newer than what we hold, and audited: the row kept is returned. Otherwise
    the appliance is sent our settings again, naming its change, and None returned."""
    if row is not None and as_utc(at) <= as_utc(row.changed_at):
        announce(session, site_id, row, supersedes_at=sent_at)
        return None
    changed = changes(rules_of(row), rules)
    if row is None:
        row = ReceptionSetting(project_id=project_id, rules={}, changed_at=at,
                               changed_via=f"site:{site_id}")
    row.rules, row.changed_at = rules.model_dump(mode="json"), at
    row.changed_by, row.changed_via = by, f"site:{site_id}"
    session.add(row)
    audit_service.record(session, action="reception.settings", actor=f"user:{by}",
                         object_type="project", object_id=str(project_id),
                         detail={"changed": changed, "via": f"site:{site_id}"})
    return row


def feed_item(row: ReceptionSetting, *, supersedes_at: datetime | None = None
              ) -> dict[str, Any]:
    return ReceptionSettingsItem(
        project_id=row.project_id, rules=rules_of(row), changed_at=as_utc(row.changed_at),
        changed_by=row.changed_by, supersedes_at=supersedes_at).model_dump(mode="json")


def announce(session: Session, site_id: str, row: ReceptionSetting, *,
             supersedes_at: datetime | None = None) -> None:
    feed.append(session, site_id, RECEPTION_SETTINGS, str(row.project_id),
                feed_item(row, supersedes_at=supersedes_at))


def site_settings(session: Session, settings: CloudSettings, link: SiteLink
                  ) -> dict[str, dict[str, Any]]:
    """What a snapshot states: the saved settings of the site's projects (a project
    without a row keeps the appliance's own, the defaults until changed there)."""
    rows = session.exec(select(ReceptionSetting).join(
        Project, col(Project.id) == ReceptionSetting.project_id).where(
        Project.site_id == link.site_id)).all()
    return {str(r.project_id): feed_item(r) for r in rows}


register_kind(DerivedKind(RECEPTION_SETTINGS, site_settings, on_request=False))
