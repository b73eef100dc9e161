"""Reading visits: the console's search (by phone through the blind index, customer,
consultant, first or return visit, site, project, Beijing calendar days), scoped by the
principal's sites, paged by keyset cursor or by page number, with the exact total.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Select as CoreSelect
from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select, SelectOfScalar

from cloud.identity.deps import Principal
from cloud.identity.models import User
from cloud.sales.models import Customer, Visit, VisitDayCount
from cloud.settings import CloudSettings
from shared.errors import ValidationFailed
from shared.phone import is_masked, mask_phone, normalise_phone
from shared.timeutil import as_utc

# A page jump reads OFFSET rows first; past this depth the filters should be narrower.
MAX_PAGE_DEPTH = 10_000

VisitRow = tuple[Visit, Customer, str | None]
# The consultant's name comes from an outer join: None when no consultant was assigned.
RowsQuery = Select[Visit, Customer, str]
_Query = TypeVar("_Query", RowsQuery, SelectOfScalar[int], CoreSelect[Any])


class ListedVisit(Protocol):
    """A row of the visit list: the visit's columns it shows, the customer's masked phone
    and sealed name, the consultant's name. Read as plain rows, not ORM objects: building
    forty entities was about a third of a list request's CPU (issue #24)."""

    id: str
    site_id: str
    project_id: int
    customer_id: int
    consultant_id: int | None
    party_size: int
    intent_enc: str | None
    source: str
    is_first_visit: bool
    visit_date: date
    occurred_at: datetime
    edge_occurred_at: datetime
    time_corrected: bool
    consent_notice_version: str | None
    consent_method: str | None
    consent_accepted_at: datetime | None
    consent_recorded_at: datetime | None
    consent_tablet: str | None
    broker_id: int | None
    referral_id: int | None
    phone_masked: str
    name_enc: str | None
    consultant_name: str | None


# The visit's own columns of a ListedVisit: its fields but those read from the customer
# and the consultant.
_LISTED_VISIT_COLUMNS: tuple[Mapped[Any], ...] = tuple(
    col(getattr(Visit, name)) for name in ListedVisit.__annotations__
    if name not in {"phone_masked", "name_enc", "consultant_name"})

# Built once: composing the select (each column coerced, the joins) cost a tenth of a
# list request; the filters of a request are added to this immutable statement.
_LISTED = (
    core_select(*_LISTED_VISIT_COLUMNS, col(Customer.phone_masked), col(Customer.name_enc),
                col(User.display_name).label("consultant_name"))
    .join(Customer, col(Customer.id) == Visit.customer_id)
    .outerjoin(User, col(User.id) == Visit.consultant_id)
)
_DAY_TOTAL = core_select(func.coalesce(func.sum(VisitDayCount.visits), 0))


class PageOutOfRange(ValidationFailed):
    code = "page_out_of_range"
    title = f"只能翻到前 {MAX_PAGE_DEPTH:,} 条记录，请缩小查询范围（如日期、案场）后再查看"


class InvalidCursor(ValidationFailed):
    code = "invalid_cursor"
    title = "翻页游标无效，请从第一页重新查询"


class CursorWithPage(ValidationFailed):
    code = "cursor_with_page"
    title = "cursor 与 page 只能使用其中一个"


@dataclass(frozen=True)
class PhoneCriterion:
    """A phone search: the full number matches its blind index; the masked 138****5678
    form matches the index of its 3+4 key (it can match several customers)."""

    masked: str
    phone_bidx: str | None = None
    phone34_bidx: str | None = None

    @classmethod
    def parse(cls, settings: CloudSettings, raw: str) -> PhoneCriterion:
        text = raw.strip()
        if is_masked(text):
            return cls(masked=text, phone34_bidx=settings.blind_index.phone_masked(text))
        phone = normalise_phone(text)  # InvalidPhone (422) for anything else
        return cls(masked=mask_phone(phone), phone_bidx=settings.blind_index.phone(phone))


@dataclass(frozen=True)
class VisitFilter:
    site_id: str | None = None
    project_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    phone: PhoneCriterion | None = None
    customer_id: int | None = None
    consultant_id: int | None = None
    first_visit: bool | None = None

    def as_detail(self) -> dict[str, Any]:
        """The filters for an audit record: the phone only in its masked form."""
        detail = {k: v for k, v in self.__dict__.items() if v is not None and k != "phone"}
        if self.phone is not None:
            detail["phone"] = self.phone.masked
        return detail


@dataclass(frozen=True)
class VisitPage:
    rows: list[ListedVisit]
    next_cursor: str | None
    total: int


def _by_day(query: _Query, table: type[Visit] | type[VisitDayCount], principal: Principal,
            f: VisitFilter) -> _Query:
    """The WHERE clauses on what a visit_day_count row also has."""
    if principal.site_ids is not None:
        # One site is an equality: an IN list is re-rendered into the SQL text on every
        # execution (an "expanding" parameter), which cost more than the rest of the
        # statement's preparation.
        sites = tuple(principal.site_ids)
        query = query.where(col(table.site_id) == sites[0] if len(sites) == 1
                            else col(table.site_id).in_(sites))
    if f.site_id:
        query = query.where(col(table.site_id) == f.site_id)
    if f.project_id:
        query = query.where(col(table.project_id) == f.project_id)
    if f.date_from:
        query = query.where(col(table.visit_date) >= f.date_from)
    if f.date_to:
        query = query.where(col(table.visit_date) <= f.date_to)
    if f.first_visit is not None:
        query = query.where(col(table.is_first_visit) == f.first_visit)
    return query


