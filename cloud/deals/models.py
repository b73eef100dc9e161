"""Deal documents (认筹 / 认购 / 签约), their change requests, payments received, the
opening-day call queue and the per-project deal settings.

One live deal per unit is the database's to enforce: `uq_deal_live_unit` is a partial
unique index over the documents that hold a unit (every status but the ended ones), so of
two transactions saving a deal on one unit the second fails at its INSERT or UPDATE
whatever the application checked before (ADR 0038).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Double, Index, text
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.timeutil import utcnow

# The statuses in which a document holds its unit (cloud.deals.states.LIVE).
LIVE_SQL = "status IN ('draft', 'submitted', 'approved', 'change_pending', 'overdue')"
_LIVE_UNIT = text(f"unit_id IS NOT NULL AND {LIVE_SQL}")
_PENDING = text("status = 'pending'")


class Deal(SQLModel, table=True):
    """A deal document: a pledge, a subscription or a contract. A conversion makes the
    next document with `parent_id` naming the one it came from."""

    __tablename__ = "deal"
    __table_args__ = (
        Index("uq_deal_live_unit", "unit_id", unique=True,
              postgresql_where=_LIVE_UNIT, sqlite_where=_LIVE_UNIT),
        Index("ix_deal_project_status", "project_id", "status", "id"),
        CheckConstraint("kind IN ('pledge', 'subscription', 'contract')", name="ck_deal_kind"),
        CheckConstraint("price_fen >= 0 AND amount_fen >= 0", name="ck_deal_money"),
        CheckConstraint("signed_place_source IN ('device', 'site')",
                        name="ck_deal_signed_place_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    customer_id: int = Field(foreign_key="customer.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    parent_id: int | None = Field(default=None, foreign_key="deal.id", index=True)
    kind: str = Field(max_length=12, description="pledge | subscription | contract")
    status: str = Field(default="draft", max_length=16, description="cloud.deals.states")
    # True while a converted document rides on its parent's hold of the unit: the unit
    # keeps the parent's state until this document is approved.
    unit_carried: bool = False
    buyer_name_enc: str = Field(max_length=300, description="AES-GCM, context deal.buyer_name")
    payment_method: str = Field(max_length=16, description="shared.payment.PAYMENT_METHODS")
    # Money in fen: the agreed total price (0 for a pledge without a unit), the unit's list
    # and floor prices when the document was saved, and the money this document asks for
    # now (认筹金, 定金, 首付), of which `carried_fen` came from the parent document.
    price_fen: int = Field(default=0, sa_type=BigInteger)
    list_price_fen: int = Field(default=0, sa_type=BigInteger)
    floor_price_fen: int = Field(default=0, sa_type=BigInteger)
    amount_fen: int = Field(default=0, sa_type=BigInteger)
    carried_fen: int = Field(default=0, sa_type=BigInteger)
    consultant_id: int = Field(foreign_key="app_user.id", index=True)
    created_by: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    submitted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    approved_by: int | None = Field(default=None, foreign_key="app_user.id")
    approved_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    decision_note: str = Field(default="", max_length=200)
    # A subscription's contract deadline (签约期限): past it, the job marks it overdue.
    contract_due_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ended_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ended_reason: str = Field(default="", max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    # Where a contract was signed, when the seller gave it (the far-signing check): the
    # phone's position (`device`), or the office (`site`: its configured position, copied
    # when set; none yet, the check reads the site's at its run). Migration 0048.
    signed_lat: float | None = Field(default=None, sa_type=Double)
    signed_lng: float | None = Field(default=None, sa_type=Double)
    signed_place_source: str | None = Field(default=None, max_length=8,
                                            description="device 手机定位 / site 案场")
    # The buyer's ID checked at the office (the unverified-buyer check): by whom, when,
    # which document; its number only masked and as a blind index, never in clear.
    id_checked_by: int | None = Field(default=None, foreign_key="app_user.id")
    id_checked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    id_type: str | None = Field(default=None, max_length=16,
                                description="cloud.deals.buyers.ID_TYPES")
    id_masked: str | None = Field(default=None, max_length=24)
    id_bidx: str | None = Field(default=None, max_length=64)


class DealCoBuyer(SQLModel, table=True):
    """A co-buyer (共同购买人) named on a document beside its buyer: name and phone
    encrypted, the phone's blind index, and the project's customer of that number when
    the office knows one (the joint-buyers check follows it)."""

    __tablename__ = "deal_co_buyer"
    __table_args__ = (
        Index("uq_deal_co_buyer_phone", "deal_id", "phone_bidx", unique=True),
        Index("ix_deal_co_buyer_phone", "phone_bidx"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", index=True)
    name_enc: str = Field(max_length=300, description="AES-GCM, context deal.co_buyer_name")
    phone_enc: str = Field(max_length=200, description="AES-GCM, context deal.co_buyer_phone")
    phone_bidx: str = Field(max_length=64)
    phone_masked: str = Field(max_length=11)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class DealChange(SQLModel, table=True):
    """A change request (变更) on an approved document: 退房, 换房, 更名 or a new price;
    a manager applies or rejects it."""

    __tablename__ = "deal_change"
    __table_args__ = (
        # One pending change per document at a time.
        Index("uq_deal_change_pending", "deal_id", unique=True,
              postgresql_where=_PENDING, sqlite_where=_PENDING),
        CheckConstraint("kind IN ('cancel', 'swap', 'rename', 'price')",
                        name="ck_deal_change_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", index=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    kind: str = Field(max_length=8, description="cancel | swap | rename | price")
    new_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    new_buyer_name_enc: str | None = Field(default=None, max_length=300)
    new_price_fen: int | None = Field(default=None, sa_type=BigInteger)
    reason: str = Field(max_length=200)
    status: str = Field(default="pending", max_length=10,
                        description="pending | applied | rejected")
    requested_by: int = Field(foreign_key="app_user.id")
    requested_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    decision_note: str = Field(default="", max_length=200)


class DealPayment(SQLModel, table=True):
    """Money received on a document (回款): the buyer's, or a bank's disbursement of a
    loan. Loan money counts as received only when the bank disburses it, so a loan is
    never recorded before."""

    __tablename__ = "deal_payment"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="ck_deal_payment_amount"),
        CheckConstraint("source IN ('buyer', 'bank')", name="ck_deal_payment_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", index=True)
    amount_fen: int = Field(sa_type=BigInteger)
    source: str = Field(max_length=8, description="buyer | bank (a disbursed loan)")
    received_at: datetime = Field(sa_column=utc_column())
    recorded_by: int = Field(foreign_key="app_user.id")
    note: str = Field(default="", max_length=200)


class DealCall(SQLModel, table=True):
    """开盘选房: an approved pledge's place in the opening-day queue. Called by number; a
    missed call moves behind the next; a chosen unit is held for the subscription."""

    __tablename__ = "deal_call"
    __table_args__ = (
        Index("uq_deal_call_pledge", "pledge_id", unique=True),
        Index("ix_deal_call_queue", "project_id", "status", "position"),
        # A picked unit is held for one pledge at a time.
        Index("uq_deal_call_held_unit", "unit_id", unique=True,
              postgresql_where=text("status = 'picked'"), sqlite_where=text("status = 'picked'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    pledge_id: int = Field(foreign_key="deal.id")
    number: int = Field(description="the number called out (筹号)")
    position: int = Field(description="order in the queue; a missed call moves behind")
    status: str = Field(default="waiting", max_length=10,
                        description="waiting | called | picked | done")
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    called_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    hold_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class DealSetting(SQLModel, table=True):
    """A project's deal numbers (absent: the rules page's defaults)."""

    __tablename__ = "deal_setting"

    project_id: int = Field(foreign_key="project.id", primary_key=True)
    contract_days: int = Field(default=7, ge=1, le=90,
                               description="认购 → 签约 deadline (签约期限)")
    pick_hold_minutes: int = Field(default=15, ge=1, le=240,
                                   description="开盘选房: how long a chosen unit is held")
    # A draft holds its unit; one left this long is cancelled by the sweep (the unit back
    # on the market). The default is the longest 预留, so a draft is no longer hold.
    draft_days: int = Field(default=3, ge=1, le=30,
                            description="days a draft may hold its unit")
    # Discount authority (折扣权限) of the approving roles, in percent of the way from the
    # list price to the floor price: 0 = the list price only, 100 = down to the floor.
    # A consultant has none (the rules page) and approves nothing.
    manager_discount_pct: int = Field(default=100, ge=0, le=100)
    director_discount_pct: int = Field(default=100, ge=0, le=100)
    updated_by: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
