"""风控设置 in the console: a channel manager sets the face checks' actions and parameters
for a project (a face check is never offered `block`; the deal checks are listed and
editable), the change saved through the API and audited; an HQ manager, who may read
the policy but not change it, sees it read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.channel import risk_policy
from tests.e2e.conftest import Stack
from tests.e2e.console import expect, login, make_user, menu, shot

pytestmark = pytest.mark.e2e


def choose(page: Any, label: str, option: str) -> None:
    """Pick from one check's select: every row's options stay in the page."""
    page.get_by_role("combobox", name=label).click(force=True)
    page.get_by_role("listbox", name=label).get_by_role("option", name=option, exact=True).click()


def test_a_channel_manager_sets_the_face_checks_of_a_project(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    make_user(stack, "cm.riskpolicy", roles=["channel_manager"])
    make_user(stack, "hq.riskpolicy", roles=["hq_manager"])
    page = login(new_page, stack, "cm.riskpolicy")
    menu(page).filter(has_text="风控设置").click()
    faces = page.get_by_role("region", name="人脸检查")
    for title in ("报备前已被摄像头识别", "到访带看经纪人与报备经纪人不一致",
                  "摄像头到访人数多于前台登记"):
        expect(faces.get_by_text(title)).to_be_visible()
    expect(page.get_by_role("region", name="其他检查").get_by_text("报备前已查询")).to_be_visible()
    # The deal checks run now: editable like the rest, no "waiting for deals" tag.
    others = page.get_by_role("region", name="其他检查")
    for title in ("报备后短时成交", "联名购房人来源不一", "成交未核验身份", "签约地点远离带看地点"):
        expect(others.get_by_text(title, exact=True)).to_be_visible()
        expect(others.get_by_role("combobox", name=f"{title} 动作")).to_be_enabled()
    expect(others.get_by_role("spinbutton", name="报备后短时成交 时长（小时）")).to_have_value("24")
    expect(others.get_by_role("spinbutton", name="签约地点远离带看地点 距离（米）")
           ).to_have_value("500")
    expect(page.get_by_text("待成交数据接入后生效")).to_have_count(0)
    save = page.get_by_role("button", name="保存")
    expect(save).to_be_disabled()  # nothing changed yet

    page.get_by_role("combobox", name="报备前已被摄像头识别 动作").click(force=True)
    offered = page.get_by_role("listbox", name="报备前已被摄像头识别 动作")
    expect(offered.get_by_role("option", name="立案复核", exact=True)).to_be_visible()
    expect(offered.get_by_role("option", name="拦截报备", exact=True)).to_have_count(0)
    page.keyboard.press("Escape")
    choose(page, "摄像头到访人数多于前台登记 动作", "仅标记")
    tolerance = faces.get_by_role("spinbutton", name="摄像头到访人数多于前台登记 容差（人）")
    tolerance.fill("5")
    tolerance.press("Tab")
    expect(faces.get_by_text("默认 2")).to_be_visible()
    shot(page, "console-risk-policy")
    save.click()
    expect(page.get_by_text("风控设置已保存")).to_be_visible()
    expect(save).to_be_disabled()

    with Session(stack.engine) as session:
        saved = risk_policy.policy(session, stack.site.project_id).setting("face_unregistered")
        assert (saved.action, saved.params) == ("flag", {"tolerance": 5})
        [row] = session.exec(select(AuditLog).where(
            AuditLog.action == "channel.risk_policy_update").order_by(col(AuditLog.id).desc())
            .limit(1)).all()
        assert row.actor == "cm.riskpolicy"
        assert row.detail["checks"] == {"face_unregistered": {"action": "flag",
                                                              "params": {"tolerance": 5}}}

    # Restoring the default is one click, and the change can be dropped before saving.
    faces.get_by_role("button", name="摄像头到访人数多于前台登记 恢复默认").click()
    expect(save).to_be_enabled()
    page.get_by_role("button", name="撤销修改").click()
    expect(save).to_be_disabled()

    reader = login(new_page, stack, "hq.riskpolicy")
    menu(reader).filter(has_text="风控设置").click()
    expect(reader.get_by_role("region", name="人脸检查").get_by_text("摄像头到访人数多于前台登记")
           ).to_be_visible()
    expect(reader.get_by_role("button", name="保存")).to_have_count(0)
    expect(reader.get_by_role("combobox", name="摄像头到访人数多于前台登记 动作")).to_be_disabled()
