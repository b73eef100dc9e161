"""Times in the console on both cloud backends (the embedded SQLite of the demo and
PostgreSQL): visits registered at known Beijing times around midnight read as those
times on the visit list and the customer page, the date filter and "today" are Beijing
days whatever the computer's zone, the same-day rule follows the Beijing day, and an
appliance that reported seconds ago shows "几秒前", not "8 小时前".

A zoneless time from the API would be read by the browser as its local time: in a
Beijing browser (how the console is used) every time would show eight hours early.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from cloud.catalog.models import Project
from cloud.migrate import upgrade
from cloud.sales.models import Customer
from cloud.settings import CloudSettings
from cloud.sync import provision, service
from cloud.sync.models import SiteLink
from shared.crypto import decode_key
from shared.events import VISIT_REGISTERED
from shared.timeutil import SHANGHAI, utcnow
from tests.cloud import make_user
from tests.cloud.sales_world import envelope
from tests.conftest import make_settings, truncate_all
from tests.e2e.conftest import PASSWORD, VIEWPORTS, beijing_minutes, serve_cloud
from tests.e2e.console import expect, login, menu

pytestmark = pytest.mark.e2e

SITE_ID = "times-site"
REGULAR, NEWCOMER = "13900000001", "13900000002"
# (phone, Beijing time): 15:30 and 16:00:30 UTC are one UTC date but two Beijing days, so
# the regular's second visit is a return visit; 09:00 the next morning (01:00 UTC, another
# UTC date) is the same Beijing day as 00:00:30 and merges into it.
VISITS = [
    (NEWCOMER, datetime(2026, 11, 27, 20, 0, tzinfo=SHANGHAI)),
    (REGULAR, datetime(2026, 11, 27, 23, 30, tzinfo=SHANGHAI)),
    (REGULAR, datetime(2026, 11, 28, 0, 0, 30, tzinfo=SHANGHAI)),
    (REGULAR, datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI)),
]
# 00:30 in Beijing: the UTC date, and a UTC computer's, is still 2026-11-27.
JUST_AFTER_MIDNIGHT = datetime(2026, 11, 28, 0, 30, tzinfo=SHANGHAI)


@dataclass
class TimesCloud:
    cloud_url: str
    backend: str
    regular_id: int
    settings: CloudSettings


def _seed(settings: CloudSettings) -> int:
    """The site, its visits, the people who sign in; the regular customer's id."""
    engine = create_engine(settings.database_url)
    with Session(engine) as db:
        creds = provision.provision_site(db, settings=settings, site_id=SITE_ID,
                                         name="时间测试案场", projects=["一期"])
        project = db.exec(select(Project).where(Project.site_id == SITE_ID)).one()
        assert project.id is not None
        key = decode_key(creds.site_key)
        events = [envelope(key, SITE_ID, seq, VISIT_REGISTERED,
                           {"visit_id": str(uuid.uuid4()), "project_id": project.id,
                            "phone": phone, "name": "王先生", "party_size": 1}, at=at)
                  for seq, (phone, at) in enumerate(VISITS, start=1)]
        service.apply_batch(db, settings=settings, site_id=SITE_ID, envelopes=events,
                            received_at=VISITS[-1][1] + timedelta(hours=1))
        for username, roles in (("hqmgr", ["hq_manager"]), ("admin", ["sys_admin"]),
                                ("auditor", ["audit_admin"])):
            make_user(db, username, roles=roles, scope_all=True, password=PASSWORD)
        db.commit()
        regulars = db.exec(select(Customer).where(Customer.project_id == project.id)).all()
        regular = max(regulars, key=lambda c: c.visit_count)
        assert regular.id is not None
    engine.dispose()
    return regular.id


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def cloud(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[TimesCloud]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('times') / 'cloud.db'}"
        upgrade(url)
        settings = make_settings(url)
    else:
        settings = request.getfixturevalue("settings")
    try:
        regular_id = _seed(settings)
        with serve_cloud(settings) as cloud_url:
            yield TimesCloud(cloud_url, request.param, regular_id, settings)
    finally:
        if request.param == "postgresql":
            engine = create_engine(settings.database_url)
            truncate_all(engine)
            engine.dispose()


def rows(page: Any) -> Any:
    return page.get_by_role("row").filter(has_text=re.compile(r"1\d\d\*{4}\d{4}"))


