"""A data subject's erasure reaches the appeal evidence of their referrals: the files are
deleted from the real S3 server (rclone serve s3, through the minio SDK) and the rows keep
nothing of them; another customer's evidence stays."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cloud.channel.appeal_models import Appeal, AppealEvidence
from cloud.channel.subject import ERASED_TEXT
from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud import audit_rows, make_user, signed_in
from tests.cloud.appeal_world import PDF, PNG, appeal, refused_referral
from tests.cloud.channel_world import ChannelWorld
from tests.s3 import S3Server, serve

SUBJECT, OTHER = "13612345678", "13698765432"
BUCKET = "evidence-erasure"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    yield from serve(tmp_path_factory.mktemp("s3"))


@pytest.fixture
def s3_api(settings: CloudSettings, s3: S3Server, cw: ChannelWorld,
           db: Session) -> Iterator[TestClient]:
    make_user(db, "privacy", roles=["privacy_officer"], scope_all=True)
    on_s3 = settings.model_copy(update={
        "evidence_store": "s3", "s3_endpoint": s3.endpoint, "s3_access_key": s3.access_key,
        "s3_secret_key": settings.jwt_secret.__class__(s3.secret_key), "s3_secure": False,
        "s3_bucket": BUCKET, "s3_region": "us-east-1", "login_ip_limit": 1000})
    with TestClient(create_app(on_s3)) as client:
        yield client


def _evidence(api: TestClient, cw: ChannelWorld, broker: dict[str, str], phone: str,
              data: bytes, name: str) -> tuple[int, int]:
    referral = refused_referral(api, cw, phone=phone)
    opened = appeal(api, broker, referral["id"]).json()
    sent = api.post(f"/api/v1/channel/appeals/{opened['id']}/evidence", headers=broker,
                    files={"file": (name, data, "application/octet-stream")})
    assert sent.status_code == 201, sent.text
    return opened["id"], sent.json()["id"]


def _objects(root: Path) -> set[str]:
    return {str(p.relative_to(root / BUCKET)) for p in (root / BUCKET).rglob("*") if p.is_file()}


def test_an_erasure_deletes_the_subjects_evidence_files_and_blanks_their_rows(
        s3_api: TestClient, cw: ChannelWorld, db: Session, s3: S3Server) -> None:
    broker = signed_in(s3_api, "broker_b1")
    appeal_id, evidence_id = _evidence(s3_api, cw, broker, SUBJECT, PNG, "聊天截图.png")
    other_appeal, other_evidence = _evidence(s3_api, cw, broker, OTHER, PDF, "合同.pdf")
    db.rollback()
    keys = {e.id: e.object_key for e in db.exec(select(AppealEvidence)).all()}
    assert _objects(s3.root) == set(keys.values())

    officer = signed_in(s3_api, "privacy")
    opened = s3_api.post("/api/v1/privacy/requests", headers=officer, json={
        "kind": "deletion", "phone": SUBJECT, "channel": "onsite", "detail": "本人要求"})
    erased = s3_api.post(f"/api/v1/privacy/requests/{opened.json()['id']}/erase",
                         headers=officer)
    assert erased.status_code == 200, erased.text
    assert "1 个申诉材料文件已删除" in erased.json()["request"]["resolution"]

    # Gone from the store; the other customer's file is still there.
    assert _objects(s3.root) == {keys[other_evidence]}
    db.rollback()
    row = db.get(AppealEvidence, evidence_id, populate_existing=True)
    assert row is not None
    assert (row.object_key, row.filename, row.size, row.sha256) == (
        f"erased/{evidence_id}", "已删除", 0, "")
    kept = db.get(AppealEvidence, other_evidence, populate_existing=True)
    assert kept is not None and kept.filename == "合同.pdf"
    reasons = dict(db.exec(select(Appeal.id, Appeal.reason).order_by(col(Appeal.id))).all())
    assert reasons[appeal_id] == ERASED_TEXT and reasons[other_appeal] != ERASED_TEXT
    [audit] = audit_rows(db, "privacy.erase")
    assert audit.detail["evidence_files"] == 1

    # Reading the erased file answers not found; the listing shows it as erased.
    manager = signed_in(s3_api, "cm_a")
    gone = s3_api.get(f"/api/v1/channel/appeals/{appeal_id}/evidence/{evidence_id}",
                      headers=manager)
    assert (gone.status_code, gone.json()["code"]) == (404, "evidence_not_found")
    detail = s3_api.get(f"/api/v1/channel/appeals/{appeal_id}", headers=manager).json()
    assert [e["filename"] for e in detail["evidence"]] == ["已删除"]
    assert s3_api.get(f"/api/v1/channel/appeals/{other_appeal}/evidence/{other_evidence}",
                      headers=manager).content == PDF
