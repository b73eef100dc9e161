"""Which agencies cooperate on which project (合作渠道): a project that lists none is open
to every active agency; once it lists some, only their brokers refer to it; individual
referrers are not limited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cloud.channel.models import Referral
from tests.cloud import audit_rows, signed_in
from tests.cloud.channel_world import ChannelWorld, refer


def _cooperation(api: TestClient, who: str, project: int, agency_ids: list[int] | None = None
                 ) -> tuple[int, dict[str, object]]:
    url = f"/api/v1/channel/projects/{project}/cooperation"
    headers = signed_in(api, who)
    response = (api.get(url, headers=headers) if agency_ids is None
                else api.put(url, headers=headers, json={"agency_ids": agency_ids}))
    return response.status_code, response.json()


def test_only_cooperating_agencies_refer_once_a_project_lists_them(
    api: TestClient, cw: ChannelWorld, db: Session
) -> None:
    project = cw.project("site-a")
    agency_a = cw.agencies["A"].id or 0
    assert _cooperation(api, "cm_a", project) == (200, {"project_id": project,
                                                        "agency_ids": []})
    assert refer(api, signed_in(api, "broker_b1"), project, "13611110000").status_code == 201

    assert _cooperation(api, "cm_a", project, [agency_a]) == (
        200, {"project_id": project, "agency_ids": [agency_a]})
    refused = refer(api, signed_in(api, "broker_b1"), project, "13611110001")
    assert refused.status_code == 403
    assert refused.json()["code"] == "project_closed_to_agency"
    assert "未与您所在的渠道公司合作" in refused.json()["title"]
    assert refer(api, signed_in(api, "broker_a1"), project, "13611110002").status_code == 201
    # 全民营销: an individual referrer is no agency and is not limited.
    assert refer(api, signed_in(api, "referrer"), project, "13611110003").status_code == 201
    # The refusal stored nothing; another project stays open.
    db.rollback()
    assert len(db.exec(select(Referral).where(Referral.project_id == project)).all()) == 3
    assert refer(api, signed_in(api, "broker_b1"), cw.project("site-b"),
                 "13611110004").status_code == 201

    [row] = audit_rows(db, "channel.cooperation_update")
    assert row.detail == {"before": [], "after": [agency_a]}
    assert _cooperation(api, "cm_a", project, [])[1]["agency_ids"] == []
    assert refer(api, signed_in(api, "broker_b1"), project, "13611110005").status_code == 201


def test_cooperation_is_the_projects_channel_managers_to_set(
    api: TestClient, cw: ChannelWorld
) -> None:
    project = cw.project("site-a")
    assert _cooperation(api, "cm_b", project, [])[1]["code"] == "project_not_found"
    assert _cooperation(api, "agency_a", project, [])[0] == 403
    status, answer = _cooperation(api, "cm_a", project, [999_999])
    assert (status, answer["code"]) == (404, "agency_not_found")
    assert _cooperation(api, "cm_a", project)[1]["agency_ids"] == []
