"""The cloud end of the sync protocol against a real Mosquitto (generated password file
and ACL) and the real PostgreSQL, with a test peer sending exactly the frames a test
needs: duplicates, reordering, gaps, forgeries, another site's topic, TLS, clock skew."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.sales.models import Customer, Visit
from cloud.settings import CloudSettings
from cloud.sync.consumer import SyncConsumer
from cloud.sync.credentials import CLOUD_MQTT_USERNAME
from cloud.sync.models import SiteLink, SyncEvent, SyncRejection
from shared.envelope import Rejection
from shared.timeutil import utcnow
from tests.integration.conftest import CLOUD_MQTT_PASSWORD, ProvisionedSite, consumer_settings
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import Peer, envelope, visit_payload, wait_for

pytestmark = pytest.mark.integration


def count(engine: Engine, model: type, *where: object) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model).where(*where)).one())


def test_duplicates_and_reordering_apply_once_in_seq_order(
    engine: Engine, consumer: SyncConsumer, peer_a: Peer, sites: tuple[ProvisionedSite, ...]
) -> None:
    a = sites[0]
    envs = [envelope(a.site_id, a.key, seq, visit_payload(a.project_id, f"1380000000{seq}"))
            for seq in range(1, 6)]
    for env in (envs[0], envs[1], envs[2], envs[2], envs[1]):
        peer_a.send(env)
    assert peer_a.wait_ack(3).acked_seq == 3
    # 5 before 4: held above the hole, and the ack asks for 4 again.
    peer_a.send(envs[4])
    ack = wait_for(lambda: next((x for x in peer_a.acks if x.resend_from == 4), None),
                   what="an ack asking to resend from 4")
    assert ack.acked_seq == 3
    assert count(engine, Visit, col(Visit.site_id) == a.site_id) == 3
    peer_a.send(envs[3])
    peer_a.send(envs[3])
    final = peer_a.wait_ack(5)
    assert final.resend_from is None
    assert count(engine, Visit, col(Visit.site_id) == a.site_id) == 5
    assert count(engine, SyncEvent, col(SyncEvent.site_id) == a.site_id) == 5
    with Session(engine) as s:
        seqs = [v.event_seq for v in s.exec(select(Visit).order_by(col(Visit.event_seq)))]
        link = s.get(SiteLink, a.site_id)
    assert seqs == [1, 2, 3, 4, 5]
    assert link is not None and link.last_applied_seq == 5 and link.gap_since is None


def test_replayed_frame_days_later_is_answered_as_duplicate(
    engine: Engine, consumer: SyncConsumer, peer_a: Peer, sites: tuple[ProvisionedSite, ...]
) -> None:
    a = sites[0]
    env = envelope(a.site_id, a.key, 1, visit_payload(a.project_id, "13900000001"))
    peer_a.send(env)
    peer_a.wait_ack(1)
    acks_before = len(peer_a.acks)
    peer_a.send(env)
    wait_for(lambda: len(peer_a.acks) > acks_before, what="the ack of the replay")
    assert peer_a.acks[-1].acked_seq == 1
    assert count(engine, Visit, col(Visit.site_id) == a.site_id) == 1
    with Session(engine) as s:
        customer = s.exec(select(Customer)).one()
    assert customer.visit_count == 1


def test_forged_signature_is_rejected_and_recorded(
    engine: Engine, consumer: SyncConsumer, peer_a: Peer, sites: tuple[ProvisionedSite, ...]
) -> None:
    a = sites[0]
    forged = envelope(a.site_id, b"\x00" * 32, 1, visit_payload(a.project_id, "13700000001"))
    peer_a.send(forged)
    wait_for(lambda: count(engine, SyncRejection) == 1, what="the rejection record")
    with Session(engine) as s:
        rejection = s.exec(select(SyncRejection)).one()
        audit = s.exec(select(AuditLog).where(AuditLog.action == "sync.reject")).all()
    assert rejection.reason == "bad_signature"
    assert rejection.topic_site_id == a.site_id and rejection.seq == 1
    assert len(audit) == 1 and audit[0].result == "failure"
    assert count(engine, Visit) == 0
    # The edge is told, in an ack it can trust, that the seq stays open.
    told = wait_for(lambda: next((x for x in peer_a.acks if x.rejected), None),
                    what="an ack reporting the refusal")
    assert told.rejected == [Rejection(seq=1, event_id=str(forged.event_id),
                                       reason="bad_signature", consumed=False)]
    assert told.acked_seq == 0
    # The real event with that seq still applies: a forgery consumes nothing.
    peer_a.send(envelope(a.site_id, a.key, 1, visit_payload(a.project_id, "13700000001")))
    peer_a.wait_ack(1)
    assert count(engine, Visit) == 1


def test_broker_acl_refuses_another_sites_topic(
    engine: Engine, consumer: SyncConsumer, broker: Mosquitto, peer_a: Peer,
    sites: tuple[ProvisionedSite, ...],
) -> None:
    a, b = sites
    # Site A, with its own valid credentials, tries to write into site B's stream.
    env = envelope(b.site_id, b.key, 1, visit_payload(b.project_id, "13600000001"))
    mid = peer_a.publish(f"anchang/v1/sites/{b.site_id}/up", env.to_wire())
    code = wait_for(lambda: peer_a.puback_codes.get(mid), what="PUBACK")
    assert code == 0x87  # MQTT 5 "Not authorized", from Mosquitto's ACL
    assert "Denied PUBLISH from peer-" in broker.log_text()
    # …nor read B's acks: Mosquitto 2.0 grants the SUBSCRIBE but its read ACL delivers
    # nothing. Messages from one publisher arrive in order, so once A has the marker sent
    # after B's ack, B's ack would have arrived before it.
    b_ack = f"anchang/v1/sites/{b.site_id}/ack"
    _, sub_mid = peer_a.client.subscribe(b_ack, qos=1)
    wait_for(lambda: peer_a.suback_codes.get(sub_mid), what="SUBACK")
    cloud = Peer(broker.port, CLOUD_MQTT_USERNAME, CLOUD_MQTT_PASSWORD, b.site_id)
    try:
        cloud.publish(b_ack, b"{}")
        cloud.publish(peer_a.topics.down, b"{}")
        wait_for(lambda: peer_a.topics.down in peer_a.topics_seen, what="the marker")
    finally:
        cloud.close()
    assert b_ack not in peer_a.topics_seen
    # Nothing reached the cloud for B; A's own stream still works.
    peer_a.send(envelope(a.site_id, a.key, 1, visit_payload(a.project_id, "13600000002")))
    peer_a.wait_ack(1)
    assert count(engine, Visit, col(Visit.site_id) == b.site_id) == 0
    with Session(engine) as s:
        link_b = s.get(SiteLink, b.site_id)
    assert link_b is not None and link_b.last_applied_seq == 0


def test_message_claiming_another_site_is_rejected_by_the_cloud(
    engine: Engine, consumer: SyncConsumer, broker: Mosquitto, sites: tuple[ProvisionedSite, ...]
) -> None:
    a, b = sites
    # Defence in depth: even a principal the broker lets through (here the cloud account)
    # cannot make the cloud apply site A's event on site B's topic.
    p = Peer(broker.port, CLOUD_MQTT_USERNAME, CLOUD_MQTT_PASSWORD, b.site_id)
    try:
        env = envelope(a.site_id, a.key, 1, visit_payload(a.project_id, "13500000001"))
        p.publish(f"anchang/v1/sites/{b.site_id}/up", env.to_wire())
        wait_for(lambda: count(engine, SyncRejection) == 1, what="the rejection record")
    finally:
        p.close()
    with Session(engine) as s:
        rejection = s.exec(select(SyncRejection)).one()
    assert rejection.reason == "site_mismatch"
    assert rejection.claimed_site_id == a.site_id and rejection.topic_site_id == b.site_id
    assert count(engine, Visit) == 0


def test_project_of_another_site_is_rejected_but_consumes_the_seq(
    engine: Engine, consumer: SyncConsumer, peer_a: Peer, sites: tuple[ProvisionedSite, ...]
) -> None:
    a, b = sites
    peer_a.send(envelope(a.site_id, a.key, 1, visit_payload(b.project_id, "13400000001")))
    ack = peer_a.wait_ack(1)
    assert ack.rejected and ack.rejected[0].reason == "project_not_in_site"
    assert count(engine, Visit) == 0
    peer_a.send(envelope(a.site_id, a.key, 2, visit_payload(a.project_id, "13400000002")))
    assert peer_a.wait_ack(2).acked_seq == 2
    assert count(engine, Visit) == 1


def test_unsupported_schema_version_is_rejected(
    engine: Engine, consumer: SyncConsumer, peer_a: Peer, sites: tuple[ProvisionedSite, ...]
) -> None:
    a = sites[0]
    env = envelope(a.site_id, a.key, 1, visit_payload(a.project_id, "13300000001"))
    raw = env.to_wire().replace(b'"v":2', b'"v":99')
    peer_a.publish(peer_a.topics.up, raw)
    wait_for(lambda: count(engine, SyncRejection) == 1, what="the rejection record")
    with Session(engine) as s:
        assert s.exec(select(SyncRejection)).one().reason == "unsupported_schema"


def test_sync_over_tls_with_a_generated_ca(
    engine: Engine, settings: CloudSettings, tls_broker: Mosquitto,
    sites: tuple[ProvisionedSite, ...],
) -> None:
    a = sites[0]
    ca = tls_broker.tls[0] if tls_broker.tls else None
    c = SyncConsumer(consumer_settings(settings, tls_broker, mqtt_tls_ca=ca), engine)
    c.start()
    p = None
    try:
        assert c.wait_connected(), "consumer did not connect over TLS"
        p = Peer(tls_broker.port, a.mqtt_username, a.mqtt_password, a.site_id, tls_ca=ca)
        p.send(envelope(a.site_id, a.key, 1, visit_payload(a.project_id, "13200000001")))
        p.wait_ack(1)
    finally:
        if p:
            p.close()
        c.stop()
    assert count(engine, Visit) == 1
    # A client that does not speak TLS gets nothing from this listener.
    with pytest.raises(AssertionError):
        Peer(tls_broker.port, a.mqtt_username, a.mqtt_password, a.site_id)


def test_edge_clock_two_hours_fast_keeps_a_sane_visit_time(
    engine: Engine, consumer: SyncConsumer, peer_a: Peer, sites: tuple[ProvisionedSite, ...]
) -> None:
    a = sites[0]
    skew = timedelta(hours=2)
    real_visit_time = utcnow() - timedelta(minutes=3)
    # The appliance measured its clock by a round trip and reports it in its status.
    peer_a.send_status(a.key, edge_time=utcnow() + skew, skew=skew.total_seconds())
    wait_for(lambda: peer_a.acks, what="the ack answering the status")
    peer_a.send(envelope(a.site_id, a.key, 1, visit_payload(a.project_id, "13100000001"),
                         occurred_at=real_visit_time + skew, sent_at=utcnow() + skew))
    peer_a.wait_ack(1)
    with Session(engine) as s:
        visit = s.exec(select(Visit)).one()
        link = s.get(SiteLink, a.site_id)
        alarms = s.exec(select(AuditLog).where(AuditLog.action == "sync.clock_skew")).all()
    assert link is not None and link.clock_skew_seconds is not None
    assert abs(link.clock_skew_seconds - skew.total_seconds()) < 30
    assert link.clock_skew_alarm and len(alarms) == 1
    assert visit.time_corrected
    assert abs((visit.occurred_at - real_visit_time).total_seconds()) < 30
    assert abs((visit.edge_occurred_at - (real_visit_time + skew)).total_seconds()) < 1


def test_edge_clock_slow_without_estimate_never_moves_a_visit_into_the_future(
    engine: Engine, consumer: SyncConsumer, peer_a: Peer, sites: tuple[ProvisionedSite, ...]
) -> None:
    a = sites[0]
    peer_a.send(envelope(a.site_id, a.key, 1, visit_payload(a.project_id, "13100000002"),
                         occurred_at=utcnow() + timedelta(days=2),
                         sent_at=utcnow() + timedelta(days=2)))
    peer_a.wait_ack(1)
    with Session(engine) as s:
        visit = s.exec(select(Visit)).one()
    assert visit.occurred_at <= utcnow()


def test_unknown_event_id_reuse_under_a_new_seq_is_not_applied_twice(
    engine: Engine, consumer: SyncConsumer, peer_a: Peer, sites: tuple[ProvisionedSite, ...]
) -> None:
    a = sites[0]
    event_id = uuid.uuid4()
    peer_a.send(envelope(a.site_id, a.key, 1, visit_payload(a.project_id, "13000000001"),
                         event_id=event_id))
    peer_a.send(envelope(a.site_id, a.key, 2, visit_payload(a.project_id, "13000000002"),
                         event_id=event_id))
    ack = peer_a.wait_ack(2)
    assert [r.reason for r in ack.rejected] == ["event_id_reused"]
    assert count(engine, Visit) == 1


def test_two_consumers_on_a_shared_subscription_apply_each_seq_once(
    engine: Engine, settings: CloudSettings, broker: Mosquitto, peer_a: Peer,
    sites: tuple[ProvisionedSite, ...],
) -> None:
    a = sites[0]
    consumers = [
        SyncConsumer(consumer_settings(settings, broker, mqtt_shared_group="cloud",
                                       sync_batch_size=7), engine, client_id=f"cloud-{i}")
        for i in range(2)
    ]
    for c in consumers:
        c.start()
    try:
        assert all(c.wait_connected() for c in consumers)
        total = 120
        for seq in range(1, total + 1):
            peer_a.send(envelope(a.site_id, a.key, seq,
                                 visit_payload(a.project_id, f"137{seq:08d}")))
        peer_a.wait_ack(total, timeout=60)
        # The broker really split the stream between the two.
        assert all(c.processed > 0 for c in consumers)
    finally:
        for c in consumers:
            c.stop()
    assert count(engine, Visit, col(Visit.site_id) == a.site_id) == total
    assert count(engine, SyncEvent, col(SyncEvent.site_id) == a.site_id) == total


def test_a_visit_id_reused_by_a_new_event_is_rejected_not_stalled(
    engine: Engine, consumer: SyncConsumer, peer_a: Peer, sites: tuple[ProvisionedSite, ...]
) -> None:
    a = sites[0]
    payload = visit_payload(a.project_id, "13000000011")
    peer_a.send(envelope(a.site_id, a.key, 1, payload))
    peer_a.wait_ack(1)
    reused = {**payload, "phone": "13000000012"}
    peer_a.send(envelope(a.site_id, a.key, 2, reused))
    ack = peer_a.wait_ack(2)
    assert [(r.seq, r.reason, r.consumed) for r in ack.rejected] == [
        (2, "conflict", True)]
    peer_a.send(envelope(a.site_id, a.key, 3, visit_payload(a.project_id, "13000000013")))
    assert peer_a.wait_ack(3).acked_seq == 3
    assert count(engine, Visit) == 2


def test_a_flood_of_forgeries_is_counted_but_recorded_only_a_few_times(
    engine: Engine, consumer: SyncConsumer, peer_a: Peer, sites: tuple[ProvisionedSite, ...]
) -> None:
    from cloud.sync.throttle import RECORDS_PER_WINDOW

    a = sites[0]
    flood = RECORDS_PER_WINDOW * 3
    for n in range(flood):
        peer_a.send(envelope(a.site_id, b"\x01" * 32, 1 + n,
                             visit_payload(a.project_id, "13900000077")))
    peer_a.send(envelope(a.site_id, a.key, 1, visit_payload(a.project_id, "13900000078")))
    peer_a.wait_ack(1)  # the genuine event still gets through after the flood
    assert count(engine, SyncRejection) == RECORDS_PER_WINDOW
    with Session(engine) as s:
        audit = s.exec(select(AuditLog).where(AuditLog.action == "sync.reject")).all()
    assert len(audit) == RECORDS_PER_WINDOW
    assert consumer.processed >= flood + 1


def test_retained_or_qos_0_events_are_refused_by_name(
    engine: Engine, consumer: SyncConsumer, peer_a: Peer, sites: tuple[ProvisionedSite, ...]
) -> None:
    """An event is published at QoS 1 and never retained (spec §1): a retained one would
    be replayed to every subscriber for ever, a QoS 0 one may vanish unnoticed."""
    a = sites[0]
    retained = envelope(a.site_id, a.key, 1, visit_payload(a.project_id, "13200000001"))
    peer_a.publish(peer_a.topics.up, retained.to_wire(), retain=True)
    fire_and_forget = envelope(a.site_id, a.key, 1, visit_payload(a.project_id, "13200000002"))
    peer_a.publish(peer_a.topics.up, fire_and_forget.to_wire(), qos=0)
    wait_for(lambda: count(engine, SyncRejection) == 2, what="both refused")
    with Session(engine) as s:
        reasons = sorted(r.reason for r in s.exec(select(SyncRejection)).all())
    assert reasons == ["qos0_up", "retained_up"]
    assert count(engine, Visit) == 0
    peer_a.publish(peer_a.topics.up, b"", retain=True)  # clear the retained message
