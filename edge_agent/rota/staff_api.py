"""Reception routes of the staff app (thin): a sales manager's board, penalties, settings,
claims and same-day corrections; an owner's stand-in notices."""

from __future__ import annotations

import uuid
from typing import TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from edge_agent.kiosk.api import visit_out
from edge_agent.kiosk.deps import SettingsDep, StoreDep
from edge_agent.kiosk.schemas import VisitOut
from edge_agent.rota import manager, penalties, service
from edge_agent.rota.rules import hq_change, rota_project, rules_of
from edge_agent.rota.schemas import HqChangeOut, PenaltyIn, PenaltyOut, RotaBoardOut
from edge_agent.staff_auth.deps import StaffDep, StaffUser
from edge_agent.store import Store
from shared.bounds import DB_INT_MAX
from shared.errors import Forbidden
from shared.events import Text, VisitSource
from shared.follow_ups import MANAGER_ROLES
from shared.reception import ReceptionRules
from shared.reception_events import VisitProfile
from shared.timeutil import utcnow

router = APIRouter(prefix="/staff/reception", tags=["staff 接待管理"])


class ManagerRequired(Forbidden):
    code = "manager_required"
    title = "仅销售经理可以进行此操作"


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consultant_id: int = Field(ge=1, le=DB_INT_MAX, description="认领的（之前接待过的）顾问")


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    profile: VisitProfile
    party_size: int | None = Field(None, ge=1, le=50)
    source: VisitSource | None = None
    reason: Text = Field(min_length=2, max_length=200, description="更正原因（必填）")


def _manager(staff: StaffUser) -> int:
    if not MANAGER_ROLES & set(staff.roles):
        raise ManagerRequired()
    return staff.id


T = TypeVar("T")


def _committed(store: Store, result: T) -> T:
    """Wake the sync loop: the write put an event in the outbox."""
    store.outbox_committed()
    return result


@router.get("/board", response_model=RotaBoardOut, summary="今日接待顺序（经理）")
async def board(staff: StaffDep, store: StoreDep, settings: SettingsDep) -> RotaBoardOut:
    _manager(staff)
    return await service.board(store, settings)


@router.post("/penalties", response_model=PenaltyOut, summary="处罚（拒接 / 漏问 / 挑客）")
async def penalise(body: PenaltyIn, staff: StaffDep, store: StoreDep,
                   settings: SettingsDep) -> PenaltyOut:
    by = _manager(staff)
    out = await store.write(penalties.penalise, settings, body.consultant_id, body.kind,
                            body.note, actor=f"user:{by}", now=utcnow())
    return PenaltyOut.model_validate(_committed(store, out))


@router.get("/settings", response_model=ReceptionRules, summary="接待设置")
async def get_settings(staff: StaffDep, store: StoreDep,
                       settings: SettingsDep) -> ReceptionRules:
    return await store.read(rules_of, rota_project(settings))


@router.get("/settings/hq-change", response_model=HqChangeOut | None,
            summary="总部最近一次改动本案场的接待设置（经理；此后本机改过则为空）")
async def get_hq_change(staff: StaffDep, store: StoreDep,
                        settings: SettingsDep) -> HqChangeOut | None:
    _manager(staff)
    change = await store.read(hq_change, rota_project(settings))
    return None if change is None else HqChangeOut(
        changed_at=change.at, changed_by_name=change.by_name, fields=change.fields)


@router.put("/settings", response_model=ReceptionRules, summary="修改接待设置（经理）")
async def put_settings(body: ReceptionRules, staff: StaffDep, store: StoreDep,
                       settings: SettingsDep) -> ReceptionRules:
    by = _manager(staff)
    return _committed(store, await store.write(manager.set_rules, settings, body, by,
                                                     utcnow()))


@router.get("/claimable", response_model=list[VisitOut],
            summary="认领期内“来过但忘了顾问”的到访（经理）")
async def claimable(staff: StaffDep, store: StoreDep, settings: SettingsDep) -> list[VisitOut]:
    _manager(staff)
    return [visit_out(v, settings) for v in await store.read(manager.claimable, utcnow())]


@router.post("/visits/{visit_id}/claim", response_model=VisitOut,
             summary="认领“忘了顾问”的客户（经理确认）")
async def claim(visit_id: uuid.UUID, body: ClaimIn, staff: StaffDep, store: StoreDep,
                settings: SettingsDep) -> VisitOut:
    by = _manager(staff)
    visit = await store.write(manager.claim, settings, visit_id, body.consultant_id, by,
                              utcnow())
    return visit_out(_committed(store, visit), settings)


@router.patch("/visits/{visit_id}", response_model=VisitOut, summary="当天更正到访（经理）")
async def correct(visit_id: uuid.UUID, body: CorrectionIn, staff: StaffDep, store: StoreDep,
                  settings: SettingsDep) -> VisitOut:
    by = _manager(staff)
    visit = await store.write(manager.correct, settings, visit_id, profile=body.profile,
                              party_size=body.party_size, source=body.source,
                              reason=body.reason, manager_id=by, now=utcnow())
    return visit_out(_committed(store, visit), settings)


@router.get("/stand-ins", response_model=list[VisitOut], summary="今日他人为我义务接待的客户")
async def stand_ins(staff: StaffDep, store: StoreDep, settings: SettingsDep) -> list[VisitOut]:
    visits = await store.read(manager.stand_ins_for, staff.id, utcnow())
    return [visit_out(v, settings) for v in visits]
