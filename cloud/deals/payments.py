"""Money received on a document (回款). Loan money (商业按揭, 公积金, 组合贷) counts as
received only when the bank disburses it: it is recorded then, as the bank's, and only
on a document whose payment method is a loan."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from cloud.deals import documents, scope
from cloud.deals.errors import PaymentRefused
from cloud.deals.models import DealPayment
from cloud.deals.states import Status
from cloud.identity.principal import Principal
from shared.payment import LOANS
from shared.timeutil import utcnow

# Documents money may be recorded on: saved and not ended.
_OPEN = frozenset({Status.SUBMITTED, Status.APPROVED, Status.CHANGE_PENDING, Status.OVERDUE})


def record(session: Session, principal: Principal, deal_id: int, *, amount_fen: int,
           source: str, received_at: datetime | None, note: str) -> DealPayment:
    deal = scope.deal(session, principal, deal_id, for_update=True)
    if Status(deal.status) not in _OPEN:
        raise PaymentRefused("只能为已提交且未结束的单据登记收款")
    if source == "bank" and deal.payment_method not in LOANS:
        raise PaymentRefused("该单据的付款方式不是贷款，不能登记银行放款")
    when = received_at or utcnow()
    if when > utcnow():
        raise PaymentRefused("收款时间不能晚于现在")
    assert deal.id is not None
    row = DealPayment(deal_id=deal.id, amount_fen=amount_fen, source=source,
                      received_at=when, recorded_by=principal.user_id, note=note.strip())
    session.add(row)
    session.flush()
    documents.audit(session, principal, deal, "deal.payment",
                    {"payment_id": row.id, "payment_fen": amount_fen, "source": source})
    return row


def listing(session: Session, deal_id: int) -> list[DealPayment]:
    return list(session.exec(select(DealPayment).where(DealPayment.deal_id == deal_id)
                             .order_by(col(DealPayment.id))).all())