def test_visits_read_at_their_beijing_time_and_day(
    cloud: TimesCloud, new_page: Callable[..., Any]
) -> None:
    page = login(new_page, cloud, "hqmgr", "/console/visits")
    expect(page.locator(".el-pagination")).to_contain_text("共 3 条")
    expect(rows(page)).to_have_count(3)
    # Newest first: the regular's return visit at 00:00:30 (merged with 09:00 that day).
    expect(rows(page).nth(0)).to_contain_text("2026-11-28 00:00")
    expect(rows(page).nth(0)).to_contain_text("复访")
    expect(rows(page).nth(1)).to_contain_text("2026-11-27 23:30")
    expect(rows(page).nth(1)).to_contain_text("首访")
    expect(rows(page).nth(2)).to_contain_text("2026-11-27 20:00")

    # The date filter is a Beijing calendar day.
    page.get_by_placeholder("开始日期").fill("2026-11-28")
    page.get_by_placeholder("结束日期").fill("2026-11-28")
    page.get_by_placeholder("结束日期").press("Enter")
    page.get_by_role("button", name="查询").click()
    expect(page.locator(".el-pagination")).to_contain_text("共 1 条")
    expect(rows(page)).to_have_count(1)
    expect(rows(page)).to_contain_text("2026-11-28 00:00")

    page.goto(f"{cloud.cloud_url}/console/customers/{cloud.regular_id}")
    facts = page.locator(".el-descriptions").first
    expect(facts).to_contain_text("2026-11-27 23:30")  # first visit
    expect(facts).to_contain_text("2026-11-28 00:00")  # latest visit
    # The visits-and-follow-ups timeline (the 线索动态 card below has its own).
    timeline = page.locator('[aria-label="到访与跟进记录"] .el-timeline-item__timestamp')
    expect(timeline).to_have_text(["2026-11-28 00:00", "2026-11-27 23:30"])


def test_today_is_the_beijing_day_on_a_computer_in_another_zone(
    cloud: TimesCloud, browser: Any
) -> None:
    """At 00:30 in Beijing a UTC computer still has yesterday's date: the dashboard counts
    the one visit after Beijing midnight, not the two of the evening before."""
    context = browser.new_context(locale="zh-CN", timezone_id="UTC",
                                  viewport=VIEWPORTS["console"])
    try:
        page = context.new_page()
        page.clock.set_fixed_time(JUST_AFTER_MIDNIGHT)
        page = login(lambda _kind: page, cloud, "hqmgr", "/console/dashboard")
        expect(page.get_by_text("今天是 2026-11-28（北京时间）")).to_be_visible()
        today = page.locator(".el-statistic").filter(has_text="今日到访（组）")
        expect(today).to_contain_text("1")
        expect(page.locator(".el-statistic").filter(has_text="近 7 日到访（组）")
               ).to_contain_text("3")
        page.goto(f"{cloud.cloud_url}/console/visits")
        expect(rows(page).nth(1)).to_contain_text("2026-11-27 23:30")
    finally:
        context.close()


def test_a_device_reporting_seconds_ago_and_a_login_just_now_read_as_now(
    cloud: TimesCloud, new_page: Callable[..., Any]
) -> None:
    engine = create_engine(cloud.settings.database_url)
    with Session(engine) as db:
        link = db.get(SiteLink, SITE_ID)
        assert link is not None
        link.online, link.status_at = True, utcnow() - timedelta(seconds=5)
        db.add(link)
        db.commit()
    engine.dispose()

    signed_in_at = utcnow()
    page = login(new_page, cloud, "admin")
    menu(page).filter(has_text="案场设备").click()
    reported = page.get_by_role("row").filter(has_text=SITE_ID)
    expect(reported).to_contain_text(re.compile(r"秒前|刚刚"))
    expect(reported).not_to_contain_text("小时前")

    menu(page).filter(has_text="用户与角色").click()
    admin = page.get_by_role("row").filter(has=page.get_by_text("admin", exact=True))
    expect(admin).to_contain_text(beijing_minutes(signed_in_at))

    signed_in_at = utcnow()
    page = login(new_page, cloud, "auditor", "/console/audit")
    own_login = page.get_by_role("row").filter(has=page.get_by_text("登录", exact=True)) \
        .filter(has_text="auditor").first
    expect(own_login).to_contain_text(beijing_minutes(signed_in_at))
