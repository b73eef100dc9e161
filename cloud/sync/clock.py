"""An edge event's time on the cloud clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from cloud.sync.models import SiteLink
from shared.envelope import Envelope
from shared.timeutil import as_utc

# Skew below this is delivery delay and NTP jitter, not a wrong clock; a visit's time is
# a minute-scale fact, so correcting less would only add noise.
SKEW_TOLERANCE = timedelta(seconds=30)


def correct_time(
    link: SiteLink, envelope: Envelope, received_at: datetime
) -> tuple[datetime, bool]:
    """The event's time on the cloud clock, and whether it had to be corrected.

    The skew the appliance measured by a fresh round trip is preferred; without one,
    `sent_at` ahead of our clock can only be a fast edge clock. A slow clock without an
    estimate is indistinguishable from queueing delay and is left as it is. Differences
    within SKEW_TOLERANCE are jitter and change nothing; nothing ends up in the future.
    """
    occurred = as_utc(envelope.occurred_at)
    skew: timedelta | None = None
    if link.clock_skew_seconds is not None:
        skew = timedelta(seconds=link.clock_skew_seconds)
    else:
        ahead = as_utc(envelope.sent_at) - received_at
        if ahead > SKEW_TOLERANCE:
            skew = ahead
    corrected = occurred
    if skew is not None and abs(skew) > SKEW_TOLERANCE:
        corrected = occurred - skew
    if corrected > received_at + SKEW_TOLERANCE:
        corrected = received_at
    return corrected, corrected != occurred
