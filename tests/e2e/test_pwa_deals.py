"""Deal documents on the phone (ADR 0052): a consultant writes a 认购 for their customer
from the customer's page — the cloud refuses a price below the floor in Chinese, then
takes the corrected one and holds the unit — and a sales manager, on their own phone,
finds it waiting for approval and approves it. With the cloud out of reach the phone
says deals need it, instead of keeping anything to send later. An approved pledge becomes
a subscription on the phone, and a rename is asked for on it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.cloud.inventory_world import sheet, tower
from tests.e2e.conftest import Stack, screenshot
from tests.e2e.console import api, make_user
from tests.e2e.test_pwa import cloud_customer, log_in, settled
from tests.e2e.test_pwa_reception import sign_in

pytestmark = pytest.mark.e2e

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MANAGER = "sm.phone"


def released_unit(stack: Stack, manager: str, building: str) -> dict[str, Any]:
    """Room 101 of a new building, released: list price 1,510,000 yuan, floor price
    1,410,000 yuan. (The stack lives for the module: each test has its own building.)"""
    project = stack.site.project_id
    imported = api(stack, manager, "POST", f"/inventory/projects/{project}/import",
                   files={"file": ("房源.xlsx", sheet(tower(building, floors=1, per_floor=2)),
                                   XLSX)})
    assert imported.status_code == 201, imported.text
    grid = api(stack, manager, "GET", f"/inventory/projects/{project}/grid").json()
    unit: dict[str, Any] = next(c for b in grid["buildings"] if b["name"] == building
                                for f in b["floors"] for c in f["units"] if c["room"] == "101")
    released = api(stack, manager, "POST", f"/inventory/projects/{project}/batches",
                   json={"name": f"{building}首开", "kind": "first_opening",
                         "unit_ids": [unit["id"]]})
    assert released.status_code == 201, released.text
    return unit


def test_a_consultant_subscribes_on_the_phone_and_a_manager_approves_it(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    make_user(stack, MANAGER, roles=["sales_manager"])
    unit = released_unit(stack, MANAGER, "7号楼")
    customer_id = cloud_customer(stack, "13500005201", "赵敏", contacted_days_ago=1)

    phone: Page = new_page("phone")
    log_in(phone, stack)
    phone.get_by_role("tab", name="我的客户").click()
    phone.get_by_role("tab", name=re.compile("全部")).click()
    phone.get_by_role("region", name="我的客户").get_by_role(
        "link", name="赵** 135****5201").click(timeout=20_000)
    documents = phone.get_by_role("group", name="交易单据")
    documents.get_by_text("写认筹 / 认购").click()

    form = phone.get_by_role("form", name="新建交易单据")
    form.get_by_role("combobox", name="房源").select_option(label="7号楼101")
    expect(form.get_by_label("成交价（元）")).to_have_value("1510000")
    form.get_by_label("购房人").fill("赵敏")
    form.get_by_role("combobox", name="付款方式").select_option(label="商业按揭")
    form.get_by_label("成交价（元）").fill("1400000")
    form.get_by_label("定金（元）").fill("50000")
    form.get_by_role("button", name="保存并提交审批").click()
    expect(form.get_by_role("alert")).to_have_text("成交价 1,400,000.00 元低于底价，不能保存")
    settled(phone)
    screenshot(phone, "pwa-deal-create")

    form.get_by_label("成交价（元）").fill("1480000")
    form.get_by_role("button", name="保存并提交审批").click()
    expect(phone.get_by_test_id("deal-status")).to_have_text("待审批")
    info = phone.get_by_role("group", name="单据信息")
    expect(info).to_contain_text("7号楼101")
    expect(info).to_contain_text("赵** 135****5201")
    expect(info).to_contain_text("30,000.00 元（1.99%）")
    deal_id = int(phone.url.rsplit("/", 1)[1])

    boss: Page = new_page("phone")
    sign_in(boss, stack, MANAGER)
    boss.get_by_role("link", name="交易审批").click()
    waiting = boss.get_by_role("region", name="交易单据")
    waiting.get_by_role("button", name=f"认购 #{deal_id}").click()
    expect(boss.get_by_role("note")).to_have_text("您可审批的最低价：1,410,000.00 元")
    # Not the manager's own customer: the document names them itself, masked.
    expect(boss.get_by_role("group", name="单据信息")).to_contain_text("赵** 135****5201")
    boss.get_by_label("审批意见").fill("老客户介绍，同意")
    boss.get_by_role("button", name="审批通过").scroll_into_view_if_needed()
    settled(boss)
    screenshot(boss, "pwa-deal-approve")
    boss.get_by_role("button", name="审批通过").click()
    expect(boss.get_by_test_id("deal-status")).to_have_text("已审批")

    phone.reload()
    expect(phone.get_by_test_id("deal-status")).to_have_text("已审批")
    expect(phone.get_by_role("group", name="审批记录")).to_contain_text("老客户介绍，同意")
    done = api(stack, MANAGER, "GET", f"/deals/{deal_id}").json()
    assert (done["customer_id"], done["price_fen"], done["amount_fen"], done["status"]) == (
        customer_id, 148_000_000, 5_000_000, "approved")
    grid = api(stack, MANAGER, "GET", f"/inventory/projects/{stack.site.project_id}/grid").json()
    assert {c["id"]: c["state"] for b in grid["buildings"] for f in b["floors"]
            for c in f["units"]}[unit["id"]] == "subscribed"

    # No cloud, no deals: said plainly, nothing kept to send later.
    phone.context.route(stack.cloud_url + "/**", lambda route: route.abort("connectionrefused"))
    phone.goto(stack.edge_url + "/pwa/deals")
    expect(phone.get_by_role("alert")).to_contain_text("连不上云端：认筹、认购须联网办理")


def test_a_pledge_becomes_a_subscription_and_a_rename_is_asked_on_the_phone(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    boss = "sm.phone2"  # the stack lives for the module: a user of this test's own
    make_user(stack, boss, roles=["sales_manager"])
    unit = released_unit(stack, boss, "8号楼")
    customer_id = cloud_customer(stack, "13500005202", "钱多多", contacted_days_ago=1)
    saved = api(stack, "wanglei", "POST", f"/deals/projects/{stack.site.project_id}/deals",
                json={"kind": "pledge", "customer_id": customer_id, "unit_id": unit["id"],
                      "buyer_name": "钱多多", "payment_method": "full",
                      "price_fen": unit["list_price_fen"], "amount_fen": 2_000_000})
    assert saved.status_code == 201, saved.text
    pledge_id = saved.json()["id"]
    assert api(stack, "wanglei", "POST", f"/deals/{pledge_id}/submit").status_code == 200
    assert api(stack, boss, "POST", f"/deals/{pledge_id}/approve",
               json={"note": ""}).status_code == 200

    phone: Page = new_page("phone")
    log_in(phone, stack)
    phone.get_by_role("link", name="我的交易").click()
    phone.get_by_role("tab", name="已审批").click()
    phone.get_by_role("region", name="交易单据").get_by_role(
        "button", name=f"认筹 #{pledge_id}").click()
    phone.get_by_role("button", name="转为认购").click()
    sheet = phone.get_by_role("form", name="转为认购")
    sheet.get_by_role("combobox", name="付款方式").select_option(label="公积金贷款")
    sheet.get_by_label("定金（元）").fill("50000")
    sheet.get_by_role("button", name="生成认购").click()
    expect(phone.get_by_test_id("deal-status")).to_have_text("草稿")
    expect(phone.get_by_text(f"由 #{pledge_id} 转换而来")).to_be_visible()
    subscription_id = int(phone.url.rsplit("/", 1)[1])
    assert subscription_id != pledge_id
    phone.get_by_role("button", name="提交审批").click()
    expect(phone.get_by_test_id("deal-status")).to_have_text("待审批")
    assert api(stack, boss, "POST", f"/deals/{subscription_id}/approve",
               json={"note": "同意"}).status_code == 200

    phone.reload()
    phone.get_by_role("button", name="申请变更").click()
    ask = phone.get_by_role("form", name="申请变更")
    ask.get_by_role("radio", name="更名").click()
    ask.get_by_label("新购房人").fill("钱多多、孙丽")
    ask.get_by_label("原因").fill("夫妻共同购买")
    ask.get_by_role("button", name="提交变更申请").click()
    expect(phone.get_by_test_id("deal-status")).to_have_text("变更审批中")
    expect(phone.get_by_role("group", name="变更申请")).to_contain_text("更名 · 待审批")

    done = api(stack, boss, "GET", f"/deals/{subscription_id}").json()
    assert (done["parent_id"], done["kind"], done["payment_method"], done["amount_fen"],
            done["unit_id"]) == (pledge_id, "subscription", "provident_loan", 5_000_000,
                                 unit["id"])
    assert [(c["kind"], c["status"], c["renamed"]) for c in done["changes"]] == [
        ("rename", "pending", True)]


def test_a_subscription_becomes_a_contract_signed_where_the_phone_stands(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    """认购 → 签约 on the phone with 签约地点 = 当前位置 (ADR 0060): the page is a secure
    context here (the appliance on loopback), the browser grants the position, and the
    contract records it as the phone's."""
    boss = "sm.phone3"
    make_user(stack, boss, roles=["sales_manager"])
    unit = released_unit(stack, boss, "9号楼")
    customer_id = cloud_customer(stack, "13500005203", "孙丽", contacted_days_ago=1)
    saved = api(stack, "wanglei", "POST", f"/deals/projects/{stack.site.project_id}/deals",
                json={"kind": "subscription", "customer_id": customer_id,
                      "unit_id": unit["id"], "buyer_name": "孙丽", "payment_method": "full",
                      "price_fen": unit["list_price_fen"], "amount_fen": 5_000_000})
    assert saved.status_code == 201, saved.text
    subscription_id = saved.json()["id"]
    assert api(stack, "wanglei", "POST", f"/deals/{subscription_id}/submit").status_code == 200
    assert api(stack, boss, "POST", f"/deals/{subscription_id}/approve",
               json={"note": ""}).status_code == 200

    phone: Page = new_page("phone", permissions=["geolocation"],
                           geolocation={"latitude": 31.2404, "longitude": 121.4737,
                                        "accuracy": 20})
    log_in(phone, stack)
    phone.goto(f"{stack.edge_url}/pwa/deals/{subscription_id}")
    phone.get_by_role("button", name="转为签约").click()
    sheet = phone.get_by_role("form", name="转为签约")
    expect(sheet.get_by_role("radio", name="在案场")).to_be_checked()
    sheet.get_by_role("radio", name="当前位置").click()
    expect(sheet.get_by_role("status")).to_contain_text("已定位（精度约 20 米）")
    sheet.get_by_label("首付（元）").fill("300000")
    sheet.get_by_role("button", name="生成签约").click()
    expect(phone.get_by_test_id("deal-status")).to_have_text("草稿")
    expect(phone.get_by_role("group", name="单据信息")).to_contain_text(
        "手机定位（31.24040, 121.47370）")

    contract_id = int(phone.url.rsplit("/", 1)[1])
    done = api(stack, boss, "GET", f"/deals/{contract_id}").json()
    assert (done["kind"], done["signing_place_source"], done["signing_location"]) == (
        "contract", "device", {"lat": 31.2404, "lng": 121.4737})
