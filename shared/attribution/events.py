"""Facts the engine judges: one customer's history at one project.

Times are server timestamps in UTC; every event has an id that is stable across
replays (the sync envelope's event_id, or the database row's), which is also the
tie-break between events of the same instant. Expiries and lapses are not events: the
engine derives them from the windows and the "as of" time.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.attribution.masks import is_masked, parse_phone
from shared.attribution.rules import DealStage
from shared.phone import InvalidPhone
from shared.timeutil import UtcDateTime

EventId = Annotated[str, Field(min_length=1, max_length=100)]
ActorId = Annotated[str, Field(min_length=1, max_length=64)]


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: EventId
    at: UtcDateTime


class Referral(_Event):
    """报备: a broker registers the customer, with a full or a masked number."""

    kind: Literal["referral"] = "referral"
    project_id: str = Field(min_length=1, max_length=64)
    broker_id: ActorId
    agency_id: ActorId
    # The channel team whose rule overrides apply (None: the project's rules).
    team: str | None = Field(default=None, max_length=64)
    phone: str
    name: str = Field(max_length=40)
    # The broker's live referrals elsewhere when this one was submitted, recorded by the
    # cloud with the referral: the cap spans customers, the engine sees one.
    broker_live_referrals: int = Field(default=0, ge=0)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return _phone(value)


class Visit(_Event):
    """到访 registered at reception: natural, or guided by a broker (渠道带访)."""

    kind: Literal["visit"] = "visit"
    broker_id: ActorId | None = None
    agency_id: ActorId | None = None
    consultant_id: ActorId | None = None


class QrCheckIn(_Event):
    """扫码带看: the broker's QR code scanned on arrival, the on-site confirmation of a
    guided visit; may carry the full number that completes a masked referral."""

    kind: Literal["qr_check_in"] = "qr_check_in"
    broker_id: ActorId
    agency_id: ActorId | None = None
    consultant_id: ActorId | None = None
    phone: str | None = None

    @field_validator("phone")
    @classmethod
    def _full_phone(cls, value: str | None) -> str | None:
        return None if value is None else _full(value)


class ReferralReview(_Event):
    """The developer's review of a referral, where the rules ask for one (报备审核)."""

    kind: Literal["referral_review"] = "referral_review"
    referral_id: EventId
    approved: bool


class Override(_Event):
    """人工改判: a person's decision on a referral — an appeal upheld, a risk case that
    voided it, a risk check that blocked it. The engine takes it as a fact at its time:
    later facts and later referrals are judged after it (docs/attribution.md)."""

    kind: Literal["override"] = "override"
    referral_id: EventId
    state: Literal["pending", "confirmed", "invalid", "expired"]
    code: Literal["appeal_upheld", "risk_voided", "risk_blocked"]


class FollowUp(_Event):
    """跟进 by a consultant or the owning broker; only an effective one keeps a claim."""

    kind: Literal["follow_up"] = "follow_up"
    actor_id: ActorId
    effective: bool = True


class DealMilestone(_Event):
    kind: Literal["deal"] = "deal"
    stage: DealStage


class NumberCompletion(_Event):
    """补全号码: the full number of a masked referral."""

    kind: Literal["completion"] = "completion"
    referral_id: EventId
    phone: str

    @field_validator("phone")
    @classmethod
    def _full_phone(cls, value: str) -> str:
        return _full(value)


class ConsultantAssignment(_Event):
    """分配 / 转交 by a manager: the customer's consultant from now on."""

    kind: Literal["consultant_assignment"] = "consultant_assignment"
    consultant_id: ActorId


class PoolRelease(_Event):
    """The customer moved to the public pool (公客池) by a manager."""

    kind: Literal["pool_release"] = "pool_release"


class OldOwnerFact(_Event):
    """The customer owns a unit: of this project, or of another project of the group."""

    kind: Literal["old_owner"] = "old_owner"
    scope: Literal["group", "project"]


Event = Annotated[
    Referral | ReferralReview | Visit | QrCheckIn | FollowUp | DealMilestone | NumberCompletion
    | ConsultantAssignment | PoolRelease | OldOwnerFact | Override,
    Field(discriminator="kind"),
]


def _phone(value: str) -> str:
    # A validator must raise ValueError for pydantic to report the field.
    try:
        return parse_phone(value)
    except InvalidPhone as exc:
        raise ValueError(exc.detail) from exc


def _full(value: str) -> str:
    phone = _phone(value)
    if is_masked(phone):
        raise ValueError("此处须填写完整手机号")
    return phone
