"""A fake of Tencent Cloud SMS's SendSms (API 3.0, version 2021-01-11): checks the common
headers (X-TC-Action, -Version, -Timestamp, -Region), the TC3-HMAC-SHA256 Authorization
(credential scope, signed headers, signature over the canonical request), the 5-minute
timestamp window, and answers with Tencent's shapes: HTTP 200 always, `Response.Error`
for a request refused, `Response.SendStatusSet[].Code` per number. Written from Tencent's
documentation, independently of the adapter under test."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

TIMESTAMP_WINDOW = 300
AUTH = re.compile(r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/"
                  r"(?P<service>[a-z]+)/tc3_request, SignedHeaders=(?P<signed>[a-z;-]+), "
                  r"Signature=(?P<signature>[0-9a-f]{64})")


def _sign(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


@dataclass(frozen=True)
class Sent:
    phone: str  # as Tencent takes it, +86…
    sign_name: str
    template: str
    params: list[str]


@dataclass
class FakeTencentSms:
    keys: dict[str, str]  # SecretId -> SecretKey
    apps: frozenset[str]  # SmsSdkAppId
    sign_names: frozenset[str]
    templates: frozenset[str]
    sent: list[Sent] = field(default_factory=list)
    refuse_numbers: dict[str, str] = field(default_factory=dict)  # +86… -> Code

    def last_code(self, phone: str) -> str:
        for message in reversed(self.sent):
            if message.phone == f"+86{phone}":
                return message.params[0]
        raise AssertionError(f"no SMS to {phone}")

    def app(self) -> FastAPI:
        api = FastAPI()

        def error(code: str, message: str) -> JSONResponse:
            return JSONResponse({"Response": {"Error": {"Code": code, "Message": message},
                                              "RequestId": secrets.token_hex(16)}})

        @api.post("/")
        async def send(request: Request) -> JSONResponse:
            headers = request.headers
            payload = (await request.body()).decode()
            if headers.get("x-tc-action") != "SendSms":
                return error("InvalidAction", "the action does not exist")
            if headers.get("x-tc-version") != "2021-01-11":
                return error("NoSuchVersion", "the version does not exist")
            if not headers.get("x-tc-region"):
                return error("MissingParameter", "the Region parameter is missing")
            found = AUTH.fullmatch(headers.get("authorization", ""))
            if found is None:
                return error("AuthFailure.InvalidAuthorization", "Authorization is invalid")
            secret = self.keys.get(found["id"])
            if secret is None:
                return error("AuthFailure.SecretIdNotFound", "the SecretId does not exist")
            try:
                timestamp = int(headers.get("x-tc-timestamp", ""))
            except ValueError:
                return error("InvalidParameter", "X-TC-Timestamp is not an integer")
            if abs(datetime.now(UTC).timestamp() - timestamp) > TIMESTAMP_WINDOW:
                return error("AuthFailure.SignatureExpire", "the signature has expired")
            date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
            if found["date"] != date or found["service"] != "sms":
                return error("AuthFailure.InvalidAuthorization", "credential scope mismatch")
            signed = found["signed"].split(";")
            if "host" not in signed or "content-type" not in signed:
                return error("AuthFailure.InvalidAuthorization", "host and content-type "
                             "must be signed")
            canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n"
                                        for name in signed)
            canonical = (f"POST\n/\n\n{canonical_headers}\n{found['signed']}\n"
                         f"{hashlib.sha256(payload.encode()).hexdigest()}")
            to_sign = (f"TC3-HMAC-SHA256\n{timestamp}\n{date}/sms/tc3_request\n"
                       f"{hashlib.sha256(canonical.encode()).hexdigest()}")
            key = _sign(_sign(_sign(f"TC3{secret}".encode(), date), "sms"), "tc3_request")
            expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, found["signature"]):
                return error("AuthFailure.SignatureFailure", "the signature is incorrect")
            try:
                body: Any = json.loads(payload)
            except ValueError:
                return error("InvalidParameter", "the body is not JSON")
            numbers, params = body.get("PhoneNumberSet"), body.get("TemplateParamSet", [])
            if not isinstance(numbers, list) or not numbers or not isinstance(params, list):
                return error("MissingParameter", "PhoneNumberSet is required")
            if body.get("SmsSdkAppId") not in self.apps:
                return error("UnauthorizedOperation.SmsSdkAppIdVerifyFail",
                             "SmsSdkAppId verification failed")
            if body.get("SignName") not in self.sign_names:
                return error("FailedOperation.SignatureIncorrectOrUnapproved",
                             "the signature is not approved")
            if body.get("TemplateId") not in self.templates:
                return error("FailedOperation.TemplateIncorrectOrUnapproved",
                             "the template is not approved")
            statuses = []
            for number in numbers:
                code = ("InvalidParameterValue.IncorrectPhoneNumber"
                        if not re.fullmatch(r"\+861[3-9][0-9]{9}", str(number))
                        else self.refuse_numbers.get(number, "Ok"))
                if code == "Ok":
                    self.sent.append(Sent(number, body["SignName"], body["TemplateId"],
                                          [str(p) for p in params]))
                statuses.append({"SerialNo": secrets.token_hex(8), "PhoneNumber": number,
                                 "Fee": 1 if code == "Ok" else 0, "SessionContext": "",
                                 "Code": code, "Message": "send success" if code == "Ok"
                                 else "refused", "IsoCode": "CN"})
            return JSONResponse({"Response": {"SendStatusSet": statuses,
                                              "RequestId": secrets.token_hex(16)}})

        return api
