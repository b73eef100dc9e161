"""The `referral` down-feed kind appended when a referral changes (ADR 0058): after each
writer of a referral's state, window or number — submission, the developer's review, an
upheld appeal's override and the re-decisions it causes, a visit's scheduled re-decision,
the re-judging after a rule change, a data subject's erasure — the feed's latest items,
read as the appliance reads them, are exactly the live referrals the cloud holds. A
writer that forgets to announce its change fails here, since no request compares them;
and a new function that changes a referral's item fields fails the source check below.
"""

from __future__ import annotations

import ast
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from cloud.channel import feed_items, history
from cloud.channel import qr as cloud_qr
from cloud.channel.due import redecide_due
from cloud.channel.models import Referral
from cloud.channel.redecide import redecide_project
from cloud.channel.subject import erase_referrals
from cloud.sales.models import ERASED_MASK
from cloud.settings import CloudSettings
from cloud.sync import feed
from cloud.sync.models import DownFeed, SiteLink
from shared.events import VISIT_REGISTERED
from shared.timeutil import parse_iso, utcnow
from tests.cloud import signed_in
from tests.cloud.appeal_world import appeal, refused_referral
from tests.cloud.channel_world import ChannelWorld, refer
from tests.cloud.sales_world import apply, envelope

FIRST, SECOND, THIRD, FOURTH = "13611112222", "13622223333", "13633334444", "13644445555"


def _latest(db: Session) -> dict[str, dict[str, Any]]:
    rows = db.exec(select(DownFeed).where(
        DownFeed.site_id == "site-a", DownFeed.kind == "referral")
        .order_by(col(DownFeed.offset))).all()
    return {r.key: r.data for r in rows}  # the last per key wins, as on the appliance


def _live_on_the_appliance(db: Session, now: datetime) -> dict[str, dict[str, Any]]:
    return {key: data for key, data in _latest(db).items()
            if data.get("active", True) and (data["protection_until"] is None
                                             or parse_iso(data["protection_until"]) > now)}


def _assert_stated(db: Session, settings: CloudSettings) -> None:
    db.flush()
    link = db.get(SiteLink, "site-a")
    assert link is not None
    stated = feed_items.live_referrals(db, settings, link)  # what a snapshot states
    latest = _latest(db)
    assert {key: latest.get(key) for key in stated} == stated
    assert set(_live_on_the_appliance(db, utcnow())) == {
        key for key, data in stated.items() if data.get("active", True)}


def _visit(db: Session, settings: CloudSettings, cw: ChannelWorld, phone: str) -> None:
    site = cw.sales["site-a"]
    apply(db, settings, "site-a", [envelope(site.key, "site-a", site.next_seq(),
                                            VISIT_REGISTERED, {
        "visit_id": str(uuid.uuid4()), "project_id": site.project_id, "phone": phone,
        "party_size": 1, "consultant_id": cw.sales["consult_a"]})])


def _publish(api: TestClient, cw: ChannelWorld, rules: dict[str, Any]) -> None:
    response = api.post(f"/api/v1/channel/projects/{cw.project('site-a')}/rules",
                        headers=signed_in(api, "cm_a"), json={"rules": rules})
    assert response.status_code == 201, response.text


def _review(api: TestClient, referral_id: int, **body: Any) -> dict[str, Any]:
    response = api.post(f"/api/v1/channel/referrals/{referral_id}/review",
                        headers=signed_in(api, "cm_a"), json=body)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def _uphold(api: TestClient, referral_id: int) -> None:
    opened = appeal(api, signed_in(api, "broker_b1"), referral_id).json()
    manager, url = signed_in(api, "cm_a"), f"/api/v1/channel/appeals/{opened['id']}"
    assert api.post(f"{url}/review", headers=manager).status_code == 200
    decided = api.post(f"{url}/decision", headers=manager, json={
        "outcome": "upheld", "comment": "聊天记录证明先到", "new_state": "confirmed"})
    assert decided.status_code == 200, decided.text


