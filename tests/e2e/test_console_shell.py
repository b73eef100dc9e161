"""The console's frame and readability: the side menu collapses (remembered in this
browser), breadcrumbs lead back, audit rows read in Chinese with the raw code in a
tooltip, named objects and a detail list, and every page passes axe-core's WCAG AA
colour-contrast rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD, Stack
from tests.e2e.console import (
    api,
    expect,
    login,
    make_user,
    menu,
    no_contrast_failures,
    open_login,
    register_walk_ins,
    shot,
    submit_login,
)

pytestmark = pytest.mark.e2e

WALK_INS: list[tuple[str, str, str | None, str | None]] = [
    ("13812345678", "张伟", "wanglei", "三房，预算 500 万"),
    ("13987654321", "刘洋", None, None),
]


@pytest.fixture(scope="module")
def customer_id(stack: Stack) -> int:
    """Two walk-ins; 张伟's number unmasked by admin, and a role change, for the audit."""
    visits = register_walk_ins(stack, WALK_INS)
    zhang: int = next(v["customer_id"] for v in visits if v["customer_name_masked"] == "张**")
    shown = api(stack, "admin", "POST", f"/customers/{zhang}/unmask",
                json={"reason": "回访客户，确认到访意向"})
    assert shown.status_code == 200, shown.text
    make_user(stack, "role.target", roles=["receptionist"])
    users = api(stack, "security", "GET", "/users", params={"keyword": "role.target"}).json()
    target = next(u["id"] for u in users["items"] if u["username"] == "role.target")
    changed = api(stack, "security", "PUT", f"/users/{target}/roles",
                  json={"roles": ["consultant"]})
    assert changed.status_code == 200, changed.text
    return zhang


def test_the_side_menu_collapses_and_remembers_it(
    stack: Stack, new_page: Callable[..., Any], customer_id: int
) -> None:
    page = login(new_page, stack, "admin")
    sidebar = page.locator("#console-sidebar")
    expect(menu(page).filter(has_text="到访记录")).to_be_visible()
    page.get_by_role("button", name="收起侧边栏").click()
    toggle = page.get_by_role("button", name="展开侧边栏")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_text("案场总部控制台")).to_be_hidden()
    assert sidebar.bounding_box()["width"] <= 64
    # The icons still lead to the pages, with the page name on hover.
    visits = page.get_by_role("menubar").get_by_role("menuitem").nth(1)
    visits.hover()
    expect(page.get_by_role("tooltip", name="到访记录")).to_be_visible()
    visits.click()
    expect(page).to_have_url(re.compile(r"/console/visits$"))
    expect(page.get_by_role("row").filter(has_text="138****5678")).to_be_visible()
    no_contrast_failures(page)
    shot(page, "console-sidebar-collapsed")

    page.reload()  # remembered in this browser
    expect(page.get_by_role("button", name="展开侧边栏")).to_be_visible()
    assert sidebar.bounding_box()["width"] <= 64
    page.get_by_role("button", name="展开侧边栏").click()
    expect(page.get_by_role("button", name="收起侧边栏")).to_have_attribute(
        "aria-expanded", "true")
    expect(page.get_by_text("案场总部控制台")).to_be_visible()
    assert sidebar.bounding_box()["width"] >= 200


def test_breadcrumbs_follow_the_page_and_lead_home(stack: Stack,
                                                   new_page: Callable[..., Any]) -> None:
    page = login(new_page, stack, "admin", "/console/users")
    crumbs = page.get_by_role("navigation", name="面包屑")
    expect(crumbs.get_by_role("listitem")).to_have_text(["首页", "用户与角色"])
    expect(crumbs.get_by_text("用户与角色")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name="用户与角色", level=1)).to_be_visible()
    crumbs.get_by_role("link", name="首页").click()
    expect(page).to_have_url(re.compile(r"/console/dashboard$"))
    expect(crumbs.get_by_role("listitem")).to_have_text(["首页"])
    # The auditor's home is the audit log: there the trail is the page alone.
    auditor = login(new_page, stack, "auditor")
    expect(auditor.get_by_role("navigation", name="面包屑").get_by_role("listitem")).to_have_text(
        ["审计日志"])


