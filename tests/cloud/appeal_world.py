"""Appeals for the cloud tests: a referral refused because another agency referred the
customer first, and its broker's appeal."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld, refer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def refused_referral(api: TestClient, cw: ChannelWorld, phone: str = "13611112222",
                     loser: str = "broker_b1") -> dict[str, Any]:
    """broker_a1 refers `phone` first; `loser`'s referral of it is refused (invalid)."""
    project = cw.project("site-a")
    first = refer(api, signed_in(api, "broker_a1"), project, phone)
    assert first.status_code == 201 and first.json()["state"] != "invalid", first.text
    second = refer(api, signed_in(api, loser), project, phone)
    assert second.status_code == 201 and second.json()["state"] == "invalid", second.text
    found: dict[str, Any] = second.json()
    return found


def appeal(api: TestClient, headers: dict[str, str], referral_id: int,
           kind: str = "referral") -> Any:
    return api.post("/api/v1/channel/appeals", headers=headers,
                    json={"referral_id": referral_id, "kind": kind,
                          "reason": "客户是我先带来的，有微信聊天记录为证"})
