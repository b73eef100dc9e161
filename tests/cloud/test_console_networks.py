"""The console limited to configured networks (baseline: access control): its pages and
everything the three administrators do, only from CONSOLE_NETWORKS; business users are
not limited (they work from phones)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud import audit_rows, login, make_user, problem

HEAD_OFFICE = "10.8.1.20"
CAFE = "198.51.100.23"


def _client(settings: CloudSettings, ip: str) -> TestClient:
    return TestClient(create_app(settings), client=(ip, 40000))


def test_administrators_sign_in_and_act_only_from_the_console_networks(
    settings: CloudSettings, db: Session
) -> None:
    limited = settings.model_copy(update={"console_networks": ["10.8.0.0/16"]})
    make_user(db, "sec.admin", roles=["security_admin"])
    make_user(db, "cons.wang", roles=["consultant"], scope_all=True)
    with _client(limited, HEAD_OFFICE) as office, _client(limited, CAFE) as cafe:
        refused = login(cafe, "sec.admin")
        assert refused.status_code == 403
        assert problem(refused)["code"] == "network_not_allowed"
        [failure] = [r for r in audit_rows(db, "auth.login") if r.result == "failure"]
        assert (failure.actor, failure.ip, failure.detail["reason"]) == (
            "sec.admin", CAFE, "network_not_allowed")

        signed_in = login(office, "sec.admin")
        assert signed_in.status_code == 200
        token = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        assert office.get("/api/v1/auth/me", headers=token).status_code == 200
        # The same token carried out of the office is refused.
        taken_out = cafe.get("/api/v1/auth/me", headers=token)
        assert taken_out.status_code == 403
        assert problem(taken_out)["code"] == "network_not_allowed"
        assert cafe.get("/api/v1/users", headers=token).status_code == 403
        # Recorded once a minute, whatever the route (a flood is only counted).
        [outside] = audit_rows(db, "auth.network_refused")
        assert (outside.actor, outside.ip, outside.result) == ("sec.admin", CAFE, "denied")
        assert outside.object_id == "GET /api/v1/auth/me"

        # A consultant works from anywhere.
        assert login(cafe, "cons.wang").status_code == 200

        assert cafe.get("/console/").status_code == 403
        assert office.get("/console/").status_code != 403


def test_without_console_networks_nobody_is_limited(settings: CloudSettings, db: Session
                                                    ) -> None:
    make_user(db, "sec.admin", roles=["security_admin"])
    with _client(settings, CAFE) as cafe:
        assert login(cafe, "sec.admin").status_code == 200