def test_audit_rows_read_in_chinese_with_the_code_on_hover(
    stack: Stack, new_page: Callable[..., Any], customer_id: int
) -> None:
    page = login(new_page, stack, "auditor", "/console/audit")
    unmask = page.get_by_role("row").filter(has=page.get_by_text("查看客户号码", exact=True))
    expect(unmask).to_have_count(1)
    expect(unmask).to_contain_text("客户 · 138****5678")
    expect(unmask).not_to_contain_text("customer.unmask")
    unmask.get_by_text("查看客户号码", exact=True).hover()
    expect(page.get_by_role("tooltip", name="事件代码：customer.unmask")).to_be_visible()
    unmask.get_by_text("客户 · 138****5678").hover()
    expect(page.get_by_role("tooltip", name=f"customer #{customer_id}")).to_be_visible()

    unmask.get_by_role("button", name="展开当前行").click()
    detail = page.locator(".audit-detail").first
    expect(detail.locator("dt")).to_have_text(["字段", "原因"])
    expect(detail.locator("dd")).to_have_text(["手机号", "回访客户，确认到访意向"])
    no_contrast_failures(page)
    shot(page, "console-audit-detail")

    # The stack's own seeding left one too: the security administrator's grant to admin.
    roles = page.get_by_role("row").filter(has=page.get_by_text("设置角色", exact=True)).filter(
        has_text="role.target")
    expect(roles).to_contain_text("用户 · 测试role.target（role.target）")
    expect(roles).to_contain_text("security")
    roles.get_by_role("button", name="展开当前行").click()
    detail = page.locator(".audit-detail").filter(has_text="变更前")
    expect(detail.locator("dt")).to_have_text(["变更前", "变更后"])
    expect(detail.locator("dd")).to_have_text(["前台", "置业顾问"])


def test_every_console_page_passes_wcag_aa_colour_contrast(
    stack: Stack, new_page: Callable[..., Any], customer_id: int
) -> None:
    page = open_login(new_page, stack)
    no_contrast_failures(page)
    submit_login(page, "nobody.here", "Wrong#Pass-2026")
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    no_contrast_failures(page)

    make_user(stack, "contrast.new", roles=["consultant"], must_change_password=True)
    submit_login(page, "contrast.new", PASSWORD)
    expect(page.get_by_role("heading", name="修改密码")).to_be_visible()
    no_contrast_failures(page)

    admin = login(new_page, stack, "admin")
    checks: list[tuple[str, Any]] = [
        ("/console/dashboard", admin.get_by_role("img", name="近 7 日到访趋势图")),
        ("/console/visits", admin.get_by_role("row").filter(has_text="138****5678")),
        (f"/console/customers/{customer_id}", admin.get_by_role("list", name="到访与跟进记录")),
        ("/console/sites", admin.get_by_text("在线", exact=True)),
        ("/console/users", admin.get_by_role("row").filter(has_text="wanglei")),
        ("/console/no-such-page", admin.get_by_text("页面不存在").first),
    ]
    for path, ready in checks:
        admin.goto(stack.cloud_url + path)
        expect(ready.first).to_be_visible(timeout=30_000)
        expect(admin.locator(".el-loading-mask")).to_have_count(0)
        no_contrast_failures(admin)

    admin.goto(stack.cloud_url + "/console/visits")
    admin.get_by_role("row").filter(has_text="138****5678").get_by_role(
        "button", name="查看号码").click()
    dialog = admin.get_by_role("dialog", name="查看客户号码")
    dialog.get_by_role("button", name="确认查看").click()
    expect(dialog.get_by_text("请填写查看原因")).to_be_visible()
    no_contrast_failures(admin)

    auditor = login(new_page, stack, "auditor", "/console/audit")
    expect(auditor.get_by_role("row").filter(has_text="查看客户号码")).to_have_count(1)
    no_contrast_failures(auditor)
    auditor.goto(stack.cloud_url + "/console/users")
    expect(auditor.get_by_text("没有权限访问此页面")).to_be_visible()
    no_contrast_failures(auditor)
