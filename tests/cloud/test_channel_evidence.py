"""Appeal evidence in a real S3 server (rclone serve s3) through the minio SDK: what is
kept, under which key, what is refused, and who may read it back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from minio import Minio
from sqlmodel import Session, select

from cloud.audit.models import AuditLog
from cloud.channel.appeal_models import AppealEvidence
from cloud.channel.errors import EvidenceNotFound
from cloud.channel.evidence_store import LocalStore, S3Store, from_settings, new_key
from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud import signed_in
from tests.cloud.appeal_world import PDF, PNG, appeal, refused_referral
from tests.cloud.channel_world import ChannelWorld
from tests.s3 import S3Server, serve


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    yield from serve(tmp_path_factory.mktemp("s3"))


@pytest.fixture
def s3_settings(settings: CloudSettings, s3: S3Server) -> CloudSettings:
    return settings.model_copy(update={
        "evidence_store": "s3", "s3_endpoint": s3.endpoint, "s3_access_key": s3.access_key,
        "s3_secret_key": settings.jwt_secret.__class__(s3.secret_key), "s3_secure": False,
        "s3_bucket": "evidence-test", "s3_region": "us-east-1",
        "evidence_max_bytes": 64 * 1024,
        "login_ip_limit": 1000})


@pytest.fixture
def s3_api(s3_settings: CloudSettings, cw: ChannelWorld) -> Iterator[TestClient]:
    with TestClient(create_app(s3_settings)) as client:
        yield client


def test_the_s3_store_keeps_and_returns_bytes(s3_settings: CloudSettings, s3: S3Server) -> None:
    store = from_settings(s3_settings)
    assert isinstance(store, S3Store)
    key = new_key()
    store.put(key, PDF, "application/pdf")

    assert store.get(key) == PDF
    # It is a real object in a real bucket: the SDK lists it with its type.
    client = Minio(s3.endpoint, access_key=s3.access_key, secret_key=s3.secret_key,
                   secure=False, region="us-east-1")
    assert client.stat_object("evidence-test", key).size == len(PDF)
    with pytest.raises(EvidenceNotFound):
        store.get(new_key())


def test_keys_are_random_and_a_foreign_key_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert new_key() != new_key()
    for hostile in ("../../etc/passwd", "evidence/../x", "/etc/passwd"):
        with pytest.raises(ValueError):
            store.put(hostile, b"x", "image/png")


def test_upload_download_and_refusals(s3_api: TestClient, cw: ChannelWorld, db: Session,
                                      s3: S3Server) -> None:
    referral = refused_referral(s3_api, cw)
    broker = signed_in(s3_api, "broker_b1")
    opened = appeal(s3_api, broker, referral["id"])
    assert opened.status_code == 201, opened.text
    url = f"/api/v1/channel/appeals/{opened.json()['id']}/evidence"

    # A path-traversal name is only a label: the object gets a random key in the bucket.
    sent = s3_api.post(url, headers=broker,
                       files={"file": ("../../../etc/截图.png", PNG, "image/png")})
    assert sent.status_code == 201, sent.text
    assert sent.json()["filename"] == "截图.png" and sent.json()["size"] == len(PNG)
    row = db.exec(select(AppealEvidence)).one()
    assert row.object_key.startswith("evidence/") and ".." not in row.object_key
    assert (s3.root / "evidence-test" / row.object_key).read_bytes() == PNG
    assert not list(s3.root.rglob("*截图*")) and not list(s3.root.rglob("passwd"))

    # What a file is comes from its bytes, not from its name or declared type.
    text = s3_api.post(url, headers=broker,
                       files={"file": ("photo.png", b"<script>alert(1)</script>", "image/png")})
    assert text.status_code == 415 and text.json()["code"] == "evidence_type_refused"
    # Just over the limit (refused by the route) and far over it (by the input guard,
    # before the body is read): one answer.
    for extra in (1, 1024 * 1024):
        big = s3_api.post(url, headers=broker, files={
            "file": ("big.pdf", PDF + bytes(64 * 1024 - len(PDF) + extra), "application/pdf")})
        assert big.status_code == 413 and big.json()["code"] == "evidence_too_large", extra
    exact = s3_api.post(url, headers=broker, files={
        "file": ("ok.pdf", PDF + bytes(64 * 1024 - len(PDF)), "application/pdf")})
    assert exact.status_code == 201, exact.text
    pdf_as_jpg = s3_api.post(url, headers=broker,
                             files={"file": ("合同.jpg", PDF, "image/jpeg")})
    assert pdf_as_jpg.status_code == 201 and pdf_as_jpg.json()["filename"] == "合同.pdf"

    # Read back through the authorised route only, audited.
    download = f"{url}/{sent.json()['id']}"
    got = s3_api.get(download, headers=broker)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    manager = signed_in(s3_api, "cm_a")
    assert s3_api.get(download, headers=manager).status_code == 200
    for outsider in ("broker_a1", "cm_b"):
        refused = s3_api.get(download, headers=signed_in(s3_api, outsider))
        assert refused.status_code == 404, outsider
    # Another broker cannot add to it either.
    foreign = s3_api.post(url, headers=signed_in(s3_api, "broker_a1"),
                          files={"file": ("x.png", PNG, "image/png")})
    assert foreign.status_code == 404
    db.rollback()
    actions = list(db.exec(select(AuditLog.action).where(
        AuditLog.object_type == "channel_appeal")).all())
    assert actions.count("channel.appeal_evidence_upload") == 3
    assert actions.count("channel.appeal_evidence_download") == 2
    detail = s3_api.get(f"/api/v1/channel/appeals/{opened.json()['id']}", headers=broker)
    assert [e["filename"] for e in detail.json()["evidence"]] == ["截图.png", "ok.pdf", "合同.pdf"]
