"""Routes of prospecting tasks (拓客任务): channel staff's and the broker's (我的任务)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from cloud.channel import prospecting, prospecting_portal
from cloud.channel.prospecting_schemas import (
    BrokerTaskDetailOut,
    BrokerTaskOut,
    TaskDetailOut,
    TaskIn,
    TaskMetric,
    TaskOut,
    TaskStatus,
    TaskUpdate,
)
from cloud.db import SessionDep
from cloud.identity.deps import Principal, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter
from shared.bounds import DB_INT_MAX, IdPath

router = DomainRouter(prefix="/channel", tags=["channel 拓客任务"])

TaskReader = Annotated[Principal, Depends(authorize(Perm.TASK_READ))]
TaskManager = Annotated[Principal, Depends(authorize(Perm.TASK_MANAGE))]
BrokerSelf = Annotated[Principal, Depends(authorize(Perm.BROKER_PORTAL))]


@router.get("/prospecting-tasks", response_model=list[TaskOut],
            summary="拓客任务（所辖项目的，新的在前），含完成率")
def list_tasks(
    session: SessionDep, principal: TaskReader,
    project_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    status: TaskStatus | None = None, metric: TaskMetric | None = None,
) -> list[TaskOut]:
    found = prospecting.list_tasks(session, principal=principal, project_id=project_id,
                                   status=status, metric=metric)
    return prospecting.outs(session, found)


@router.post("/prospecting-tasks", response_model=TaskDetailOut, status_code=201,
             summary="新建拓客任务（草稿）")
def create_task(body: TaskIn, session: SessionDep, principal: TaskManager) -> TaskDetailOut:
    return prospecting.create(session, principal=principal, data=body)


@router.get("/prospecting-tasks/{task_id}", response_model=TaskDetailOut,
            summary="一个拓客任务：各指派对象的完成情况与排行榜")
def get_task(task_id: IdPath, session: SessionDep, principal: TaskReader) -> TaskDetailOut:
    return prospecting.detail(session, prospecting.get(session, principal=principal,
                                                       task_id=task_id))


@router.patch("/prospecting-tasks/{task_id}", response_model=TaskDetailOut,
              summary="修改、发布（published）、关闭（closed）或取消（cancelled）拓客任务")
def update_task(task_id: IdPath, body: TaskUpdate, session: SessionDep,
                principal: TaskManager) -> TaskDetailOut:
    return prospecting.update(session, principal=principal, task_id=task_id, data=body)


@router.get("/broker/tasks", response_model=list[BrokerTaskOut],
            summary="我的拓客任务：进度与名次")
def broker_tasks(session: SessionDep, principal: BrokerSelf) -> list[BrokerTaskOut]:
    return prospecting_portal.my_tasks(session, principal=principal)


@router.get("/broker/tasks/{task_id}", response_model=BrokerTaskDetailOut,
            summary="我的一个拓客任务与排行榜（他人姓名脱敏）")
def broker_task(task_id: IdPath, session: SessionDep,
                principal: BrokerSelf) -> BrokerTaskDetailOut:
    return prospecting_portal.my_task(session, principal=principal, task_id=task_id)