def _scoped(query: _Query, principal: Principal, f: VisitFilter) -> _Query:
    """The WHERE clauses shared by the page, the count and the export."""
    query = _by_day(query, Visit, principal, f)
    if f.customer_id:
        query = query.where(col(Visit.customer_id) == f.customer_id)
    if f.consultant_id:
        query = query.where(col(Visit.consultant_id) == f.consultant_id)
    if f.phone is not None and f.phone.phone_bidx:
        query = query.where(col(Customer.phone_bidx) == f.phone.phone_bidx)
    if f.phone is not None and f.phone.phone34_bidx:
        query = query.where(col(Customer.phone34_bidx) == f.phone.phone34_bidx)
    return query


def _rows_query(principal: Principal, f: VisitFilter) -> RowsQuery:
    query = (
        select(Visit, Customer, User.display_name)
        .join(Customer, col(Customer.id) == Visit.customer_id)
        .outerjoin(User, col(User.id) == Visit.consultant_id)
    )
    return _scoped(query, principal, f)


def count(session: Session, *, principal: Principal, filters: VisitFilter) -> int:
    if filters.customer_id is None and filters.consultant_id is None and filters.phone is None:
        # Filters a day's count row also has: a sum over a few rows per site and day,
        # where counting the visits read up to a million index entries (50 ms each time).
        days = _by_day(_DAY_TOTAL, VisitDayCount, principal, filters)
        return int(session.connection().execute(days).scalar_one())
    query = select(func.count()).select_from(Visit)
    if filters.phone is not None:
        # Only the phone lives on the customer: without it the count reads visit's
        # indexes alone instead of joining a million rows to their customers.
        query = query.join(Customer, col(Customer.id) == Visit.customer_id)
    # The other filters pick one customer's or one consultant's visits, found by index.
    return int(session.connection().execute(_scoped(query, principal, filters)).scalar_one())


_Keyset = TypeVar("_Keyset", RowsQuery, CoreSelect[Any])


def _after(query: _Keyset, cursor: str) -> _Keyset:
    at_text, _, last_id = cursor.partition("|")
    try:
        at = datetime.fromisoformat(at_text)
    except ValueError as exc:
        raise InvalidCursor() from exc
    if at.tzinfo is None or not last_id:
        raise InvalidCursor()
    return query.where(
        (col(Visit.occurred_at) < at)
        | ((col(Visit.occurred_at) == at) & (col(Visit.id) < last_id))
    )


def _cursor_of(visit: Visit | ListedVisit) -> str:
    return f"{as_utc(visit.occurred_at).isoformat()}|{visit.id}"


def list_page(
    session: Session, *, principal: Principal, filters: VisitFilter, limit: int,
    cursor: str | None = None, page: int | None = None,
) -> VisitPage:
    """Newest first. `cursor` (the last row's occurred_at|id) continues a keyset walk;
    `page` (1-based) jumps, as deep as MAX_PAGE_DEPTH rows."""
    if cursor and page is not None:
        raise CursorWithPage()
    if page is not None and page * limit > MAX_PAGE_DEPTH:
        raise PageOutOfRange()
    query = _scoped(_LISTED, principal, filters)
    if cursor:
        query = _after(query, cursor)
    query = query.order_by(col(Visit.occurred_at).desc(), col(Visit.id).desc())
    if page is not None:
        query = query.offset((page - 1) * limit)
    found = session.execute(query.limit(limit + 1)).all()
    rows = cast(list[ListedVisit], found[:limit])
    next_cursor = _cursor_of(rows[-1]) if len(found) > limit else None
    return VisitPage(rows, next_cursor, count(session, principal=principal, filters=filters))


def iter_rows(
    session: Session, *, principal: Principal, filters: VisitFilter, max_rows: int,
    batch: int = 1000,
) -> Iterator[VisitRow]:
    """Newest first, at most max_rows, read by keyset in batches so memory stays flat
    (each batch leaves the session once the next is read)."""
    cursor: str | None = None
    remaining = max_rows
    while remaining > 0:
        query = _rows_query(principal, filters)
        if cursor:
            query = _after(query, cursor)
        size = min(remaining, batch)
        rows = session.exec(query.order_by(col(Visit.occurred_at).desc(),
                                           col(Visit.id).desc()).limit(size)).all()
        yield from rows
        remaining -= len(rows)
        if len(rows) < size:
            return
        cursor = _cursor_of(rows[-1][0])
        # A large export must not pile up in the identity map.
        for obj in {id(o): o for v, c, _ in rows for o in (v, c)}.values():
            if obj in session:
                session.expunge(obj)
