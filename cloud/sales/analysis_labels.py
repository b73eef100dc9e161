"""Chinese names of 销售分析's group keys and intention values (the server names them, so
the console, the phone and the export show the same words)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlmodel import Session, col, select

from cloud.catalog.models import Site
from cloud.identity.models import User
from cloud.inventory.models import ReleaseBatch
from cloud.sales.export import SOURCE_NAMES

DIMENSION_NAMES = {"team": "销售团队（案场）", "product": "产品（户型）",
                   "consultant": "置业顾问", "channel": "渠道（来源）", "batch": "推盘批次"}
INTENTION_NAMES = {"grade": "客户等级", "purpose": "购房用途", "layout": "意向户型",
                   "area": "意向面积", "budget": "预算", "awareness": "认知途径",
                   "gender": "性别", "region": "号码归属地", "source": "来访来源"}
_MISSING = {"team": "未知案场", "product": "未填写户型", "consultant": "未分配顾问",
            "channel": "未知来源", "batch": "未推盘"}
_VALUES: dict[str, dict[str, str]] = {
    "purpose": {"own_use": "自住", "investment": "投资"},
    "gender": {"male": "男", "female": "女", "unknown": "未知"},
    "awareness": {"passing_by": "路过", "outdoor_ad": "户外广告", "online": "网络",
                  "friend": "朋友介绍", "channel": "中介/渠道", "call": "电话",
                  "event": "活动", "old_customer": "老业主推荐", "other": "其他"},
    "grade": {g: f"{g} 级" for g in "ABCD"},
    "source": SOURCE_NAMES,
    "area": {"<90": "90㎡以下", "<120": "90–120㎡", "<144": "120–144㎡", ">=144": "144㎡及以上"},
    "budget": {"<200": "200万以下", "<300": "200–300万", "<500": "300–500万",
               ">=500": "500万及以上"},
}


def _names(session: Session, group_by: str, keys: set[Any]) -> dict[Any, str]:
    present = [k for k in keys if k is not None]
    if not present:
        return {}
    if group_by == "team":
        return dict(session.exec(select(Site.id, Site.name)
                                 .where(col(Site.id).in_(present))).all())
    if group_by == "consultant":
        return dict(session.exec(select(User.id, User.display_name)
                                 .where(col(User.id).in_(present))).all())
    if group_by == "batch":
        return dict(session.exec(select(ReleaseBatch.id, ReleaseBatch.name)
                                 .where(col(ReleaseBatch.id).in_(present))).all())
    if group_by == "channel":
        return {k: SOURCE_NAMES.get(k, k) for k in present}
    return {k: str(k) for k in present}


def namer(session: Session, group_by: str | None, keys: Iterable[Any]) -> Callable[[Any], str]:
    """A function naming the keys of `group_by` (looked up once for all `keys`)."""
    if group_by is None:
        return lambda _key: "全部"
    names = _names(session, group_by, set(keys))
    return lambda key: names.get(key, _MISSING[group_by] if key is None else str(key))


def intention(field: str, value: Any) -> str:
    if value is None:
        return "未填写"
    return _VALUES.get(field, {}).get(value, str(value))
