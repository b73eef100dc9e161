"""The console's 案场设备 page names every sync alarm a site can raise, with what the
operator does about it, and marks a site whose data the cloud refuses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlmodel import Session

from cloud.sync.models import SiteLink
from tests.e2e.conftest import SITE_ID, Stack
from tests.e2e.console import expect, login, menu, shot

pytestmark = pytest.mark.e2e

TWIN = "7f1c2d3e-0000-4000-8000-000000000002"


@pytest.fixture
def alarmed(stack: Stack) -> Iterator[None]:
    """Two agents were seen on the site's credential; one seq came with other content."""
    def set_alarms(on: bool) -> None:
        with Session(stack.engine) as s:
            link = s.get(SiteLink, SITE_ID)
            assert link is not None
            link.twin_alarm, link.conflict_alarm = on, on
            link.refused_instance = TWIN if on else None
            s.add(link)
            s.commit()

    set_alarms(True)
    yield
    set_alarms(False)


def test_the_sites_page_names_each_alarm_and_what_to_do(
    stack: Stack, new_page: Callable[..., Any], alarmed: None
) -> None:
    page = login(new_page, stack, "admin")
    menu(page).filter(has_text="案场设备").click()
    site = page.get_by_role("row").filter(has_text=SITE_ID)
    expect(site.get_by_text("拒收中")).to_be_visible()
    expect(site.get_by_text("两台设备共用凭据")).to_be_visible()
    expect(site.get_by_text("同一序号内容不一致")).to_be_visible()
    expect(site.get_by_text(f"拒收实例 {TWIN}")).to_be_visible()
    site.get_by_text("两台设备共用凭据").hover()
    expect(page.get_by_role("tooltip")).to_contain_text("anchang site resolve-twin")
    expect(page.locator(".el-statistic").filter(has_text="告警案场")).to_contain_text("1")
    shot(page, "console-sites-alarms")
