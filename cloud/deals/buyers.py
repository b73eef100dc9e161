"""Who buys beside the buyer, and who checked the buyer's ID: a document's co-buyers
(共同购买人) and its ID check (证件核验), the facts the channel's deal risk checks read
(ADR 0055).

A co-buyer's name and phone are personal information: encrypted, the phone searched by
its blind index, linked to the project's customer of that number when the office has
one. An ID number is never stored: only its last four characters behind a mask and a
blind index of the type and number, enough to tell a later check of the same document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, delete, select

from cloud.deals import documents, scope
from cloud.deals.errors import CoBuyerInvalid, CoBuyersLocked, IdCheckRefused, IdNumberInvalid
from cloud.deals.models import Deal, DealCoBuyer
from cloud.deals.states import LIVE, Status
from cloud.identity.principal import Principal
from cloud.sales.models import Customer
from cloud.settings import CloudSettings
from shared.names import mask_name
from shared.phone import mask_phone, normalise_phone
from shared.timeutil import utcnow

NAME_CONTEXT = "deal.co_buyer_name"
PHONE_CONTEXT = "deal.co_buyer_phone"
ID_PURPOSE = "deal.id_number"
MAX_CO_BUYERS = 4
ID_TYPES = {"resident_id": "居民身份证", "passport": "护照",
            "hk_macao_permit": "港澳居民来往内地通行证", "taiwan_permit": "台湾居民来往大陆通行证"}
_ID_FORMS = {
    "resident_id": re.compile(r"[0-9]{17}[0-9X]"),
    "passport": re.compile(r"[A-Z0-9]{5,17}"),
    "hk_macao_permit": re.compile(r"[HM][0-9]{8,10}"),
    "taiwan_permit": re.compile(r"[0-9]{8}"),
}
_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_CHECK = "10X98765432"


@dataclass(frozen=True)
class CoBuyer:
    name: str
    phone: str


def replace(session: Session, settings: CloudSettings, principal: Principal, deal_id: int,
            people: list[CoBuyer]) -> Deal:
    """Set a draft's co-buyers (the list replaces the one before); submitted documents
    change theirs through a change request."""
    deal = scope.deal(session, principal, deal_id, for_update=True)
    if deal.status != Status.DRAFT:
        raise CoBuyersLocked()
    write(session, settings, principal, deal, people)
    deal.updated_at = utcnow()
    session.add(deal)
    session.flush()
    return deal


def write(session: Session, settings: CloudSettings, principal: Principal, deal: Deal,
          people: list[CoBuyer]) -> None:
    """Store `people` as the document's co-buyers, audited with masked numbers."""
    phones = _checked(session, settings, deal, people)
    session.exec(delete(DealCoBuyer).where(col(DealCoBuyer.deal_id) == deal.id))
    bidxs = {phone: settings.blind_index.phone(phone) for phone in phones}
    known = dict(session.exec(select(Customer.phone_bidx, Customer.id).where(
        Customer.project_id == deal.project_id,
        col(Customer.phone_bidx).in_(bidxs.values()))).all()) if bidxs else {}
    for person, phone in zip(people, phones, strict=True):
        session.add(DealCoBuyer(
            deal_id=deal.id or 0,
            name_enc=settings.cipher.encrypt(person.name.strip(), context=NAME_CONTEXT),
            phone_enc=settings.cipher.encrypt(phone, context=PHONE_CONTEXT),
            phone_bidx=bidxs[phone], phone_masked=mask_phone(phone),
            customer_id=known.get(bidxs[phone])))
    session.flush()
    documents.audit(session, principal, deal, "deal.co_buyers",
                    {"co_buyers": [mask_phone(p) for p in phones]})


def _checked(session: Session, settings: CloudSettings, deal: Deal, people: list[CoBuyer]
             ) -> list[str]:
    if len(people) > MAX_CO_BUYERS:
        raise CoBuyerInvalid(f"共同购买人最多 {MAX_CO_BUYERS} 人")
    if any(not p.name.strip() for p in people):
        raise CoBuyerInvalid("请填写共同购买人姓名")
    phones = [normalise_phone(p.phone) for p in people]
    if len(set(phones)) != len(phones):
        raise CoBuyerInvalid("共同购买人的手机号码重复")
    buyer = session.get(Customer, deal.customer_id)
    if buyer is not None and buyer.phone_bidx in {settings.blind_index.phone(p) for p in phones}:
        raise CoBuyerInvalid("共同购买人不能是购房人本人")
    return phones


def copy(session: Session, parent: Deal, child: Deal) -> None:
    """A conversion's next document names the same co-buyers."""
    for row in of(session, parent.id or 0):
        session.add(DealCoBuyer(deal_id=child.id or 0, name_enc=row.name_enc,
                                phone_enc=row.phone_enc, phone_bidx=row.phone_bidx,
                                phone_masked=row.phone_masked, customer_id=row.customer_id))
    session.flush()


def of(session: Session, deal_id: int) -> list[DealCoBuyer]:
    return list(session.exec(select(DealCoBuyer).where(DealCoBuyer.deal_id == deal_id)
                             .order_by(col(DealCoBuyer.id))).all())


def shown(settings: CloudSettings, rows: list[DealCoBuyer]) -> list[dict[str, Any]]:
    """The co-buyers as the detail shows them: masked."""
    return [{"name": mask_name(settings.cipher.decrypt(r.name_enc, context=NAME_CONTEXT)) or "",
             "phone_masked": r.phone_masked, "customer_id": r.customer_id} for r in rows]


def check_id(session: Session, settings: CloudSettings, principal: Principal, deal_id: int,
             *, id_type: str, id_number: str) -> Deal:
    """Record that the buyer's ID was checked at the office now, by the caller."""
    deal = scope.deal(session, principal, deal_id, for_update=True)
    if Status(deal.status) not in LIVE:
        raise IdCheckRefused()
    number = normalised_id(id_type, id_number)
    deal.id_checked_by, deal.id_checked_at = principal.user_id, utcnow()
    deal.id_type, deal.id_masked = id_type, f"****{number[-4:]}"
    deal.id_bidx = settings.blind_index.of(ID_PURPOSE, f"{id_type}:{number}")
    deal.updated_at = deal.id_checked_at
    session.add(deal)
    session.flush()
    documents.audit(session, principal, deal, "deal.id_check",
                    {"id_type": id_type, "id_masked": deal.id_masked})
    return deal


def normalised_id(id_type: str, raw: str) -> str:
    """The number in its plain form, or IdNumberInvalid (a resident ID's check digit
    too, GB 11643)."""
    form = _ID_FORMS.get(id_type)
    number = re.sub(r"[\s-]", "", raw).upper()
    if form is None or not form.fullmatch(number):
        raise IdNumberInvalid(f"{ID_TYPES.get(id_type, '证件')}号码格式不正确")
    if id_type == "resident_id":
        total = sum(int(d) * w for d, w in zip(number[:17], _RESIDENT_WEIGHTS, strict=True))
        if _RESIDENT_CHECK[total % 11] != number[17]:
            raise IdNumberInvalid("居民身份证号码校验位不正确")
    return number
