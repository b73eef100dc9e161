"""线索动态: everything known of one sales customer as a lead, newest first — the opens
and page views of the leads with the customer's number at the customer's project (the
visitor of the share each lead came through), the leads' creation, changes of the
customer's record (from the audit log), the referrals with the number, the visits and the
follow-ups. Scoped as the customer (another site's customer is 404).

Each kind is read newest first up to the limit, so the newest `limit` of all are among
them; `has_more` says when the answer was cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.channel import partners
from cloud.channel.lead_models import Lead, Share, ShareEvent
from cloud.channel.lead_schemas import LeadTimelineItem, LeadTimelineOut, TimelineKind
from cloud.channel.models import Agency, Broker, Referral
from cloud.channel.overrides import reason_text
from cloud.identity.deps import Principal
from cloud.identity.models import User
from cloud.sales import follow_ups
from cloud.sales import service as sales_service
from cloud.sales.models import Visit, is_erased
from shared.timeutil import SHANGHAI, as_utc

MAX_ITEMS = 200
# Audit actions on a customer that read it rather than change it.
READ_ACTIONS = ("customer.unmask", "customer.lookup")
PAGE_NAMES = {"overview": "项目概况", "layouts": "户型", "campaign": "活动详情",
              "form": "留资表单"}
STATE_NAMES = {"pending": "待确认", "confirmed": "有效", "invalid": "无效", "expired": "已失效"}
FIELD_NAMES = {"name": "姓名", "phone": "手机号", "owner_id": "归属顾问", "status": "状态",
               "project_id": "项目"}
FOLLOW_UP_NAMES = {"call": "电话", "visit": "到访", "wechat": "微信", "meeting": "面谈"}
ORDER = {"follow_up": 0, "visit": 1, "referral": 2, "profile_change": 3, "lead_created": 4,
         "page_view": 5, "share_open": 6}


@dataclass(frozen=True)
class _Item:
    kind: TimelineKind
    at: datetime
    actor: str
    summary: str
    object_id: str

    def out(self) -> LeadTimelineItem:
        at = as_utc(self.at)
        return LeadTimelineItem(
            kind=self.kind,
            at=at, local_time=at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
            actor=self.actor, summary=self.summary, object_id=self.object_id)


def timeline(session: Session, *, principal: Principal, customer_id: int,
             limit: int = MAX_ITEMS) -> LeadTimelineOut:
    customer = sales_service.get_customer(session, principal=principal,
                                          customer_id=customer_id)
    items: list[_Item] = []
    names = _BrokerNames(session)
    if not is_erased(customer.phone_bidx):
        leads = list(session.exec(select(Lead).where(
            Lead.project_id == customer.project_id,
            Lead.phone_bidx == customer.phone_bidx)).all())
        items += _lead_items(session, leads, names, limit)
        items += _referral_items(session, customer.project_id, customer.phone_bidx, names,
                                 limit)
    items += _record_changes(session, customer_id, limit)
    for v, consultant in session.exec(
            select(Visit, User.display_name)
            .outerjoin(User, col(User.id) == Visit.consultant_id)
            .where(Visit.customer_id == customer_id)
            .order_by(col(Visit.occurred_at).desc()).limit(limit)).all():
        kind = "首访" if v.is_first_visit else "复访"
        guided = f"，经纪人 {names.of(v.broker_id)} 带看" if v.broker_id else ""
        items.append(_Item("visit", v.occurred_at, consultant or "前台接待",
                           f"{kind}（{v.party_size} 人）{guided}", v.id))
    for f, who in follow_ups.list_for_customer(
            session, principal=principal, customer_id=customer_id, limit=limit):
        reached = "已联系上" if f.reached else "未联系上"
        items.append(_Item("follow_up", f.occurred_at, who or "置业顾问",
                           f"{FOLLOW_UP_NAMES.get(f.kind, f.kind)}跟进（{reached}）", f.id))
    items.sort(key=lambda i: (as_utc(i.at), -ORDER[i.kind], i.object_id), reverse=True)
    return LeadTimelineOut(customer_id=customer_id, items=[i.out() for i in items[:limit]],
                           has_more=len(items) > limit)


class _BrokerNames:
    """Brokers by id as '姓名（渠道公司）', read once each."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.known: dict[int, str] = {}

    def load(self, ids: set[int]) -> None:
        wanted = ids - self.known.keys()
        if not wanted:
            return
        rows = self.session.exec(select(Broker, Agency).join(
            Agency, col(Agency.id) == col(Broker.agency_id), isouter=True)
            .where(col(Broker.id).in_(wanted))).all()
        users = partners.user_names(self.session, {b.user_id for b, _ in rows})
        for broker, agency in rows:
            name = users.get(broker.user_id) or f"经纪人 #{broker.id}"
            self.known[broker.id or 0] = f"{name}（{agency.name}）" if agency else name

    def of(self, broker_id: int | None) -> str:
        if broker_id is None:
            return ""
        self.load({broker_id})
        return self.known.get(broker_id, f"经纪人 #{broker_id}")


