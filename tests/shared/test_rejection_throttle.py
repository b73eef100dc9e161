from __future__ import annotations

from cloud.sync.throttle import RejectionThrottle


def test_a_flood_is_recorded_a_few_times_per_window_per_site_and_reason() -> None:
    now = [0.0]
    throttle = RejectionThrottle(per_window=3, window=60, clock=lambda: now[0])
    assert [throttle.allow("s1", "bad_signature") for _ in range(5)] == [
        True, True, True, False, False]
    # Another reason or another site has its own allowance.
    assert throttle.allow("s1", "malformed") and throttle.allow("s2", "bad_signature")
    now[0] = 61.0
    assert throttle.allow("s1", "bad_signature")
