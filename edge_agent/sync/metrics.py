"""Prometheus metrics of the sync client, registered on the app's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

PREFIX = "anchang_edge"


class SyncMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        self.registry = registry
        self.backlog = Gauge(
            f"{PREFIX}_outbox_backlog", "Outbox events not yet acked by the cloud",
            registry=registry,
        )
        self.oldest_unacked_age = Gauge(
            f"{PREFIX}_outbox_oldest_unacked_age_seconds",
            "Age of the oldest outbox event not yet acked (0 when none)",
            registry=registry,
        )
        self.acks = Counter(
            f"{PREFIX}_acks", "Verified acks received from the cloud", registry=registry
        )
        self.released = Counter(
            f"{PREFIX}_outbox_released", "Outbox rows released by cloud acks", registry=registry
        )
        self.published = Counter(
            f"{PREFIX}_events_published", "Envelopes handed to the MQTT client (incl. resends)",
            registry=registry,
        )
        self.resends = Counter(
            f"{PREFIX}_resends", "Events scheduled again, by reason", ["reason"],
            registry=registry,
        )
        self.rejected_messages = Counter(
            f"{PREFIX}_rejected_messages",
            "Inbound messages dropped (bad signature, malformed, wrong site …)", ["reason"],
            registry=registry,
        )
        self.publish_refused = Counter(
            f"{PREFIX}_publish_refused",
            "Publishes the broker refused (PUBACK reason code ≥ 0x80) or paho could not queue",
            ["reason"], registry=registry,
        )
        self.subscribe_refused = Counter(
            f"{PREFIX}_subscribe_refused", "Subscriptions the broker refused", ["reason"],
            registry=registry,
        )
        self.cloud_rejected = Counter(
            f"{PREFIX}_cloud_rejected_events", "Events the cloud acked as rejected",
            registry=registry,
        )
        self.down_items = Counter(
            f"{PREFIX}_down_items_applied", "Down-feed items applied", ["kind"],
            registry=registry,
        )
        self.down_items_invalid = Counter(
            f"{PREFIX}_down_items_invalid", "Down-feed items skipped as invalid", ["kind"],
            registry=registry,
        )
        self.down_batches_applied = Counter(
            f"{PREFIX}_down_batches_applied", "Down-feed batches applied (cursor stored)",
            registry=registry,
        )
        self.down_batches_ignored = Counter(
            f"{PREFIX}_down_batches_ignored", "Down-feed batches not applied", ["reason"],
            registry=registry,
        )
        self.link_up = Gauge(
            f"{PREFIX}_cloud_link_up", "1 while connected to the broker", registry=registry
        )
        self.clock_skew = Gauge(
            f"{PREFIX}_clock_skew_seconds",
            "Edge clock minus cloud clock, from the last fresh round trip", registry=registry,
        )
        self.stalled = Gauge(
            f"{PREFIX}_uplink_stalled",
            "1 while the up-stream does not move (stalled, or refused by the cloud)",
            registry=registry,
        )
        self.watchdog_restarts = Counter(
            f"{PREFIX}_mqtt_client_restarts", "MQTT client restarts by the watchdog",
            registry=registry,
        )
        self.errors = Counter(
            f"{PREFIX}_sync_errors", "Unexpected errors in sync loops", ["where"],
            registry=registry,
        )

    def value(self, name: str, **labels: str) -> float:
        """Current value of a sample (e.g. "anchang_edge_resends_total"), 0 when absent."""
        return self.registry.get_sample_value(name, labels) or 0.0
