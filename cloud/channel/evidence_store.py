"""Where appeal evidence files live: an S3-compatible object store through the minio SDK,
or a local folder (the demo). Both take only keys this module made (random, no path
parts), so a key can never name a file outside the store.
"""

from __future__ import annotations

import io
import re
import secrets
from pathlib import Path
from typing import Protocol

from minio import Minio
from minio.error import InvalidResponseError, MinioException, S3Error
from urllib3.exceptions import HTTPError

from cloud.channel.errors import EvidenceNotFound, EvidenceStoreUnavailable
from cloud.settings import CloudSettings

_KEY = re.compile(r"^evidence/[0-9a-f]{2}/[0-9a-f]{32}$")


def new_key() -> str:
    token = secrets.token_hex(16)
    return f"evidence/{token[:2]}/{token}"


def _checked(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not an evidence key: {key!r}")
    return key


class EvidenceStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None:
        """Remove the object; one already gone is fine (an erasure may be retried)."""


class LocalStore:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self.folder / _checked(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(target)

    def get(self, key: str) -> bytes:
        target = self.folder / _checked(key)
        try:
            return target.read_bytes()
        except FileNotFoundError as exc:
            raise EvidenceNotFound() from exc

    def delete(self, key: str) -> None:
        (self.folder / _checked(key)).unlink(missing_ok=True)


class S3Store:
    def __init__(self, client: Minio, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self._bucket_ready = False

    def _ensure_bucket(self) -> None:
        if not self._bucket_ready:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)
            self._bucket_ready = True

    def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self._ensure_bucket()
            self.client.put_object(self.bucket, _checked(key), io.BytesIO(data), len(data),
                                   content_type=content_type)
        except (MinioException, HTTPError) as exc:
            raise EvidenceStoreUnavailable() from exc

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(self.bucket, _checked(key))
        except MinioException as exc:
            if _missing(exc):
                raise EvidenceNotFound() from exc
            raise EvidenceStoreUnavailable() from exc
        except HTTPError as exc:
            raise EvidenceStoreUnavailable() from exc
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def delete(self, key: str) -> None:
        # S3 answers a delete of a missing key with success, so a retry is harmless.
        try:
            self.client.remove_object(self.bucket, _checked(key))
        except MinioException as exc:
            if not _missing(exc):
                raise EvidenceStoreUnavailable() from exc
        except HTTPError as exc:
            raise EvidenceStoreUnavailable() from exc


def _missing(exc: MinioException) -> bool:
    # Some S3 services (rclone among them) send their XML errors as text/xml, which the
    # SDK reports as an InvalidResponseError carrying only the status.
    if isinstance(exc, S3Error):
        return exc.code in ("NoSuchKey", "NoSuchBucket")
    return isinstance(exc, InvalidResponseError) and getattr(exc, "_code", None) == 404


def from_settings(settings: CloudSettings) -> EvidenceStore:
    if settings.evidence_store == "local":
        return LocalStore(settings.evidence_dir)
    if not (settings.s3_endpoint and settings.s3_access_key and settings.s3_secret_key):
        raise ValueError("ANCHANG_CLOUD_EVIDENCE_STORE=s3 needs ANCHANG_CLOUD_S3_ENDPOINT, "
                         "_S3_ACCESS_KEY and _S3_SECRET_KEY")
    client = Minio(settings.s3_endpoint, access_key=settings.s3_access_key,
                   secret_key=settings.s3_secret_key.get_secret_value(),
                   secure=settings.s3_secure, region=settings.s3_region)
    return S3Store(client, settings.s3_bucket)
