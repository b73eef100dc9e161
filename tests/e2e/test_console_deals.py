"""A deal approval in the console: a consultant saves and submits a subscription at a
discount; the sales manager finds it among the project's documents, sees the lowest price
they may approve, and approves it. The unit turns 认购 on the grid and the customer waits
for the contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session

from tests.cloud.deal_world import add_customer
from tests.cloud.inventory_world import sheet, tower
from tests.e2e.conftest import Stack
from tests.e2e.console import api, choose, expect, login, make_user, menu, shot

pytestmark = pytest.mark.e2e

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_manager_approves_a_discounted_subscription(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    make_user(stack, "sm.deals", roles=["sales_manager"])
    project = stack.site.project_id
    imported = api(stack, "sm.deals", "POST", f"/inventory/projects/{project}/import",
                   files={"file": ("房源.xlsx", sheet(tower("6号楼", floors=1, per_floor=2)),
                                   XLSX)})
    assert imported.status_code == 201, imported.text
    grid = api(stack, "sm.deals", "GET", f"/inventory/projects/{project}/grid").json()
    unit = next(c for b in grid["buildings"] if b["name"] == "6号楼" for f in b["floors"]
                for c in f["units"] if c["room"] == "101")
    released = api(stack, "sm.deals", "POST", f"/inventory/projects/{project}/batches",
                   json={"name": "六号楼首开", "kind": "first_opening", "unit_ids": [unit["id"]]})
    assert released.status_code == 201, released.text
    with Session(stack.engine, expire_on_commit=False) as session:
        customer = add_customer(session, stack.settings, project, "13711112222",
                                stack.user_ids["wanglei"])
    saved = api(stack, "wanglei", "POST", f"/deals/projects/{project}/deals", json={
        "kind": "subscription", "customer_id": customer.id, "unit_id": unit["id"],
        "buyer_name": "赵敏", "payment_method": "commercial_loan",
        "price_fen": unit["list_price_fen"] - 5_000_000, "amount_fen": 10_000_000})
    assert saved.status_code == 201, saved.text
    deal_id = saved.json()["id"]
    assert api(stack, "wanglei", "POST", f"/deals/{deal_id}/submit").status_code == 200

    page = login(new_page, stack, "sm.deals")
    menu(page).filter(has_text="交易单据").click()
    row = page.get_by_role("row").filter(has_text=f"#{deal_id}")
    expect(row).to_contain_text("待审批")
    expect(row).to_contain_text("6号楼101")
    expect(row).to_contain_text("赵*")
    row.get_by_role("button", name="查看").click()
    drawer = page.get_by_role("dialog", name="交易单据")
    expect(drawer.get_by_test_id("deal-status")).to_have_text("待审批")
    expect(drawer.get_by_role("alert")).to_contain_text("您可审批的最低价")
    drawer.get_by_label("审批意见").fill("团购折扣，同意")
    drawer.get_by_role("button", name="审批通过").click()
    expect(page.get_by_text("已审批通过")).to_be_visible()
    expect(drawer.get_by_test_id("deal-status")).to_have_text("已审批")

    done = api(stack, "sm.deals", "GET", f"/deals/{deal_id}").json()
    assert (done["status"], done["decision_note"]) == ("approved", "团购折扣，同意")
    assert done["contract_due_at"] is not None
    after = api(stack, "sm.deals", "GET", f"/inventory/projects/{project}/grid").json()
    states = {c["id"]: c["state"] for b in after["buildings"] for f in b["floors"]
              for c in f["units"]}
    assert states[unit["id"]] == "subscribed"
    # A second subscription of the sold unit is refused in Chinese.
    again = api(stack, "sm.deals", "POST", f"/deals/projects/{project}/deals", json={
        "kind": "subscription", "customer_id": customer.id, "unit_id": unit["id"],
        "buyer_name": "赵敏", "payment_method": "full", "price_fen": unit["list_price_fen"]})
    assert again.status_code == 409
    assert again.json()["title"] == "该房源已被认筹、认购或签约，不能重复成交"


def test_a_consultant_writes_a_subscription_and_asks_for_a_rename_in_the_console(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    """The form: a consultant picks their customer and a 待售 unit, saves the draft and
    submits it from the drawer; once approved, they ask for a 更名, which waits for the
    manager."""
    make_user(stack, "sm.form", roles=["sales_manager"])
    project = stack.site.project_id
    imported = api(stack, "sm.form", "POST", f"/inventory/projects/{project}/import",
                   files={"file": ("房源.xlsx", sheet(tower("7号楼", floors=1, per_floor=1)),
                                   XLSX)})
    assert imported.status_code == 201, imported.text
    grid = api(stack, "sm.form", "GET", f"/inventory/projects/{project}/grid").json()
    unit = next(c for b in grid["buildings"] if b["name"] == "7号楼" for f in b["floors"]
                for c in f["units"])
    assert api(stack, "sm.form", "POST", f"/inventory/projects/{project}/batches", json={
        "name": "七号楼首开", "kind": "first_opening", "unit_ids": [unit["id"]]}
    ).status_code == 201
    with Session(stack.engine, expire_on_commit=False) as session:
        add_customer(session, stack.settings, project, "13733334444", stack.user_ids["wanglei"])

    page = login(new_page, stack, "wanglei")
    menu(page).filter(has_text="交易单据").click()
    page.get_by_role("button", name="新建单据").click()
    form = page.get_by_role("dialog", name="新建交易单据")
    choose(page, "客户", "137****4444")
    # One dropdown at a time: the customer's closes before the unit's opens.
    expect(page.get_by_role("option", name="137****4444")).to_be_hidden()
    choose(page, "房源", f"7号楼{unit['room']}")
    form.get_by_label("购房人").fill("孙丽")
    choose(page, "付款方式", "公积金贷款")
    form.get_by_label("本单应收").fill("50000")
    form.get_by_role("button", name="添加共同购买人").click()
    form.get_by_label("共同购买人1姓名").fill("李雷")
    form.get_by_label("共同购买人1手机号").fill("13655550002")
    form.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("房源已占用")).to_be_visible()
    drawer = page.get_by_role("dialog", name="交易单据")
    expect(drawer.get_by_test_id("deal-status")).to_have_text("草稿")
    # The co-buyer masked; the buyer's ID checked at the desk, kept as its last 4 only.
    expect(drawer.get_by_text("李** 136****0002")).to_be_visible()
    drawer.get_by_label("证件号码").fill("11010119900307803X")
    drawer.get_by_role("button", name="登记证件核验").click()
    expect(drawer.get_by_text("居民身份证 ****803X")).to_be_visible()
    drawer.get_by_role("button", name="提交审批").click()
    expect(drawer.get_by_test_id("deal-status")).to_have_text("待审批")

    [deal] = [d for d in api(stack, "sm.form", "GET", f"/deals/projects/{project}/deals"
                             ).json() if d["unit_id"] == unit["id"]]
    assert (deal["price_fen"], deal["amount_fen"], deal["payment_method"]) == (
        unit["list_price_fen"], 5_000_000, "provident_loan")
    detail = api(stack, "sm.form", "GET", f"/deals/{deal['id']}").json()
    assert detail["co_buyers"] == [
        {"name": "李**", "phone_masked": "136****0002", "customer_id": None}]
    assert detail["id_check"]["id_masked"] == "****803X"
    assert api(stack, "sm.form", "POST", f"/deals/{deal['id']}/approve",
               json={"note": ""}).status_code == 200

    page.reload()
    page.get_by_role("row").filter(has_text=f"#{deal['id']}").get_by_role(
        "button", name="查看").click()
    drawer.get_by_role("button", name="申请变更").click()
    change = page.get_by_role("dialog", name="申请变更")
    change.get_by_text("更名").click()
    change.get_by_label("新购房人").fill("孙丽丽")
    change.get_by_label("变更原因").fill("购房人改用全名")
    change.get_by_role("button", name="提交申请").click()
    expect(page.get_by_text("变更申请已提交")).to_be_visible()
    expect(drawer.get_by_test_id("deal-status")).to_have_text("变更审批中")
    shot(page, "console-deal-change")
