"""Customers read within the principal's scope: shown, searched, unmasked; and the
contexts their number and name are encrypted under."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, Protocol, cast

from sqlalchemy import Select, bindparam
from sqlalchemy import select as core_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.audit.reads import record_reads
from cloud.identity.deps import Principal
from cloud.sales.models import Customer
from cloud.settings import CloudSettings
from shared.dbtypes import table_of
from shared.errors import NotFound
from shared.names import mask_name
from shared.phone import mask_phone, normalise_phone
from shared.rules import NotYourCustomer
from shared.timeutil import iso, utcnow

PHONE_CONTEXT = "customer.phone"
NAME_CONTEXT = "customer.name"


def _customers_with_site(session: Session, *criteria: ColumnElement[bool]
                         ) -> list[tuple[Customer, str]]:
    """Customers with their project's site, in one query: the scope check needs the site
    on every customer read (issue #24: one statement, not two)."""
    from cloud.catalog.models import Project

    rows = session.exec(
        select(Customer, Project.site_id)
        .join(Project, col(Project.id) == Customer.project_id)
        .where(*criteria)
    ).all()
    return [(customer, site_id) for customer, site_id in rows]


def _not_in_scope() -> NotFound:
    # Absent and out of scope answer alike: a consultant learns nothing of other sites.
    return NotFound("客户不存在或不在您的数据范围内", code="customer_not_found")


class ShownCustomer(Protocol):
    """A customer as the API shows it, with its project's site for the scope check. Read
    as a plain row of these columns, not an ORM entity: building the entity was about a
    third of a customer read's CPU (issue #24)."""

    id: int
    project_id: int
    name_enc: str | None
    phone_masked: str
    owner_id: int | None
    status: str
    visit_count: int
    first_visit_at: datetime
    last_visit_at: datetime
    protection_until: datetime


class ShownInScope(ShownCustomer, Protocol):
    """A shown customer with the site of its project, which the scope check reads."""

    site_id: str


# Table columns, executed on the session's connection: an ORM-enabled select of the same
# columns goes through the ORM's statement set-up, which cost as much as the entity did.
_SHOWN_COLUMNS = tuple(table_of(Customer).c[name] for name in ShownCustomer.__annotations__)


@cache
def _shown_by(column: str) -> Select[Any]:
    """The shown columns and the project's site of the customers whose `column` equals
    :value — built once: building and keying the statement per call cost about as much
    as executing it (issue #22)."""
    from cloud.catalog.models import Project

    customer, project = table_of(Customer), table_of(Project)
    return (core_select(*_SHOWN_COLUMNS, project.c.site_id)
            .join(project, project.c.id == customer.c.project_id)
            .where(customer.c[column] == bindparam("value")))


def _shown_in_scope(session: Session, principal: Principal, column: str, value: object
                    ) -> list[ShownInScope]:
    rows = session.connection().execute(_shown_by(column), {"value": value}).all()
    return [cast(ShownInScope, row) for row in rows if principal.sees_site(row.site_id)]


def show_customer(session: Session, *, principal: Principal, customer_id: int
                  ) -> ShownCustomer:
    """get_customer for showing: the same answer, read as a plain row."""
    return shown_with_site(session, principal=principal, customer_id=customer_id)[0]


def shown_with_site(session: Session, *, principal: Principal, customer_id: int
                    ) -> tuple[ShownCustomer, str]:
    """show_customer, with the site of its project that the scope check read anyway."""
    found = _shown_in_scope(session, principal, "id", customer_id)
    if not found:
        raise _not_in_scope()
    return found[0], found[0].site_id


def get_customer(session: Session, *, principal: Principal, customer_id: int) -> Customer:
    """Out-of-scope customers answer 404, so a consultant learns nothing of other sites."""
    return customer_and_site(session, principal=principal, customer_id=customer_id)[0]


def customer_and_site(session: Session, *, principal: Principal, customer_id: int
                      ) -> tuple[Customer, str]:
    """get_customer, with the site of its project that the scope check read anyway."""
    found = _customers_with_site(session, col(Customer.id) == customer_id)
    if not found or not principal.sees_site(found[0][1]):
        raise _not_in_scope()
    return found[0]


def find_customers(
    session: Session, *, principal: Principal, settings: CloudSettings, phone: str
) -> list[ShownCustomer]:
    """Search by full number through the blind index; the number itself is never queried.

    Audited as `customer.search` (who searched which customer: one row per customer
    found, or one naming the number by its blind index and mask when none was), so the
    channel's risk check sees searches made before a broker's referral."""
    number = normalise_phone(phone)
    bidx = settings.blind_index.phone(number)
    found: list[ShownCustomer] = list(
        _shown_in_scope(session, principal, "phone_bidx", bidx))
    detail = {"phone_masked": mask_phone(number), "phone_bidx": bidx,
              "searched_at": iso(utcnow())}
    named: list[ShownCustomer | None] = list(found) or [None]
    record_reads(session, [dict(
        action="customer.search", principal=principal, object_type="customer",
        object_id=str(customer.id) if customer else "",
        # Unknown numbers: the sites searched (None: all), to match a later referral.
        detail={**detail, **({"project_id": customer.project_id} if customer else
                             {"site_ids": None if principal.site_ids is None
                              else sorted(principal.site_ids)})})
        for customer in named])
    return found


def unmask_phone(
    session: Session, *, principal: Principal, settings: CloudSettings, customer_id: int,
    reason: str,
) -> str:
    customer = get_customer(session, principal=principal, customer_id=customer_id)
    phone = settings.cipher.decrypt(customer.phone_enc, context=PHONE_CONTEXT)
    audit_service.record(
        session, action="customer.unmask", principal=principal, ip=principal.ip,
        object_type="customer", object_id=str(customer.id),
        detail={"field": "phone", "reason": reason},
    )
    return phone


def reveal_for_contact(
    session: Session, *, principal: Principal, settings: CloudSettings, customer_id: int,
    reason: str,
) -> tuple[Customer, str]:
    """The number of a customer the consultant owns, to call them (tap-to-call): audited
    as any unmasking, with its purpose."""
    customer = get_customer(session, principal=principal, customer_id=customer_id)
    if customer.owner_id != principal.user_id:
        raise NotYourCustomer()
    phone = settings.cipher.decrypt(customer.phone_enc, context=PHONE_CONTEXT)
    audit_service.record(
        session, action="customer.unmask", principal=principal, ip=principal.ip,
        object_type="customer", object_id=str(customer.id),
        detail={"field": "phone", "reason": reason, "purpose": "call", "via": "cloud"},
    )
    return customer, phone


class Named(Protocol):
    name_enc: str | None


def decrypt_name(settings: CloudSettings, customer: Named) -> str | None:
    if customer.name_enc is None:
        return None
    return settings.cipher.decrypt(customer.name_enc, context=NAME_CONTEXT)


def masked_name(settings: CloudSettings, customer: Named) -> str | None:
    """张** — the form shown to roles that may not see the name (of fixed length)."""
    return mask_name(decrypt_name(settings, customer))
