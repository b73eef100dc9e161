"""Routes of customer ownership (客户归属), the public pool (公客池) and 撞单."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import Depends, Query

from cloud.db import SessionDep
from cloud.identity.deps import Principal, SettingsDep, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter
from cloud.sales import ownership_actions as actions
from cloud.sales import ownership_queries as queries
from cloud.sales import ownership_settings, service
from cloud.sales.models import Customer
from cloud.sales.ownership_models import Collision
from cloud.sales.ownership_rules import OwnershipRules
from cloud.sales.ownership_schemas import (
    AssignIn,
    CollisionOut,
    InvalidateIn,
    OwnershipCard,
    OwnershipPage,
    OwnershipRow,
    OwnershipSettingsIO,
    PathStepOut,
    PickupDecisionIn,
    PickupIn,
    PickupOut,
    StageIn,
)
from cloud.settings import CloudSettings
from shared.bounds import DB_INT_MAX, IdPath

router = DomainRouter(tags=["sales 客户归属与公客池"])

CustomerReader = Annotated[Principal, Depends(authorize(Perm.CUSTOMER_READ))]
PoolPicker = Annotated[Principal, Depends(authorize(Perm.POOL_PICKUP))]
PoolApprover = Annotated[Principal, Depends(authorize(Perm.POOL_APPROVE))]
PickupReader = Annotated[Principal, Depends(authorize(Perm.CUSTOMER_READ))]
Assigner = Annotated[Principal, Depends(authorize(Perm.OWNERSHIP_ASSIGN))]
ProjectQuery = Annotated[int | None, Query(ge=1, le=DB_INT_MAX)]
Limit = Annotated[int, Query(ge=1, le=200)]


def _row(settings: CloudSettings, row: queries.Row) -> OwnershipRow:
    c = row.customer
    assert c.id is not None
    due = row.deadline
    return OwnershipRow(
        customer_id=c.id, project_id=c.project_id, site_id=row.site_id,
        name_masked=service.masked_name(settings, c), phone_masked=c.phone_masked,
        stage=c.status, ownership=c.ownership, owner_id=c.owner_id, owner_name=row.owner_name,
        previous_owner_id=c.previous_owner_id, previous_owner_name=row.previous_owner_name,
        owned_since=c.owned_since, protection_until=c.protection_until,
        last_effective_at=c.last_effective_at, lapse_at=due.at if due else None,
        lapse_reason=due.reason if due else None, warn_from=due.warn_from if due else None,
        lapsed_at=c.lapsed_at, visit_count=c.visit_count, last_visit_at=c.last_visit_at,
        open_collisions=row.open_collisions)


def _collision(c: Collision, customer: Customer, owner: str | None,
               consultant: str | None) -> CollisionOut:
    assert c.id is not None
    return CollisionOut(
        id=c.id, customer_id=c.customer_id, project_id=c.project_id,
        phone_masked=customer.phone_masked, visit_id=c.visit_id, owner_id=c.owner_id,
        owner_name=owner, consultant_id=c.consultant_id, consultant_name=consultant,
        occurred_at=c.occurred_at, resolved_at=c.resolved_at)


def _pickup(row: queries.PickupRow) -> PickupOut:
    r = row.request
    assert r.id is not None
    return PickupOut(
        id=r.id, customer_id=r.customer_id, project_id=r.project_id,
        phone_masked=row.customer.phone_masked, requester_id=r.requester_id,
        requester_name=row.requester_name, status=r.status, reason=r.reason,
        decided_by=r.decided_by, decided_by_name=row.decided_by_name,
        decided_at=r.decided_at, decision_note=r.decision_note, created_at=r.created_at)


def _pickup_by_id(session: SessionDep, principal: Principal, request_id: int | None
                  ) -> PickupOut:
    [row] = queries.list_pickups(session, principal=principal, mine_only=False, status=None,
                                 project_id=None, limit=1, request_id=request_id)
    return _pickup(row)


def _card(session: SessionDep, principal: Principal, settings: CloudSettings,
          customer_id: int) -> OwnershipCard:
    row, path, collisions = queries.card(session, principal=principal,
                                         customer_id=customer_id)
    customer = row.customer
    return OwnershipCard(
        customer=_row(settings, row),
        path=[PathStepOut(
            id=s.event.id or 0, kind=s.event.kind, at=s.event.at,
            from_owner_id=s.event.from_owner_id, from_owner_name=s.from_name,
            to_owner_id=s.event.to_owner_id, to_owner_name=s.to_name,
            actor_id=s.event.actor_id, actor_name=s.actor_name, category=s.event.category,
            reason=s.event.reason) for s in path],
        collisions=[_collision(c, customer, row.owner_name if c.owner_id == customer.owner_id
                               else None, name) for c, name in collisions])


@router.get("/ownership/customers", response_model=OwnershipPage,
            summary="客户归属列表：我的客户、公客池、逾期、撞单、无效、跟进中、渠道客户")
def list_ownership(
    session: SessionDep, principal: CustomerReader, settings: SettingsDep,
    category: Annotated[Literal["mine", "public", "overdue", "collided", "invalid",
                                "in_progress", "channel", "all"], Query()] = "mine",
    project_id: ProjectQuery = None,
    site_id: Annotated[str | None, Query(max_length=32)] = None,
    owner_id: ProjectQuery = None, limit: Limit = 50,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> OwnershipPage:
    rows, total = queries.list_customers(
        session, principal=principal, category=category,
        manager=principal.can(Perm.OWNERSHIP_ASSIGN), project_id=project_id,
        site_id=site_id, owner_id=owner_id, limit=limit, offset=offset)
    return OwnershipPage(items=[_row(settings, r) for r in rows], total=total)


@router.get("/customers/{customer_id}/ownership", response_model=OwnershipCard,
            summary="客户归属详情与归属路径")
def ownership_card(customer_id: IdPath, session: SessionDep, principal: CustomerReader,
                   settings: SettingsDep) -> OwnershipCard:
    return _card(session, principal, settings, customer_id)


@router.post("/customers/{customer_id}/assign", response_model=OwnershipCard,
             summary="转交或分配客户（销售经理，记录归属路径）")
def assign_customer(customer_id: IdPath, body: AssignIn, session: SessionDep,
                    principal: Assigner, settings: SettingsDep) -> OwnershipCard:
    actions.assign(session, settings=settings, principal=principal, customer_id=customer_id,
                   to_user_id=body.to_user_id, expected_owner_id=body.expected_owner_id,
                   expected_ownership=body.expected_ownership, reason=body.reason)
    return _card(session, principal, settings, customer_id)


@router.post("/customers/{customer_id}/invalidate", response_model=OwnershipCard,
             summary="标记无效客户（空号、同行、非购房客户）")
def invalidate_customer(customer_id: IdPath, body: InvalidateIn, session: SessionDep,
                        principal: Assigner, settings: SettingsDep) -> OwnershipCard:
    actions.invalidate(session, settings=settings, principal=principal,
                       customer_id=customer_id, expected_ownership=body.expected_ownership,
                       reason=body.reason)
    return _card(session, principal, settings, customer_id)


@router.post("/customers/{customer_id}/stage", response_model=OwnershipCard,
             summary="手动变更销售阶段（只限阶段表允许的变更）")
def change_stage(customer_id: IdPath, body: StageIn, session: SessionDep,
                 principal: Assigner, settings: SettingsDep) -> OwnershipCard:
    actions.change_stage(session, settings=settings, principal=principal,
                         customer_id=customer_id, to=body.to, reason=body.reason)
    return _card(session, principal, settings, customer_id)


@router.post("/customers/{customer_id}/pickup-requests", response_model=PickupOut,
             status_code=201, summary="申请领取公客池客户（需销售总监审批）")
def request_pickup(customer_id: IdPath, body: PickupIn, session: SessionDep,
                   principal: PoolPicker) -> PickupOut:
    request = actions.request_pickup(session, principal=principal, customer_id=customer_id,
                                     reason=body.reason)
    return _pickup_by_id(session, principal, request.id)


@router.get("/pool/pickup-requests", response_model=list[PickupOut],
            summary="公客领取申请（置业顾问看自己的，经理看数据范围内的）")
def list_pickups(
    session: SessionDep, principal: PickupReader,
    status: Annotated[Literal["pending", "approved", "refused"] | None, Query()] = None,
    project_id: ProjectQuery = None, limit: Limit = 100,
) -> list[PickupOut]:
    rows = queries.list_pickups(session, principal=principal,
                                mine_only=principal.can(Perm.POOL_PICKUP)
                                and not principal.can(Perm.POOL_APPROVE),
                                status=status, project_id=project_id, limit=limit)
    return [_pickup(r) for r in rows]


@router.post("/pool/pickup-requests/{request_id}/decision", response_model=PickupOut,
             summary="审批公客领取申请（同意或拒绝，记入审计）")
def decide_pickup(request_id: IdPath, body: PickupDecisionIn, session: SessionDep,
                  principal: PoolApprover, settings: SettingsDep) -> PickupOut:
    request = actions.decide_pickup(session, settings=settings, principal=principal,
                                    request_id=request_id, approve=body.approve,
                                    note=body.note)
    return _pickup_by_id(session, principal, request.id)


@router.get("/ownership/collisions", response_model=list[CollisionOut],
            summary="撞单记录（第二位顾问登记了已有归属的客户）")
def list_collisions(session: SessionDep, principal: Assigner,
                    open_only: bool = True, project_id: ProjectQuery = None,
                    limit: Limit = 100) -> list[CollisionOut]:
    return [_collision(*row) for row in queries.list_collisions(
        session, principal=principal, open_only=open_only, project_id=project_id,
        limit=limit)]


@router.post("/ownership/collisions/{collision_id}/resolve", response_model=CollisionOut,
             summary="处理撞单：维持原归属")
def resolve_collision(collision_id: IdPath, session: SessionDep,
                      principal: Assigner) -> CollisionOut:
    row = actions.resolve_collision(session, principal=principal, collision_id=collision_id)
    [found] = queries.list_collisions(session, principal=principal, open_only=False,
                                      project_id=None, limit=1, collision_id=row.id)
    return _collision(*found)


@router.get("/projects/{project_id}/ownership-settings", response_model=OwnershipSettingsIO,
            summary="项目的客户归属规则（未设置时为默认值）")
def read_settings(project_id: IdPath, session: SessionDep,
                  principal: CustomerReader) -> OwnershipSettingsIO:
    rules = ownership_settings.read(session, principal=principal, project_id=project_id)
    return OwnershipSettingsIO(**asdict(rules))


@router.put("/projects/{project_id}/ownership-settings", response_model=OwnershipSettingsIO,
            summary="设置项目的客户归属规则（记入审计）")
def save_settings(project_id: IdPath, body: OwnershipSettingsIO, session: SessionDep,
                  principal: Assigner) -> OwnershipSettingsIO:
    rules = ownership_settings.save(session, principal=principal, project_id=project_id,
                                    rules=OwnershipRules(**body.model_dump()))
    return OwnershipSettingsIO(**asdict(rules))
