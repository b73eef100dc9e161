"""Prometheus metrics of the cloud sync consumer (default registry, served on /metrics)."""

from prometheus_client import Counter, Gauge

APPLIED = Counter("anchang_sync_applied_total", "Events applied", ["site"])
DUPLICATES = Counter("anchang_sync_duplicates_total", "Events received again", ["site"])
HELD = Counter("anchang_sync_held_total", "Events held above a gap", ["site"])
RESEND_REQUESTS = Counter("anchang_sync_resend_requests_total", "Acks asking to resend", ["site"])
REJECTED = Counter("anchang_sync_rejected_total", "Messages refused", ["reason"])
APPLY_ERRORS = Counter("anchang_sync_apply_errors_total", "Batches rolled back")
DEFERRED = Counter("anchang_sync_deferred_total",
                   "Messages set aside while their site backs off after errors", ["site"])
LAG = Gauge("anchang_sync_lag_seq", "Highest seq seen minus applied", ["site"])
