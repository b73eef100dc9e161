"""A sales manager's reception on the phone, through the real edge app: today's board and
the forgotten-name visits still claimable, then a claim; consultants are refused."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from edge_agent.main import create_app
from edge_agent.settings import EdgeSettings
from shared import edge_token
from shared.timeutil import utcnow
from tests.consent import consent_body
from tests.edge.helpers import KIOSK_TOKEN
from tests.edge.seed import seed
from tests.edge.test_reception import LI, MANAGER, WANG, ZHAO, roster

KIOSK = {"Authorization": f"Bearer {KIOSK_TOKEN}"}


def bearer(settings: EdgeSettings, user: int, roles: frozenset[str]) -> dict[str, str]:
    token, _ = edge_token.issue(settings.site_key_bytes, user_id=user, name="x",
                                site_id=settings.site_id, roles=roles, now=utcnow())
    return {"Authorization": f"Bearer {token}"}


def test_a_manager_reads_the_board_and_claims_a_forgotten_name_visit(
    edge_settings: EdgeSettings
) -> None:
    seed(edge_settings, roster(edge_settings))
    boss = bearer(edge_settings, MANAGER, frozenset({"sales_manager"}))
    wang = bearer(edge_settings, WANG, frozenset({"consultant"}))
    with TestClient(create_app(edge_settings, sync=False)) as client:
        for cid in (LI, ZHAO):
            assert client.post("/api/v1/kiosk/rota/check-in", json={"consultant_id": cid},
                               headers=KIOSK).status_code == 200
        for phone, forgot in (("13611112222", True), ("13611113333", False)):
            registered = client.post(
                "/api/v1/kiosk/visits", headers={**KIOSK, "Idempotency-Key": uuid.uuid4().hex},
                json={"phone": phone, "party_size": 1, "consultant_id": LI,
                      "forgot_consultant": forgot, "consent": consent_body()})
            assert registered.status_code == 201, registered.text

        for path in ("board", "claimable"):
            refused = client.get(f"/api/v1/staff/reception/{path}", headers=wang)
            assert refused.status_code == 403 and refused.json()["code"] == "manager_required"
            assert client.get(f"/api/v1/staff/reception/{path}", headers=KIOSK
                              ).status_code == 401
        board = client.get("/api/v1/staff/reception/board", headers=boss)
        assert board.status_code == 200
        on_duty = [c["id"] for c in board.json()["consultants"] if c["on_duty"]]
        assert on_duty == [ZHAO, LI]  # Li received a new customer: to the tail
        assert board.json()["next_consultant_id"] == ZHAO
        claimable = client.get("/api/v1/staff/reception/claimable", headers=boss).json()
        assert [v["phone_masked"] for v in claimable] == ["136****2222"]
        assert claimable[0]["claimable_until"] is not None

        claimed = client.post(f"/api/v1/staff/reception/visits/{claimable[0]['id']}/claim",
                              json={"consultant_id": ZHAO}, headers=boss)
        assert claimed.status_code == 200 and claimed.json()["owner_id"] == ZHAO
        assert client.get("/api/v1/staff/reception/claimable", headers=boss).json() == []
