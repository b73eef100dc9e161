"""Chinese names of the dimension keys an analytics answer carries: project, agency,
broker and consultant names, state and reason texts, channel groups."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlmodel import Session, col, select

from cloud.catalog.models import Project
from cloud.channel.analytics_fields import INDIVIDUAL_GROUP
from cloud.channel.models import Agency, Broker
from cloud.identity.models import User
from shared.attribution import REASON_TEXT
from shared.attribution.render import STATE_TEXT

INDIVIDUAL_TEXT = "全民营销（个人经纪人）"
NO_TEAM_TEXT = "未分团队"
NO_CONSULTANT_TEXT = "未到访或未分配顾问"
KIND_TEXT = {"agency": "渠道公司", INDIVIDUAL_GROUP: INDIVIDUAL_TEXT}
GROUP_TEXT = {"individual": "个人客户", "corporate": "企业客户"}


def _ints(keys: Iterable[Any]) -> list[int]:
    return sorted({int(k) for k in keys if k is not None})


def _names(session: Session, dimension: str, keys: set[Any]) -> dict[Any, str]:
    if dimension == "project":
        return dict(session.exec(select(Project.id, Project.name)
                                 .where(col(Project.id).in_(_ints(keys)))).all())
    if dimension in ("agency", "channel_group"):
        ids = _ints(int(str(k).split(":", 1)[1]) if dimension == "channel_group" else k
                    for k in keys if k is not None and (dimension == "agency"
                                                        or str(k).startswith("agency:")))
        return dict(session.exec(select(Agency.id, Agency.name)
                                 .where(col(Agency.id).in_(ids))).all())
    if dimension == "broker":
        return dict(session.exec(select(Broker.id, User.display_name)
                                 .join(User, col(User.id) == col(Broker.user_id))
                                 .where(col(Broker.id).in_(_ints(keys)))).all())
    if dimension == "consultant":
        return dict(session.exec(select(User.id, User.display_name)
                                 .where(col(User.id).in_(_ints(keys)))).all())
    return {}


def labeller(session: Session, dimension: str, keys: Iterable[Any]) -> Callable[[Any], str]:
    """A function naming the keys of `dimension` (looked up once for all `keys`)."""
    names = _names(session, dimension, set(keys))

    def label(key: Any) -> str:
        return _label(dimension, key, names)

    return label


def _label(dimension: str, key: Any, names: dict[Any, str]) -> str:
    if dimension == "agency":
        return INDIVIDUAL_TEXT if key is None else names.get(key, f"渠道公司 {key}")
    if dimension == "channel_group":
        text = str(key)
        if text.startswith("team:"):
            return f"团队：{text[5:]}"
        if text.startswith("agency:"):
            agency_id = int(text[7:])
            return names.get(agency_id, f"渠道公司 {agency_id}")
        return INDIVIDUAL_TEXT
    if dimension == "team":
        return NO_TEAM_TEXT if key is None else str(key)
    if dimension == "consultant":
        return NO_CONSULTANT_TEXT if key is None else names.get(key, f"顾问 {key}")
    if dimension in ("project", "broker"):
        return names.get(key, str(key))
    if dimension == "channel_kind":
        return KIND_TEXT.get(str(key), str(key))
    if dimension == "customer_group":
        return GROUP_TEXT.get(str(key), str(key))
    if dimension == "state":
        return STATE_TEXT.get(str(key), str(key))
    if dimension == "reason_code":
        return _reason(str(key))
    return "" if key is None else str(key)


def _reason(code: str) -> str:
    # Override codes are the engine's too; an unknown stored code shows as itself.
    return next((text for c, text in REASON_TEXT.items() if c.value == code), code)
