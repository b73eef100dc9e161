"""The HQ console end to end: login failures and lockout, the first-login password change,
menus and page access by permission (with the server refusing what the UI hides), user
administration split between the system and the security administrator, the site
status from MQTT, visits registered at the edge kiosk, unmasking a phone with a reason,
and the audit log with its CSV export.

Runs against the real stack (cloud + edge processes, Mosquitto, PostgreSQL) in Debian's
Chromium; the screenshots are the ones docs/manual/console.md shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import PASSWORD, SITE_ID, SITE_NAME, Stack
from tests.e2e.console import (
    CHANNEL_MENUS,
    api_token,
    choose,
    expect,
    login,
    make_user,
    menu,
    open_login,
    register_walk_ins,
    shot,
    submit_login,
)

pytestmark = pytest.mark.e2e

MENUS = ["首页", "到访记录", "客户归属", "轮岗记录", "接待设置", "销售分析", "销控表", "销控日志",
         "交易单据", "案场设备", "用户与角色", "审计日志"]
# Walk-ins registered at the kiosk for this module: phone, name, consultant, intent.
WALK_INS = [
    ("13812345678", "张伟", "wanglei", "三房，预算 500 万"),
    ("13987654321", "刘洋", "lina", "改善型四房"),
    ("15000001111", "陈静", "wanglei", None),
]


@pytest.fixture(scope="module")
def walk_ins(stack: Stack) -> list[dict[str, Any]]:
    return register_walk_ins(stack, WALK_INS)


def test_wrong_password_then_lockout(stack: Stack, new_page: Callable[..., Any]) -> None:
    make_user(stack, "locked.user", roles=["consultant"])
    page = open_login(new_page, stack)
    shot(page, "console-login")

    for attempt in range(1, 5):
        submit_login(page, "locked.user", f"Wrong#{attempt}-pass")
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("登录失败")
        expect(alert).to_contain_text("用户名或密码错误")
        expect(page.get_by_label("密码", exact=True)).to_have_value("")

    submit_login(page, "locked.user", "Wrong#5-pass")
    expect(page.get_by_role("alert")).to_contain_text("账号已锁定")
    expect(page.get_by_role("alert")).to_contain_text("请 10 分钟后再试")

    # Locked means locked: the right password is refused too, with the minutes left.
    submit_login(page, "locked.user", PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"请 (9|10) 分钟后再试"))
    shot(page, "console-login-locked")
    expect(page).to_have_url(re.compile(r"/console/login"))


def test_first_login_must_change_password(stack: Stack, new_page: Callable[..., Any]) -> None:
    make_user(stack, "new.hire", roles=["consultant"], must_change_password=True)
    page = open_login(new_page, stack)
    submit_login(page, "new.hire", PASSWORD)
    expect(page.get_by_role("heading", name="修改密码")).to_be_visible()
    expect(page.get_by_text("请先设置新密码后再继续使用")).to_be_visible()

    # Every console URL leads back here until the password is changed.
    page.goto(stack.cloud_url + "/console/visits")
    expect(page.get_by_role("heading", name="修改密码")).to_be_visible()

    page.get_by_label("原密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill("Weak")
    page.get_by_label("确认新密码").fill("Weak")
    page.get_by_role("button", name="确认修改").click()
    expect(page.get_by_text("长度至少 8 位")).to_be_visible()

    page.get_by_label("新密码", exact=True).fill("Fresh#Start-2026")
    page.get_by_label("确认新密码").fill("Fresh#Start-2026")
    page.get_by_role("button", name="确认修改").click()
    expect(page.get_by_text("密码已修改")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/console/dashboard$"))
    expect(page.get_by_role("menubar").get_by_role("menuitem", name="首页")).to_be_visible()


def test_admin_dashboard_users_and_sites(stack: Stack, new_page: Callable[..., Any],
                                         walk_ins: list[dict[str, Any]]) -> None:
    page = login(new_page, stack, "admin")
    expect(page).to_have_url(re.compile(r"/console/dashboard$"))
    # sys_admin + hq_manager: everything but the audit log (separation of duties), and
    # the channel pages HQ reads.
    expect(menu(page)).to_have_text([*MENUS[:11], *CHANNEL_MENUS])
    expect(page.get_by_text("近 7 日到访（组）")).to_be_visible()
    chart = page.get_by_role("img", name="近 7 日到访趋势图")
    expect(chart.locator("canvas")).to_be_visible()
    expect(chart).to_have_attribute("data-rendered", "true")
    shot(page, "console-dashboard")

    menu(page).filter(has_text="用户与角色").click()
    expect(page).to_have_url(re.compile(r"/console/users$"))
    row = page.get_by_role("row").filter(has_text="wanglei")
    expect(row).to_contain_text("王磊")
    expect(row).to_contain_text("置业顾问")
    expect(row).to_contain_text(SITE_NAME)
    # The system administrator manages accounts; roles and scope are the security admin's.
    expect(row.get_by_role("button", name="重置密码")).to_be_visible()
    expect(row.get_by_role("button", name="停用")).to_be_visible()
    expect(row.get_by_role("button", name="角色", exact=True)).to_be_hidden()
    expect(row.get_by_role("button", name="数据范围")).to_be_hidden()

    page.get_by_role("button", name="新建用户").click()
    dialog = page.get_by_role("dialog", name="新建用户")
    dialog.get_by_label("用户名").fill("zhao.min")
    dialog.get_by_label("姓名").fill("赵敏")
    expect(dialog.get_by_text("角色与数据范围由安全管理员在创建后分配")).to_be_visible()
    dialog.get_by_role("button", name="创建").click()
    shown = page.get_by_role("dialog", name="初始密码")
    expect(shown.get_by_label("初始密码")).to_have_value(re.compile(r".{16}"))
    shown.get_by_role("button", name="我已记下").click()
    expect(shown).to_be_hidden()
    new_row = page.get_by_role("row").filter(has_text="zhao.min")
    expect(new_row).to_contain_text("赵敏")
    expect(new_row).to_contain_text("待改密")
    shot(page, "console-users")

    new_row.get_by_role("button", name="停用").click()
    page.get_by_role("dialog", name="停用用户").get_by_role("button", name="停用").click()
    expect(new_row.get_by_text("停用", exact=True).first).to_be_visible()
    expect(new_row.get_by_role("button", name="启用")).to_be_visible()

    menu(page).filter(has_text="案场设备").click()
    site = page.get_by_role("row").filter(has_text=SITE_NAME)
    # The edge publishes its status every 2 s; the page polls every 10 s.
    expect(site.get_by_text("在线", exact=True)).to_be_visible(timeout=30_000)
    expect(site).to_contain_text(SITE_ID)
    expect(site.get_by_text("正常")).to_be_visible()
    expect(page.get_by_text("每 10 秒自动刷新")).to_be_visible()
    shot(page, "console-sites")


def test_security_admin_assigns_roles_and_scope(stack: Stack,
                                                 new_page: Callable[..., Any]) -> None:
    make_user(stack, "sun.li", roles=["receptionist"])
    page = login(new_page, stack, "security", "/console/users")
    expect(menu(page)).to_have_text(["用户与角色"])
    expect(page.get_by_role("button", name="新建用户")).to_be_hidden()
    row = page.get_by_role("row").filter(has_text="sun.li")
    expect(row.get_by_role("button", name="重置密码")).to_be_hidden()

    row.get_by_role("button", name="角色", exact=True).click()
    dialog = page.get_by_role("dialog", name=re.compile("设置角色"))
    # Element Plus draws its own box over a hidden input: click the label, as a user does.
    dialog.get_by_text("销售经理").click()
    expect(dialog.get_by_role("checkbox", name=re.compile("销售经理"))).to_be_checked()
    dialog.get_by_role("button", name="保存").click()
    expect(page.get_by_text("角色已更新")).to_be_visible()
    expect(row).to_contain_text("销售经理")

    row.get_by_role("button", name="数据范围").click()
    dialog = page.get_by_role("dialog", name=re.compile("设置数据范围"))
    expect(dialog.get_by_text(SITE_NAME)).to_be_visible()
    dialog.get_by_text("全部案场").click()
    expect(dialog.get_by_role("radio", name="全部案场")).to_be_checked()
    dialog.get_by_role("button", name="保存").click()
    expect(page.get_by_text("数据范围已更新")).to_be_visible()
    expect(row).to_contain_text("全部案场")


def test_auditor_sees_only_the_audit_log(stack: Stack, new_page: Callable[..., Any]) -> None:
    page = login(new_page, stack, "auditor")
    expect(page).to_have_url(re.compile(r"/console/audit$"))
    expect(menu(page)).to_have_text(["审计日志"])

    # The hidden page refuses by URL too, and so does the server by API.
    page.goto(stack.cloud_url + "/console/users")
    expect(page.get_by_text("没有权限访问此页面")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="wanglei")).to_have_count(0)
    token = api_token(stack, "auditor")
    refused = httpx.get(f"{stack.cloud_url}/api/v1/users",
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"


def test_audit_log_filters_and_csv_export(stack: Stack, new_page: Callable[..., Any]) -> None:
    refused = httpx.post(f"{stack.cloud_url}/api/v1/auth/login", timeout=10,
                         json={"username": "ghost.user", "password": "Not#The-Password1"})
    assert refused.status_code == 401
    page = login(new_page, stack, "auditor", "/console/audit")
    logins = page.get_by_role("row").filter(has=page.get_by_text("登录", exact=True))
    expect(logins.first).to_be_visible()

    choose(page, "事件", "登录与会话（auth.*）")
    choose(page, "结果", "失败")
    page.get_by_role("button", name="查询").click()
    expect(logins.first).to_contain_text("失败")
    expect(logins.filter(has_text="ghost.user")).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text="成功")).to_have_count(0)
    shot(page, "console-audit")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="导出 CSV").click()
    download = download_info.value
    assert re.fullmatch(r"审计日志-\d{8}-\d{6}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8") as csv_file:
        text = csv_file.read()
    assert text.startswith("\ufeff编号,时间（北京时间）,操作人")
    assert "auth.login" in text and ",失败," in text and ",成功," not in text
    expect(page.get_by_text("已导出")).to_be_visible()


def test_visits_from_the_kiosk_and_unmasking(stack: Stack, new_page: Callable[..., Any],
                                             walk_ins: list[dict[str, Any]]) -> None:
    page = login(new_page, stack, "admin", "/console/visits")
    row = page.get_by_role("row").filter(has_text="三房，预算 500 万")
    expect(row).to_contain_text("138****5678")
    expect(row).to_contain_text("张**")
    expect(row).to_contain_text("首访")
    expect(row).to_contain_text("王磊")
    expect(row).to_contain_text(SITE_NAME)
    expect(row).to_contain_text("三房，预算 500 万")
    expect(page.get_by_role("row").filter(has_text=re.compile(r"1\d\d\*{4}\d{4}"))).to_have_count(
        len(WALK_INS))
    # Nothing here shows a full number until someone asks with a reason.
    expect(page.get_by_text("13812345678")).to_have_count(0)

    choose(page, "案场", SITE_NAME)
    page.get_by_role("button", name="查询").click()
    expect(row).to_be_visible()
    shot(page, "console-visits")

    row.get_by_role("button", name="查看号码").click()
    dialog = page.get_by_role("dialog", name="查看客户号码")
    dialog.get_by_role("button", name="确认查看").click()
    expect(dialog.get_by_text("请填写查看原因")).to_be_visible()
    dialog.get_by_label("查看原因").fill("回访客户，确认到访意向")
    dialog.get_by_role("button", name="确认查看").click()
    expect(dialog.get_by_text("13812345678")).to_be_visible()
    expect(dialog.get_by_text("张伟")).to_be_visible()
    shot(page, "console-unmask")
    dialog.get_by_role("button", name="关闭", exact=True).click()
    expect(row).to_contain_text("13812345678")
    expect(row).to_contain_text("已查看")

    # The unmasking is in the audit log with its reason.
    token = api_token(stack, "auditor")
    logs = httpx.get(f"{stack.cloud_url}/api/v1/audit/logs",
                     params={"action": "customer.unmask", "actor": "admin"},
                     headers={"Authorization": f"Bearer {token}"}, timeout=10).json()["items"]
    assert any("回访客户，确认到访意向" in str(log["detail"]) for log in logs)


def test_consultant_sees_masked_visits_without_unmask(
    stack: Stack, new_page: Callable[..., Any], walk_ins: list[dict[str, Any]]
) -> None:
    page = login(new_page, stack, "wanglei", "/console/visits")
    expect(menu(page)).to_have_text(["首页", "到访记录", "客户归属", "轮岗记录", "销售分析",
                                     "销控表", "交易单据"])
    row = page.get_by_role("row").filter(has_text="139****4321")
    expect(row).to_contain_text("刘**")
    expect(row).to_contain_text("李娜")
    expect(row.get_by_role("button", name="查看号码")).to_be_hidden()
    # The button is only hidden; the server is what refuses.
    customer_id = next(v["customer_id"] for v in walk_ins if v["phone_masked"] == "139****4321")
    token = api_token(stack, "wanglei")
    refused = httpx.post(f"{stack.cloud_url}/api/v1/customers/{customer_id}/unmask",
                         json={"reason": "想看看"}, timeout=10,
                         headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403

    page.get_by_role("button", name="当前用户").click()
    page.get_by_role("menuitem", name="退出登录").click()
    expect(page.get_by_role("heading", name="欢迎登录")).to_be_visible()
    # Nothing of the session is left in the tab.
    page.goto(stack.cloud_url + "/console/visits")
    expect(page.get_by_role("heading", name="欢迎登录")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/console/login\?redirect=/visits$"))


def test_session_lost_returns_to_login(stack: Stack, new_page: Callable[..., Any]) -> None:
    page = login(new_page, stack, "lina", "/console/visits")
    # Logging out elsewhere (here: through the API with this tab's token) ends the session;
    # the next request cannot refresh and the console asks to log in again.
    tokens = page.evaluate("sessionStorage.getItem('anchang.console.tokens')")
    assert tokens
    access = re.search(r'"accessToken":"([^"]+)"', tokens)
    assert access
    httpx.post(f"{stack.cloud_url}/api/v1/auth/logout", timeout=10,
               headers={"Authorization": f"Bearer {access.group(1)}"})
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("heading", name="欢迎登录")).to_be_visible()
    expect(page.get_by_text("登录已超时，请重新登录")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/console/login\?redirect="))


def test_the_refresh_token_is_out_of_scripts_reach_and_still_refreshes(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    violations: list[str] = []
    page = new_page("console")
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)
    page = login(lambda _kind: page, stack, "lina", "/console/visits")
    # The cookie exists, HttpOnly, SameSite=Strict and only for the refresh route …
    [cookie] = [c for c in page.context.cookies() if c["name"] == "anchang_refresh"]
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (
        True, "Strict", "/api/v1/auth/refresh")
    # … and nothing a script can read holds it.
    assert "anchang_refresh" not in page.evaluate("document.cookie")
    stored = page.evaluate("JSON.stringify(Object.assign({}, sessionStorage, localStorage))")
    assert cookie["value"] not in stored and "refresh" not in stored.lower()
    # An expired access token: the console refreshes through the cookie and carries on.
    page.evaluate("sessionStorage.setItem('anchang.console.tokens', "
                  "JSON.stringify({accessToken: 'expired'}))")
    page.reload()
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("button", name="当前用户")).to_be_visible()
    expect(page.get_by_role("heading", name="欢迎登录")).to_have_count(0)
    assert "expired" not in page.evaluate("sessionStorage.getItem('anchang.console.tokens')")
    assert violations == []  # the built app runs under the policy without a complaint