def _lead_items(session: Session, leads: list[Lead], names: _BrokerNames,
                limit: int) -> list[_Item]:
    if not leads:
        return []
    names.load({lead.broker_id for lead in leads})
    shares = {s.id: s for s in session.exec(select(Share).where(
        col(Share.id).in_({lead.share_id for lead in leads}))).all()}
    items = [_Item("lead_created", lead.created_at, "访客本人",
                   f"通过经纪人 {names.of(lead.broker_id)} 的分享留资（{lead.phone_masked}）",
                   str(lead.id)) for lead in leads]
    pairs = or_(*[(col(ShareEvent.share_id) == lead.share_id)
                  & (col(ShareEvent.visitor_key) == lead.visitor_key) for lead in leads])
    events = session.exec(select(ShareEvent).where(pairs).order_by(
        col(ShareEvent.occurred_at).desc(), col(ShareEvent.id).desc()).limit(limit)).all()
    for e in events:
        share = shares.get(e.share_id)
        what = "活动" if share is not None and share.kind == "campaign" else "项目"
        by = names.of(share.broker_id if share else None)
        if e.kind == "open":
            items.append(_Item("share_open", e.occurred_at, "访客本人",
                               f"打开经纪人 {by} 分享的{what}页面", str(e.id)))
        else:
            page = PAGE_NAMES.get(e.page, e.page)
            items.append(_Item("page_view", e.occurred_at, "访客本人",
                               f"浏览「{page}」{e.seconds} 秒", str(e.id)))
    return items


def _referral_items(session: Session, project_id: int, phone_bidx: str,
                    names: _BrokerNames, limit: int) -> list[_Item]:
    rows = session.exec(select(Referral).where(
        Referral.project_id == project_id, Referral.phone_bidx == phone_bidx)
        .order_by(col(Referral.created_at).desc()).limit(limit)).all()
    names.load({r.broker_id for r in rows})
    return [_Item("referral", r.created_at, names.of(r.broker_id),
                  f"报备（{r.phone_masked}）：{STATE_NAMES.get(r.state, r.state)}，"
                  f"{reason_text(r.reason_code)}", str(r.id)) for r in rows]


def _record_changes(session: Session, customer_id: int, limit: int) -> list[_Item]:
    """Writes to the customer's record as the audit log has them (reads left out)."""
    rows = session.exec(select(AuditLog).where(
        AuditLog.object_type == "customer", AuditLog.object_id == str(customer_id),
        col(AuditLog.action).not_in(READ_ACTIONS), AuditLog.result == "success")
        .order_by(col(AuditLog.at).desc()).limit(limit)).all()
    return [_Item("profile_change", row.at, row.actor or "系统",
                  _change_text(row), str(row.id)) for row in rows]


def _change_text(row: AuditLog) -> str:
    fields = row.detail.get("fields") or row.detail.get("changed") or []
    listed = "、".join(FIELD_NAMES.get(str(f), str(f)) for f in fields) \
        if isinstance(fields, list) else ""
    return f"修改客户资料（{listed}）" if listed else "修改客户资料"
