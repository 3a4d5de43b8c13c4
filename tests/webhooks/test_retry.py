"""The retry schedule and Retry-After parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from embedcrm.webhooks.retry import (
    MAX_ATTEMPTS,
    RETRY_SCHEDULE,
    next_attempt_delay,
    retry_after_seconds,
)

EXPECTED_OFFSETS = [
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5, seconds=5),
    timedelta(minutes=35, seconds=5),
    timedelta(hours=2, minutes=35, seconds=5),
    timedelta(hours=7, minutes=35, seconds=5),
    timedelta(hours=17, minutes=35, seconds=5),
    timedelta(hours=31, minutes=35, seconds=5),
    timedelta(hours=51, minutes=35, seconds=5),
    timedelta(hours=75, minutes=35, seconds=5),
]

NOW = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)


def attempt_offsets(*, jitter: float, rng: random.Random | None = None) -> list[timedelta]:
    offsets = [timedelta(0)]
    attempt = 1
    while (delay := next_attempt_delay(attempt, rng=rng, jitter=jitter)) is not None:
        offsets.append(offsets[-1] + delay)
        attempt += 1
    return offsets


def test_cumulative_offsets_without_jitter() -> None:
    assert attempt_offsets(jitter=0) == EXPECTED_OFFSETS
    assert len(EXPECTED_OFFSETS) == MAX_ATTEMPTS


def test_exhausted_after_the_last_attempt() -> None:
    assert next_attempt_delay(len(RETRY_SCHEDULE), jitter=0) == timedelta(hours=24)
    assert next_attempt_delay(MAX_ATTEMPTS, jitter=0) is None
    assert next_attempt_delay(MAX_ATTEMPTS + 5) is None


@pytest.mark.parametrize("seed", range(20))
def test_jitter_stays_within_ten_percent(seed: int) -> None:
    rng = random.Random(seed)
    for attempt, base in enumerate(RETRY_SCHEDULE, start=1):
        delay = next_attempt_delay(attempt, rng=rng, jitter=0.1)
        assert delay is not None
        assert base * 0.9 <= delay <= base * 1.1


def test_jitter_actually_varies_the_delay() -> None:
    rng = random.Random(1)
    delays = {next_attempt_delay(3, rng=rng) for _ in range(10)}
    assert len(delays) > 1


def test_default_generator_is_used_without_rng() -> None:
    delay = next_attempt_delay(1)
    assert delay is not None
    assert timedelta(seconds=4.5) <= delay <= timedelta(seconds=5.5)


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempt_numbers_start_at_one(attempt: int) -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        next_attempt_delay(attempt)


def test_jitter_must_be_a_fraction() -> None:
    with pytest.raises(ValueError, match="jitter"):
        next_attempt_delay(1, jitter=1.5)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 120.0), (" 0 ", 0.0), ("3600", 3600.0)],
)
def test_retry_after_delta_seconds(value: str, expected: float) -> None:
    assert retry_after_seconds(value, now=NOW) == expected


def test_retry_after_http_date() -> None:
    later = NOW + timedelta(seconds=90)
    assert retry_after_seconds(format_datetime(later, usegmt=True), now=NOW) == 90.0
    assert retry_after_seconds("Fri, 27 Nov 2026 10:02:00 GMT", now=NOW) == 120.0


def test_retry_after_date_in_the_past_is_zero() -> None:
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "Fri, 99 Nov 2026 25:61:00 GMT"])
def test_retry_after_invalid_is_none(value: str | None) -> None:
    assert retry_after_seconds(value, now=NOW) is None