def test_every_writer_leaves_the_feed_stating_the_live_referrals(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
) -> None:
    project = cw.project("site-a")
    # Submission: broker_a1's referral is live, broker_b1's refused at once (no item).
    refused = refused_referral(api, cw, FIRST)
    _assert_stated(db, settings)
    assert str(refused["id"]) not in _latest(db)

    # The developer's review: one approved, one rejected (re-decided, then announced).
    _publish(api, cw, {"developer_approval": True})
    approved = refer(api, signed_in(api, "broker_a2"), project, SECOND).json()
    rejected = refer(api, signed_in(api, "referrer"), project, THIRD).json()
    assert approved["reason_code"] == rejected["reason_code"] == "pending_approval"
    _assert_stated(db, settings)
    assert _review(api, approved["id"], approved=True)["state"] == "confirmed"
    assert _review(api, rejected["id"], approved=False, comment="资料不全")["state"] == (
        "invalid")
    _assert_stated(db, settings)
    assert _latest(db)[str(rejected["id"])]["active"] is False

    # An upheld appeal: the override, and broker_a1's referral judged again after it.
    _uphold(api, refused["id"])
    _assert_stated(db, settings)
    assert _latest(db)[str(refused["id"])]["state"] == "confirmed"

    # A visit synced at the door, and the scheduled re-decision that follows it.
    at_door = refer(api, signed_in(api, "broker_a1"), project, FOURTH).json()
    _review(api, at_door["id"], approved=True)
    _visit(db, settings, cw, FOURTH)
    assert redecide_due(db, settings=settings, now=utcnow()).changed >= 1
    _assert_stated(db, settings)

    # A rule change re-judges the project's live referrals.
    _publish(api, cw, {"developer_approval": False, "lead_time": "PT5M"})
    redecide_project(db, settings=settings, project_id=project, as_of=utcnow())
    _assert_stated(db, settings)

    # A data subject's erasure blanks the appliance's copy.
    bidx = history.number_of(settings, SECOND).bidx
    assert bidx is not None
    erased = erase_referrals(db, settings, phone_bidx=bidx, project_ids=[project],
                             erased_mask=ERASED_MASK)
    assert erased == 1
    _assert_stated(db, settings)
    gone = _latest(db)[str(approved["id"])]
    assert (gone["active"], gone["phone_masked"], gone["phone_key"]) == (
        False, ERASED_MASK, None)

    # A window that runs out appends nothing: the appliance reads it from the item.
    later = utcnow() + timedelta(days=3650)
    rows = db.exec(select(Referral).where(Referral.project_id == project)).all()
    assert set(_live_on_the_appliance(db, later)) == {
        str(r.id) for r in rows if cloud_qr.is_live(r, later)}


def test_a_down_request_compares_no_referrals_and_a_snapshot_states_them(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
) -> None:
    referral = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), FIRST).json()
    link = db.get(SiteLink, "site-a")
    assert link is not None

    def items() -> int:
        return db.exec(select(func.count()).select_from(DownFeed).where(
            DownFeed.site_id == "site-a", DownFeed.kind == "referral")).one()

    assert items() == 1  # the submission's
    db.delete(db.exec(select(DownFeed).where(DownFeed.kind == "referral")).one())
    feed.refresh_derived(db, "site-a", settings=settings, link=link)
    assert items() == 0  # not compared: had it been, the lost item would be back
    feed.append_snapshot(db, settings, link, b"k" * 32)
    assert list(_latest(db)) == [str(referral["id"])]


# What a referral's feed item shows, and so what a writer must announce.
_ITEM_FIELDS = {"state", "reason_code", "protection_until", "rule_version", "phone_masked",
                "phone_given", "phone_enc", "broker_id", "agency_id", "project_id"}
# Each function that sets them, and the function that announces the change for it.
_WRITERS = {
    ("cloud/channel/referrals.py", "apply_outcome"): [
        ("cloud/channel/referrals.py", "submit_as"), ("cloud/channel/redecide.py", "redecide")],
    ("cloud/channel/overrides.py", "override"): [("cloud/channel/overrides.py", "override")],
    ("cloud/channel/overrides.py", "_follow"): [("cloud/channel/overrides.py", "override")],
    ("cloud/channel/subject.py", "erase_referrals"): [
        ("cloud/channel/subject.py", "erase_referrals")],
}


def _functions(path: Path) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name: n for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def _imports_referral(path: Path) -> bool:
    return any(isinstance(n, ast.ImportFrom) and n.module == "cloud.channel.models"
               and any(a.name == "Referral" for a in n.names)
               for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))


def _sets_an_item_field(function: ast.AST) -> bool:
    """An assignment to an item field of something named like a referral (`referral`,
    `row`, `r`): a heuristic — a writer that names its row otherwise escapes it, and the
    scenario above is the other net."""
    for node in ast.walk(function):
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign)
                   else [])
        for target in targets:
            for one in target.elts if isinstance(target, ast.Tuple) else [target]:
                if (isinstance(one, ast.Attribute) and one.attr in _ITEM_FIELDS
                        and isinstance(one.value, ast.Name)
                        and ("referral" in one.value.id or one.value.id in ("row", "r"))):
                    return True
    return False


def _calls(function: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Call) and (
        (isinstance(n.func, ast.Name) and n.func.id == name)
        or (isinstance(n.func, ast.Attribute) and n.func.attr == name))
        for n in ast.walk(function))


def test_every_function_that_changes_a_referrals_item_has_it_announced() -> None:
    root = Path(__file__).resolve().parents[2]
    found = set()
    for path in sorted((root / "cloud").rglob("*.py")):
        if "migrations" in path.parts or not _imports_referral(path):
            continue
        relative = path.relative_to(root).as_posix()
        found |= {(relative, name) for name, function in _functions(path).items()
                  if _sets_an_item_field(function)}
    assert found == set(_WRITERS), "a new writer of a referral: announce its item (ADR 0058)"
    for announcers in _WRITERS.values():
        for module, name in announcers:
            assert _calls(_functions(root / module)[name], "announce_referrals"), (module, name)
    # apply_outcome's callers are exactly the announcing ones.
    callers = {(path.relative_to(root).as_posix(), name)
               for path in (root / "cloud").rglob("*.py")
               for name, function in _functions(path).items()
               if name != "apply_outcome" and _calls(function, "apply_outcome")}
    assert callers == set(_WRITERS[("cloud/channel/referrals.py", "apply_outcome")])
