"""Tencent Cloud SMS (短信 API 3.0, `SendSms` of version 2021-01-11), the second provider
beside Aliyun's (ADR 0043). One JSON POST signed with TC3-HMAC-SHA256: a canonical request
over the method, path, the `content-type` and `host` headers and the payload's SHA-256,
signed with a key derived from the secret by date, service and `tc3_request`."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog

from cloud.channel.signin.errors import SmsFailed, SmsRefused
from shared.phone import mask_phone

log = structlog.get_logger()

SERVICE = "sms"
VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"
# Tencent's per-number answers (in SendStatusSet): about the number, so the person is told.
REFUSED_NUMBER = frozenset({
    "InvalidParameterValue.IncorrectPhoneNumber", "FailedOperation.PhoneNumberInBlacklist",
    "LimitExceeded.PhoneNumberDailyLimit", "LimitExceeded.PhoneNumberOneHourLimit",
    "LimitExceeded.PhoneNumberThirtySecondLimit", "LimitExceeded.PhoneNumberSameContentDailyLimit",
    "FailedOperation.ContainSensitiveWord"})


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_signature(*, secret_key: str, host: str, payload: str, timestamp: int,
                  service: str = SERVICE) -> tuple[str, str]:
    """(credential scope, hex signature) of a POST to `/` with a JSON payload."""
    canonical = "\n".join([
        "POST", "/", "", f"content-type:{CONTENT_TYPE}\nhost:{host}\n", "content-type;host",
        hashlib.sha256(payload.encode()).hexdigest()])
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    return scope, hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class TencentSms:
    def __init__(self, *, endpoint: str, secret_id: str, secret_key: str, sdk_app_id: str,
                 sign_name: str, template: str, region: str, timeout: float) -> None:
        self.endpoint = endpoint.rstrip("/") + "/"
        self.host = urlsplit(self.endpoint).netloc
        self.secret_id = secret_id
        self._secret = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.template = template
        self.region = region
        self.timeout = timeout

    def send_code(self, phone: str, code: str) -> None:
        payload = json.dumps({"PhoneNumberSet": [f"+86{phone}"], "SmsSdkAppId": self.sdk_app_id,
                              "SignName": self.sign_name, "TemplateId": self.template,
                              "TemplateParamSet": [code]}, ensure_ascii=False,
                             separators=(",", ":"))
        timestamp = int(datetime.now(UTC).timestamp())
        scope, signature = tc3_signature(secret_key=self._secret, host=self.host,
                                         payload=payload, timestamp=timestamp)
        headers = {
            "Authorization": f"TC3-HMAC-SHA256 Credential={self.secret_id}/{scope}, "
                             f"SignedHeaders=content-type;host, Signature={signature}",
            "Content-Type": CONTENT_TYPE, "Host": self.host, "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(timestamp), "X-TC-Version": VERSION,
            "X-TC-Region": self.region}
        try:
            response = httpx.post(self.endpoint, content=payload.encode(), headers=headers,
                                  timeout=self.timeout)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("sms_unreachable", provider="tencent", error=type(exc).__name__)
            raise SmsFailed() from exc
        answer: dict[str, Any] = body.get("Response", {}) if isinstance(body, dict) else {}
        request_id = answer.get("RequestId")
        error = answer.get("Error")
        statuses = answer.get("SendStatusSet")
        status = statuses[0] if isinstance(statuses, list) and statuses else None
        result = (error.get("Code") if isinstance(error, dict)
                  else status.get("Code") if isinstance(status, dict) else None)
        if error is None and result == "Ok":
            log.info("sms_sent", provider="tencent", phone=mask_phone(phone),
                     request_id=request_id)
            return
        log.warning("sms_refused", provider="tencent", phone=mask_phone(phone),
                    status=response.status_code, code=result, request_id=request_id)
        if result in REFUSED_NUMBER:
            raise SmsRefused()
        raise SmsFailed()
