"""When to try a failed webhook delivery again.

The schedule is the example from the Standard Webhooks specification: the first attempt is
immediate, then retries follow 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h after the
previous failure, about 75.5 hours in all, long enough to ride out a weekend outage.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = [
    "MAX_ATTEMPTS",
    "RETRY_SCHEDULE",
    "next_attempt_delay",
    "retry_after_seconds",
]

RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)

# The immediate first attempt plus one per scheduled retry.
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1

# Jitter only spreads load; it needs no cryptographic quality, but SystemRandom keeps separate
# worker processes from sharing a seed.
_DEFAULT_RNG = random.SystemRandom()


def next_attempt_delay(
    attempt_number: int,
    *,
    rng: random.Random | None = None,
    jitter: float = 0.1,
) -> timedelta | None:
    """Return how long to wait after failed attempt ``attempt_number`` (1-based), or None.

    None means the attempts are exhausted and the delivery is failed. ``jitter`` is the relative
    spread: 0.1 draws each delay uniformly within ±10 %, so that deliveries that failed together
    (a receiver outage) do not all come back at the same instant. Pass ``jitter=0`` for the exact
    schedule.
    """
    if attempt_number < 1:
        raise ValueError("attempt_number starts at 1")
    if not 0 <= jitter < 1:
        raise ValueError("jitter must be in [0, 1)")
    if attempt_number > len(RETRY_SCHEDULE):
        return None
    base = RETRY_SCHEDULE[attempt_number - 1]
    if jitter == 0:
        return base
    factor = (rng or _DEFAULT_RNG).uniform(1 - jitter, 1 + jitter)
    return base * factor


def retry_after_seconds(header_value: str | None, *, now: datetime) -> float | None:
    """Parse a ``Retry-After`` header into seconds from ``now``; None when absent or invalid.

    Both forms of RFC 9110 are accepted: delta-seconds (``120``) and an HTTP-date
    (``Wed, 21 Oct 2015 07:28:00 GMT``). A date in the past yields 0. ``now`` must be aware.
    """
    if header_value is None:
        return None
    value = header_value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are always GMT; email.utils returns naive for "-0000".
        when = when.replace(tzinfo=UTC)
    seconds = (when - now).total_seconds()
    return max(0.0, seconds)
