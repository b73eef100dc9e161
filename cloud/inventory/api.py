"""Routes of units, releases, holds and the 销控 log (房源 / 推盘 / 销控)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Query, Response, UploadFile

from cloud.db import SessionDep
from cloud.identity.deps import Principal, authorize
from cloud.identity.permissions import Perm
from cloud.inventory import grid, history, holds, importing, project_state, releases, scope
from cloud.inventory import settings as inventory_settings
from cloud.inventory.errors import ImportTooLarge
from cloud.inventory.models import InventoryProject, ReleaseBatch, UnitHold
from cloud.inventory.schemas import (
    BatchIn,
    BatchOut,
    DecisionIn,
    Grid,
    HoldIn,
    HoldOut,
    ImportOut,
    SettingsIn,
    SettingsOut,
    TransitionIn,
    UnitLogOut,
)
from cloud.inventory.states import Action
from cloud.inventory.transitions import Move, apply
from cloud.routing import DomainRouter
from shared.bounds import DB_INT_MAX, IdPath
from shared.inputguard import UploadRoute

router = DomainRouter(prefix="/inventory", tags=["inventory 房源与销控"])

Reader = Annotated[Principal, Depends(authorize(Perm.INVENTORY_READ))]
FullReader = Annotated[Principal, Depends(authorize(Perm.INVENTORY_READ_ALL))]
Manager = Annotated[Principal, Depends(authorize(Perm.INVENTORY_MANAGE))]
Controller = Annotated[Principal, Depends(authorize(Perm.INVENTORY_CONTROL))]
Requester = Annotated[Principal, Depends(authorize(Perm.INVENTORY_HOLD_REQUEST))]

_MULTIPART_OVERHEAD = 16 * 1024


def import_upload_route(prefix: str) -> UploadRoute:
    """The input guard's limit for the XLSX import (its 64 KiB default is for JSON)."""
    return UploadRoute(
        path=re.compile(re.escape(prefix) + r"/inventory/projects/[0-9]+/import"),
        max_bytes=importing.MAX_FILE_BYTES + _MULTIPART_OVERHEAD, code=ImportTooLarge.code,
        detail=f"文件不能超过 {importing.MAX_FILE_BYTES // 1024 // 1024} MB")


@router.get("/projects/{project_id}/grid", response_model=Grid,
            summary="销控表（置业顾问只看到已推盘房源）；带 If-None-Match 轮询，未变化时 304",
            responses={304: {"description": "自上次读取后没有变化"}})
def read_grid(project_id: IdPath, session: SessionDep, principal: Reader, response: Response,
              if_none_match: Annotated[str | None, Header(max_length=100)] = None
              ) -> Grid | Response:
    current = grid.version(session, principal, project_id)
    headers = {"ETag": current.etag, "Cache-Control": "private, no-cache"}
    if if_none_match == current.etag:
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return Grid.model_validate(grid.read(session, principal, project_id))


@router.post("/projects/{project_id}/import", response_model=ImportOut, status_code=201,
             summary="从 XLSX 导入楼栋与房源（有任一行错误则全部不导入）",
             responses={413: {"description": "文件过大"}})
def import_units(project_id: IdPath, file: UploadFile, session: SessionDep,
                 principal: Manager) -> ImportOut:
    # One byte past the limit is enough to refuse; the rest is never read into memory.
    data = file.file.read(importing.MAX_FILE_BYTES + 1)
    done = importing.import_units(session, principal, project_id=project_id, data=data)
    return ImportOut(buildings_created=done.buildings_created, units_created=done.units_created)


@router.get("/projects/{project_id}/batches", response_model=list[BatchOut])
def list_batches(project_id: IdPath, session: SessionDep, principal: FullReader
                 ) -> list[BatchOut]:
    return [_batch(b) for b in releases.listing(session, principal, project_id)]


@router.post("/projects/{project_id}/batches", response_model=BatchOut, status_code=201,
             summary="推盘（首开或加推）：所列房源全部由未推盘变为待售")
def release(project_id: IdPath, body: BatchIn, session: SessionDep,
            principal: Manager) -> BatchOut:
    return _batch(releases.release(session, principal, project_id=project_id, name=body.name,
                                   kind=body.kind, unit_ids=body.unit_ids))


