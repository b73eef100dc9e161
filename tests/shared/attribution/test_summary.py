"""The provisional answer both ends keep, and the differences the console shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared import attribution as engine
from shared.attribution.summary import differences, summarise
from shared.events import ProvisionalAnswer, ProvisionalBroker

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
RULES = engine.RulesHistory(versions=(engine.RuleSet(
    version=1, effective_from=T0 - timedelta(days=1), project_id="1"),))


def test_a_kiosk_answer_reduces_to_ids_and_states() -> None:
    referral = engine.Referral(id="referral:12", at=T0, project_id="1", broker_id="7",
                               agency_id="3", phone="13800138000", name="陈明")
    answer = summarise(engine.provisional_answer(RULES, [referral], T0 + timedelta(hours=1)))

    assert answer.first_visit is True
    assert (answer.owner_kind, answer.owner_broker_id) == ("channel", 7)
    assert answer.brokers == [ProvisionalBroker(referral_id=12, broker_id=7, state="confirmed")]
    assert answer.rule_version == 1


def test_differences_name_each_change_edge_to_cloud() -> None:
    edge = ProvisionalAnswer(first_visit=True, owner_kind="none")
    cloud = ProvisionalAnswer(first_visit=False, owner_kind="channel", owner_broker_id=7,
                              brokers=[ProvisionalBroker(referral_id=12, broker_id=7,
                                                         state="confirmed")],
                              rule_version=3)

    assert differences(edge, cloud) == [
        "首访/复访：首访 → 复访", "归属：无归属 → 渠道（经纪人 #7）",
        "报备 #12（经纪人 #7）：设备未收到，云端为有效"]
    assert differences(cloud, cloud.model_copy(update={"rule_version": 4})) == []
    assert differences(cloud, edge)[-1] == "报备 #12（经纪人 #7）：设备认为有效，云端已不在保护中"
