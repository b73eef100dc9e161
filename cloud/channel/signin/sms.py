"""Sending SMS codes. Aliyun Dysmsapi's SendSms (RPC API, signature v1: HMAC-SHA1 of the
canonical query; ADR 0023), Tencent Cloud's SendSms (sms_tencent.py, ADR 0043), and the
demo's stand-in that writes the code to the server log. Production without a provider
answers 503: a code must never go to a log there."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import quote

import httpx
import structlog

from cloud.channel.signin.errors import SmsFailed, SmsNotConfigured, SmsRefused
from cloud.channel.signin.sms_tencent import TencentSms
from cloud.settings import CloudSettings
from shared.phone import mask_phone

log = structlog.get_logger()

# Aliyun's answers that are about the number, not about us: the person is told so.
ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com"
TENCENT_ENDPOINT = "https://sms.tencentcloudapi.com"
REFUSED_NUMBER = frozenset({"isv.MOBILE_NUMBER_ILLEGAL", "isv.BUSINESS_LIMIT_CONTROL",
                            "isv.DAY_LIMIT_CONTROL", "isv.BLACK_KEY_CONTROL_LIMIT"})


class SmsSender(Protocol):
    def send_code(self, phone: str, code: str) -> None:
        """Deliver `code` to the normalised number `phone`, or raise an AppError."""


def percent_encode(text: str) -> str:
    """Aliyun's POP encoding: RFC 3986 unreserved characters kept, all else %XX."""
    return quote(text, safe="-_.~")


def sign_v1(params: dict[str, str], secret: str, method: str = "POST") -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}"
                         for k, v in sorted(params.items()))
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    def __init__(self, *, endpoint: str, key_id: str, key_secret: str, sign_name: str,
                 template: str, timeout: float) -> None:
        self.endpoint = endpoint.rstrip("/") + "/"
        self.key_id = key_id
        self._secret = key_secret
        self.sign_name = sign_name
        self.template = template
        self.timeout = timeout

    def send_code(self, phone: str, code: str) -> None:
        params = {
            "AccessKeyId": self.key_id, "Action": "SendSms", "Format": "JSON",
            "PhoneNumbers": phone, "RegionId": "cn-hangzhou", "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1", "SignatureNonce": secrets.token_hex(16),
            "SignatureVersion": "1.0", "TemplateCode": self.template,
            "TemplateParam": json.dumps({"code": code}),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = sign_v1(params, self._secret)
        try:
            response = httpx.post(self.endpoint, data=params, timeout=self.timeout)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("sms_unreachable", error=type(exc).__name__)
            raise SmsFailed() from exc
        result = body.get("Code") if isinstance(body, dict) else None
        if result == "OK":
            log.info("sms_sent", phone=mask_phone(phone), request_id=body.get("RequestId"))
            return
        log.warning("sms_refused", phone=mask_phone(phone), status=response.status_code,
                    code=result, request_id=body.get("RequestId") if isinstance(body, dict)
                    else None)
        if result in REFUSED_NUMBER:
            raise SmsRefused()
        raise SmsFailed()


class LogSms:
    """The demo's SMS: the code is written to the server log for whoever runs it."""

    def send_code(self, phone: str, code: str) -> None:
        log.warning("demo_sms_code", phone=mask_phone(phone), code=code,
                    hint="demo mode only: no SMS was sent")


class NoSms:
    def send_code(self, phone: str, code: str) -> None:
        raise SmsNotConfigured()


def from_settings(settings: CloudSettings) -> SmsSender:
    if settings.sms_provider == "tencent":
        return _tencent(settings)
    if settings.sms_provider == "aliyun":
        if not (settings.sms_access_key_id and settings.sms_access_key_secret
                and settings.sms_template_code):
            log.warning("sms_not_configured", provider="aliyun",
                        hint="set ANCHANG_CLOUD_SMS_ACCESS_KEY_ID, _SECRET, _TEMPLATE_CODE")
            return NoSms()
        return AliyunSms(endpoint=settings.sms_endpoint or ALIYUN_ENDPOINT,
                         key_id=settings.sms_access_key_id,
                         key_secret=settings.sms_access_key_secret.get_secret_value(),
                         sign_name=settings.sms_sign_name,
                         template=settings.sms_template_code,
                         timeout=settings.sms_timeout_seconds)
    return LogSms() if settings.mode == "demo" else NoSms()


def _tencent(settings: CloudSettings) -> SmsSender:
    if not (settings.sms_access_key_id and settings.sms_access_key_secret
            and settings.sms_template_code and settings.sms_sdk_app_id):
        log.warning("sms_not_configured", provider="tencent",
                    hint="set ANCHANG_CLOUD_SMS_ACCESS_KEY_ID, _SECRET, _TEMPLATE_CODE, "
                    "_SDK_APP_ID")
        return NoSms()
    return TencentSms(endpoint=settings.sms_endpoint or TENCENT_ENDPOINT,
                      secret_id=settings.sms_access_key_id,
                      secret_key=settings.sms_access_key_secret.get_secret_value(),
                      sdk_app_id=settings.sms_sdk_app_id, sign_name=settings.sms_sign_name,
                      template=settings.sms_template_code, region=settings.sms_region,
                      timeout=settings.sms_timeout_seconds)