@router.post("/units/{unit_id}/transitions", response_model=UnitLogOut,
             summary="撤盘、销控、解除销控、取消预留（每次写销控日志）")
def transition(unit_id: IdPath, body: TransitionIn, session: SessionDep,
               principal: Controller) -> UnitLogOut:
    unit = scope.unit(session, principal, unit_id, for_update=True)
    log = apply(session, unit, Move(Action(body.action), body.reason), principal=principal)
    rows = history.page(session, principal, unit.project_id, unit_id=unit_id,
                        before_id=(log.id or 0) + 1, limit=1)
    return UnitLogOut.model_validate(rows[0])


@router.get("/projects/{project_id}/log", response_model=list[UnitLogOut],
            summary="销控日志（新的在前）")
def read_log(project_id: IdPath, session: SessionDep, principal: FullReader,
             unit_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
             before_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
             limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[UnitLogOut]:
    return [UnitLogOut.model_validate(r) for r in history.page(
        session, principal, project_id, unit_id=unit_id, before_id=before_id, limit=limit)]


@router.post("/units/{unit_id}/holds", response_model=HoldOut, status_code=201,
             summary="申请预留（经理审批后房源变为预留，到期自动释放）")
def request_hold(unit_id: IdPath, body: HoldIn, session: SessionDep,
                 principal: Requester) -> HoldOut:
    return _hold(holds.request(session, principal, holds.HoldRequest(
        unit_id=unit_id, reason=body.reason, days=body.days, customer_id=body.customer_id)))


@router.get("/projects/{project_id}/holds", response_model=list[HoldOut],
            summary="预留申请（置业顾问只看到自己的）")
def list_holds(project_id: IdPath, session: SessionDep, principal: Reader,
               status: Annotated[str | None, Query(
                   pattern="^(pending|approved|rejected|cancelled)$")] = None
               ) -> list[HoldOut]:
    return [_hold(h) for h in holds.listing(session, principal, project_id, status)]


@router.post("/holds/{hold_id}/approve", response_model=HoldOut)
def approve_hold(hold_id: IdPath, body: DecisionIn, session: SessionDep,
                 principal: Controller) -> HoldOut:
    return _hold(holds.approve(session, principal, hold_id, body.note))


@router.post("/holds/{hold_id}/reject", response_model=HoldOut)
def reject_hold(hold_id: IdPath, body: DecisionIn, session: SessionDep,
                principal: Controller) -> HoldOut:
    return _hold(holds.reject(session, principal, hold_id, body.note))


@router.post("/holds/{hold_id}/cancel", response_model=HoldOut,
             summary="撤回预留申请（申请人本人，或销控经理）")
def cancel_hold(hold_id: IdPath, session: SessionDep, principal: Requester) -> HoldOut:
    return _hold(holds.cancel(session, principal, hold_id))


@router.get("/projects/{project_id}/settings", response_model=SettingsOut)
def read_settings(project_id: IdPath, session: SessionDep, principal: FullReader
                  ) -> SettingsOut:
    scope.project(session, principal, project_id)
    return _settings(project_state.row(session, project_id))


@router.put("/projects/{project_id}/settings", response_model=SettingsOut,
            summary="销控表颜色、预留天数上限、未推盘房源可否认筹")
def update_settings(project_id: IdPath, body: SettingsIn, session: SessionDep,
                    principal: Manager) -> SettingsOut:
    return _settings(inventory_settings.update(
        session, principal, project_id, colours={k.value: v for k, v in body.colours.items()},
        reserve_max_days=body.reserve_max_days, pledge_unreleased=body.pledge_unreleased))


def _batch(b: ReleaseBatch) -> BatchOut:
    return BatchOut.model_validate(b, from_attributes=True)


def _hold(h: UnitHold) -> HoldOut:
    return HoldOut.model_validate(h, from_attributes=True)


def _settings(s: InventoryProject) -> SettingsOut:
    return SettingsOut(project_id=s.project_id, colours=project_state.colours(s),
                       reserve_max_days=s.reserve_max_days,
                       pledge_unreleased=s.pledge_unreleased)
