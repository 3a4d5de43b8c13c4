"""What the dispatcher's seams share: a claimed job, the outcome of sending it, the settings.

``Job`` holds what claiming, leasing and recording need of any outbound job; a kind of job
(a webhook request, later a client message) adds what its own ``send`` needs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class DispatcherConfig:
    """How one dispatcher behaves; ``Settings`` supplies the defaults of a real process."""

    concurrency: int = 8
    endpoint_concurrency: int = 4
    # Deliveries leased per endpoint for each of its sending slots: enough that a claim's round
    # trips are shared by many sends, few enough that a backlog still spreads over dispatchers.
    lease_ahead: int = 32
    # Rounds of its current allowance a lane may hold waiting before claims skip its endpoint:
    # enough to keep its slots busy between claims. A lane never holds more than
    # ``lease_ahead`` per slot of its current allowance, so an endpoint down to one slot keeps
    # few deliveries away from other dispatchers.
    lane_rounds: int = 8
    # The whole request, from connecting to the last byte read. The client's own timeouts apply
    # to each step and a receiver that trickles its answer never trips them.
    timeout: float = 15.0
    # How often the endpoints of held deliveries are checked for having been disabled.
    disabled_check_interval: float = 0.25
    lease: timedelta = timedelta(seconds=60)
    poll_interval: float = 0.05
    # The least time between two looks for new work that committed events woke (``wake``):
    # under a stream of commits each process looks at most this often, where every commit
    # would start a look of its own. After a quiet moment a wake-up looks at once.
    woken_gap: float = 0.01
    # How soon a claim that found nothing is repeated while it skipped stocked endpoints: such a
    # claim reads past their whole backlog. New events and a stocked lane running low still
    # claim at once.
    skipping_poll_interval: float = 0.25
    fan_out_batch: int = 500
    disable_after: timedelta = timedelta(days=5)
    jitter: float = 0.1


@dataclass(frozen=True, kw_only=True)
class Job:
    """A claimed delivery, detached from any session: who it is for, where it goes, which try."""

    workspace_id: uuid.UUID
    delivery_id: uuid.UUID
    # The endpoint the job goes to: one lane, one failing run, one disable.
    endpoint_key: uuid.UUID
    attempt_number: int
    # The endpoint's failing run had begun when this was claimed: a success ends it.
    endpoint_failing: bool = False


@dataclass
class Outcome:
    """What one send found out; ``send`` never raises for a receiver's fault."""

    attempted_at: datetime
    succeeded: bool = False
    status_code: int | None = None
    error: str | None = None
    excerpt: str | None = None
    duration_ms: int = 0
    retry_after: timedelta | None = None
    # The endpoint said it is gone for good: fail the job and disable the endpoint.
    gone: bool = False
    # The receiver refused this one job for good (a mail server's 5xx for its recipient):
    # fail it without retrying, the endpoint stays as it is.
    rejected: bool = False
    # The endpoint said it is busy, or did not answer in time: send it fewer at once.
    overloaded: bool = False
