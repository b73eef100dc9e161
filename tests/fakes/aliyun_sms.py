"""A fake of Aliyun Dysmsapi's SendSms (RPC style, 2017-05-25): checks the parameters,
the HMAC-SHA1 signature v1, the timestamp window and nonce reuse as Aliyun does, and
answers with Aliyun's shapes ({Code, Message, RequestId, …}; HTTP 4xx for request
errors, HTTP 200 with an `isv.*` Code for business refusals). Written from Aliyun's
documentation, independently of the adapter under test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

REQUIRED = ("AccessKeyId", "Action", "PhoneNumbers", "SignName", "SignatureMethod",
            "SignatureNonce", "SignatureVersion", "TemplateCode", "Timestamp", "Version",
            "Signature")
TIMESTAMP_WINDOW = 15 * 60


def _pop_encode(text: str) -> str:
    # Aliyun's recipe: URL-encode as application/x-www-form-urlencoded, then + → %20,
    # * → %2A, %7E → ~.
    return (urllib.parse.quote_plus(text).replace("+", "%20").replace("*", "%2A")
            .replace("%7E", "~"))


def signature(method: str, params: dict[str, str], secret: str) -> str:
    query = "&".join(f"{_pop_encode(k)}={_pop_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&%2F&{_pop_encode(query)}"
    return base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(),
                                     hashlib.sha1).digest()).decode()


@dataclass(frozen=True)
class Sent:
    phone: str
    sign_name: str
    template: str
    params: dict[str, str]


@dataclass
class FakeAliyunSms:
    keys: dict[str, str]  # AccessKeyId -> AccessKeySecret
    sign_names: frozenset[str]
    templates: frozenset[str]
    sent: list[Sent] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)
    refuse_numbers: dict[str, str] = field(default_factory=dict)  # phone -> isv code

    def last_code(self, phone: str) -> str:
        for message in reversed(self.sent):
            if message.phone == phone:
                return message.params["code"]
        raise AssertionError(f"no SMS to {phone}")

    def app(self) -> FastAPI:
        api = FastAPI()

        def answer(status: int, code: str, message: str, **more: str) -> JSONResponse:
            return JSONResponse({"RequestId": secrets.token_hex(8).upper(), "Code": code,
                                 "Message": message, "HostId": "dysmsapi.aliyuncs.com",
                                 **more}, status_code=status)

        @api.api_route("/", methods=["GET", "POST"])
        async def rpc(request: Request) -> JSONResponse:
            if request.method == "POST":
                params = dict(urllib.parse.parse_qsl((await request.body()).decode()))
            else:
                params = dict(request.query_params)
            missing = [k for k in REQUIRED if not params.get(k)]
            if missing:
                return answer(400, "MissingParameter", f"{missing[0]} is mandatory for this "
                              "action.")
            if params["Action"] != "SendSms" or params["Version"] != "2017-05-25":
                return answer(404, "InvalidAction.NotFound", "Specified api is not found, "
                              "please check your url and method.")
            secret = self.keys.get(params["AccessKeyId"])
            if secret is None:
                return answer(404, "InvalidAccessKeyId.NotFound",
                              "Specified access key is not found.")
            if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
                return answer(400, "InvalidSignatureMethod", "Specified signature method is "
                              "not valid.")
            given = params.pop("Signature")
            expected = signature(request.method, params, secret)
            if not hmac.compare_digest(given, expected):
                return answer(400, "SignatureDoesNotMatch", "Specified signature is not "
                              "matched with our calculation.")
            try:
                at = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(
                    tzinfo=UTC)
            except ValueError:
                return answer(400, "InvalidTimeStamp.Format", "Specified time stamp or date "
                              "value is not well formatted.")
            if abs((datetime.now(UTC) - at).total_seconds()) > TIMESTAMP_WINDOW:
                return answer(400, "InvalidTimeStamp.Expired", "Specified time stamp or date "
                              "value is expired.")
            if params["SignatureNonce"] in self.nonces:
                return answer(400, "SignatureNonceUsed", "Specified signature nonce was used "
                              "already.")
            self.nonces.add(params["SignatureNonce"])
            phone = params["PhoneNumbers"]
            if not re.fullmatch(r"1[3-9][0-9]{9}", phone):
                return answer(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
            if phone in self.refuse_numbers:
                return answer(200, self.refuse_numbers[phone], "触发号码天级流控Permits:10")
            if params["SignName"] not in self.sign_names:
                return answer(200, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
            if params["TemplateCode"] not in self.templates:
                return answer(200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
            try:
                values = json.loads(params.get("TemplateParam", "{}"))
            except ValueError:
                return answer(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
            if not isinstance(values, dict) or not all(isinstance(v, str)
                                                       for v in values.values()):
                return answer(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
            self.sent.append(Sent(phone, params["SignName"], params["TemplateCode"], values))
            return answer(200, "OK", "OK", BizId=f"{secrets.randbelow(10**9)}^0")

        return api
