"""The webhook dispatcher: outbox events become signed HTTP requests, retried for days.

Its database work is short steps, none holding a transaction over the network
(ARCHITECTURE.md, rule 4):

1. fan-out: new outbox events get their feed position and one delivery per matching endpoint;
2. claim: due deliveries are leased to this dispatcher in batches (``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL, so any number of dispatchers share the work), a few per sending slot ahead, so
   one claim's round trips are shared by many sends;
3. send, then record: the request goes out with no transaction open; successes are written by
   group commit, a failure in a transaction of its own that also schedules the retry.

Leased deliveries wait in one lane per endpoint, which sends at most ``endpoint_concurrency`` at
once and fewer while the endpoint answers "busy" or not at all, so a slow endpoint cannot take
the slots of the others. A lane holds a few rounds of its own allowance and no more: claims
skip the endpoints whose lanes are stocked, so deliveries stuck behind a hanging endpoint never
stop the claims for the others. Every request has a deadline for the whole exchange, and an
endpoint that is disabled loses its lane at once: its requests in flight are cut and what it
held is parked, as the disable parks what was pending. A live dispatcher renews its leases; one
that dies leaves them to expire, and another dispatcher then sends the event again with the
same ``webhook-id`` (at least once).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import random
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from embedcrm.db import Database, new_id, utcnow
from embedcrm.errors import ServiceUnavailable
from embedcrm.events import OPERATIONAL_EVENT_TYPES, Event
from embedcrm.metrics import DELIVERIES
from embedcrm.webhooks.models import (
    PLATFORM_WORKSPACE_ID,
    DeliveryStatus,
    Endpoint,
    PlatformWebhookEndpoint,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    message_id_of,
)
from embedcrm.webhooks.outbox import OutboxRepository
from embedcrm.webhooks.repository import (
    DeliveryQueue,
    DueDelivery,
    UnpositionedEvent,
    skip_pending_of,
)
from embedcrm.webhooks.retry import next_attempt_delay, retry_after_seconds
from embedcrm.webhooks.signing import signature_header
from embedcrm.webhooks.ssrf import UnsafeWebhookTarget

log = logging.getLogger("embedcrm.webhooks")

Clock = Callable[[], datetime]

RESPONSE_EXCERPT_BYTES = 1024
# A Retry-After beyond this is treated as this: a receiver cannot park a message for weeks.
MAX_RETRY_AFTER = timedelta(hours=24)
USER_AGENT = "embedcrm-webhooks/1"


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
    # How soon a claim that found nothing is repeated while it skipped stocked endpoints: such a
    # claim reads past their whole backlog. New events and a stocked lane running low still
    # claim at once.
    skipping_poll_interval: float = 0.25
    fan_out_batch: int = 500
    disable_after: timedelta = timedelta(days=5)
    jitter: float = 0.1


@dataclass(frozen=True)
class Job:
    """A claimed delivery with everything needed to send it, detached from any session."""

    workspace_id: uuid.UUID
    delivery_id: uuid.UUID
    endpoint_key: uuid.UUID
    url: str
    secrets: tuple[str, ...]
    message_id: str
    event_id: uuid.UUID
    event_type: str
    body: bytes
    attempt_number: int
    platform: bool
    # The endpoint's failing run had begun when this was claimed: a success ends it.
    endpoint_failing: bool = False


@dataclass
class Outcome:
    attempted_at: datetime
    succeeded: bool = False
    status_code: int | None = None
    error: str | None = None
    excerpt: str | None = None
    duration_ms: int = 0
    retry_after: timedelta | None = None
    gone: bool = False
    # The endpoint said it is busy, or did not answer in time: send it fewer at once.
    overloaded: bool = False


# Answers that mean "too much at once" rather than "this message is wrong".
OVERLOAD_STATUSES = frozenset({429, 502, 503, 504})


@dataclass
class _Lane:
    """One endpoint's deliveries leased to this dispatcher and the sends it allows at once.

    The allowance shrinks by half when the endpoint is overloaded and grows back by one per
    success, up to ``endpoint_concurrency`` (additive increase, multiplicative decrease).
    """

    limit: int
    waiting: deque[Job] = field(default_factory=deque)
    sending: int = 0
    # A send failed here: the endpoint's failing run may have begun since its deliveries were
    # claimed, and the next success must end it.
    failed: bool = False
    # The delivery tasks whose request is on its way, to cut them if the endpoint is disabled.
    posting: set[asyncio.Task[None]] = field(default_factory=set)
    # The endpoint was disabled: nothing more is sent from here.
    closed: bool = False

    @property
    def ready(self) -> bool:
        return bool(self.waiting) and self.sending < self.limit

    def stocked(self, rounds: int) -> bool:
        """Holds enough for ``rounds`` rounds of its allowance: claim no more for it now."""
        return len(self.waiting) >= rounds * self.limit


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent: the stored event as compact UTF-8 JSON, type first."""
    ordered = {"type": payload["type"], "timestamp": payload["timestamp"], "data": payload["data"]}
    return json.dumps(ordered, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


def new_worker_id() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    """Delivers outbox events to endpoints. One instance per process; many processes may run."""

    def __init__(
        self,
        db: Database,
        client: httpx.AsyncClient,
        *,
        config: DispatcherConfig | None = None,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.client = client
        self.config = config or DispatcherConfig()
        self.clock = clock
        self.rng = rng
        self.worker_id = worker_id or new_worker_id()
        self._stopping = asyncio.Event()
        # Set whenever something the run loop waits for happens: a send or record finished, new
        # work was claimed, or a stop was asked for.
        self._changed = asyncio.Event()
        self._lanes: dict[uuid.UUID, _Lane] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._sending = 0
        self._held = 0  # leased to this dispatcher and not yet recorded
        # Failures are rare but come in bursts when an endpoint is down; a few at a time keeps
        # the pool free for the rest of the process.
        self._failure_records = asyncio.Semaphore(2)
        self._next_fan_out = 0.0
        self._next_claim = 0.0
        # The endpoints the last claim skipped because their lanes here were stocked.
        self._skipped: set[uuid.UUID] = set()
        self._next_renewal = 0.0
        self._next_disabled_check = 0.0
        self._paused_until = 0.0
        self._next_recovery: datetime | None = None
        self._successes: list[tuple[Job, Outcome, asyncio.Future[None]]] = []
        self._success_flusher: asyncio.Task[None] | None = None

    # ---- fan-out ---------------------------------------------------------------------------

    async def fan_out(self) -> int:
        """Give new outbox events their feed position and deliveries; returns how many.

        Plain rows and two bulk statements rather than ORM objects: every event passes through
        here once, so this is the dispatcher's busiest write after the attempts themselves.
        """
        async with self.db.transaction() as session:
            queue = DeliveryQueue(session)
            if not await queue.try_lock_fan_out():
                return 0  # another dispatcher is doing it right now
            events = await queue.unpositioned_events(self.config.fan_out_batch)
            if not events:
                return 0
            by_workspace = await queue.workspace_endpoints({e.workspace_id for e in events})
            platform = await queue.platform_endpoints()
            tested = await queue.tested_endpoints(
                [(e.workspace_id, e.id) for e in events if e.type == "webhook.test"]
            )
            first = await queue.last_position() + 1
            now = self.clock()
            deliveries = [
                self._delivery(event, endpoint, now)
                for event in events
                for endpoint in self._targets(
                    event,
                    by_workspace.get(event.workspace_id, []),
                    platform,
                    tested.get((event.workspace_id, event.id)),
                )
            ]
            await queue.position_events(events, first=first)
            await queue.insert_deliveries(deliveries)
            return len(events)

    @staticmethod
    def _targets(
        event: UnpositionedEvent,
        workspace_endpoints: list[WebhookEndpoint],
        platform: list[PlatformWebhookEndpoint],
        tested_endpoint: str | None,
    ) -> list[Endpoint]:
        candidates: list[Endpoint] = []
        if event.workspace_id != PLATFORM_WORKSPACE_ID:
            candidates.extend(workspace_endpoints)
        candidates.extend(platform)
        if event.type == "webhook.test":
            # A test goes to the one endpoint it was asked for, whatever its filter.
            return [e for e in candidates if str(e.id) == tested_endpoint]
        return [e for e in candidates if e.wants(event.type)]

    @staticmethod
    def _delivery(event: UnpositionedEvent, endpoint: Endpoint, now: datetime) -> dict[str, Any]:
        platform = isinstance(endpoint, PlatformWebhookEndpoint)
        return {
            "workspace_id": event.workspace_id,
            "id": new_id(),
            "event_id": event.id,
            "endpoint_id": None if platform else endpoint.id,
            "platform_endpoint_id": endpoint.id if platform else None,
            "endpoint_key": endpoint.id,
            "event_type": event.type,
            "lead_id": event.lead_id,
            "sequence": event.sequence,
            # Kept, not dropped, while the endpoint is disabled: a replay sends them later.
            "status": DeliveryStatus.PENDING
            if endpoint.enabled
            else DeliveryStatus.SKIPPED_ENDPOINT_DISABLED,
            "attempt_count": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }

    # ---- claim -----------------------------------------------------------------------------

    async def claim(self, limit: int) -> list[Job]:
        """Lease up to ``limit`` due deliveries to this dispatcher.

        No more is claimed for an endpoint once its leases reach its sending slots times
        ``lease_ahead``: a bound on how much of a backlog one dispatcher takes (one claim may
        pass it), not on requests, which the lanes bound. A lease lasts while its dispatcher
        renews it. Rows are read and written as plain rows: a claim handles many deliveries and
        ORM objects would cost more than the SQL.
        """
        if limit <= 0:
            return []
        cap = self.config.endpoint_concurrency * self.config.lease_ahead
        async with self.db.transaction() as session:
            queue = DeliveryQueue(session)
            now = self.clock()
            if self._next_recovery is None or now >= self._next_recovery:
                # Leases last a minute: looking for expired ones once a second is plenty. By the
                # dispatcher's clock, so that a test's clock jumping past a lease finds it.
                self._next_recovery = now + timedelta(seconds=1)
                if await self._recover_expired(queue, now):
                    await session.flush()  # so that the recovered ones can be claimed right away
            saturated = {key for key, n in (await queue.in_flight_counts()).items() if n >= cap}
            # And the endpoints this dispatcher already holds enough of: the rest of the claim
            # goes to the others, however old the stocked endpoints' backlog is.
            self._skipped = {
                key for key, lane in self._lanes.items() if lane.stocked(self.config.lane_rounds)
            }
            saturated.update(self._skipped)
            leased = await queue.lease_due(
                now,
                limit,
                owner=self.worker_id,
                until=now + self.config.lease,
                exclude=saturated,
            )
            if not leased:
                return []
            endpoints = await queue.endpoints_by_key([row.delivery for row in leased])
            parked: list[DueDelivery] = []
            jobs = []
            for delivery, payload in leased:
                endpoint = endpoints.get(delivery.endpoint_key)
                if endpoint is None or not endpoint.enabled:
                    # Deleted or disabled since the fan-out (which parks what it can).
                    parked.append(delivery)
                    continue
                jobs.append(
                    Job(
                        workspace_id=delivery.workspace_id,
                        delivery_id=delivery.id,
                        endpoint_key=delivery.endpoint_key,
                        url=endpoint.url,
                        # The overlap is judged at claim time; a lease is far shorter than it.
                        secrets=tuple(endpoint.secrets_at(now)),
                        message_id=message_id_of(delivery.event_id),
                        event_id=delivery.event_id,
                        event_type=delivery.event_type,
                        body=body_of(payload),
                        attempt_number=delivery.attempt_count + 1,
                        platform=delivery.platform_endpoint_id is not None,
                        endpoint_failing=endpoint.failing_since is not None,
                    )
                )
            await queue.set_status(parked, DeliveryStatus.SKIPPED_ENDPOINT_DISABLED, now=now)
            jobs, surplus = self._within_lane_bounds(jobs)
            # Handed back in the same transaction: no other dispatcher ever saw them leased.
            await queue.unlease([(job.workspace_id, job.delivery_id) for job in surplus], now=now)
            return jobs

    def _within_lane_bounds(self, jobs: list[Job]) -> tuple[list[Job], list[Job]]:
        """Split a claim into what each lane may hold, ``lease_ahead`` per slot of its current
        allowance, and the rest: the claim reads in due order, and a stocked endpoint with an
        old backlog would otherwise fill one claim on its own."""
        room: dict[uuid.UUID, int] = {}
        kept: list[Job] = []
        surplus: list[Job] = []
        for job in jobs:
            key = job.endpoint_key
            if key not in room:
                lane = self._lanes.get(key)
                limit = lane.limit if lane else self.config.endpoint_concurrency
                held = len(lane.waiting) + lane.sending if lane else 0
                room[key] = limit * self.config.lease_ahead - held
            if room[key] > 0:
                room[key] -= 1
                kept.append(job)
            else:
                surplus.append(job)
        return kept, surplus

    async def _recover_expired(self, queue: DeliveryQueue, now: datetime) -> int:
        """Deliveries whose dispatcher vanished: count the lost attempt and send again."""
        expired = await queue.expired_leases(now, limit=100)
        for delivery in expired:
            delivery.attempt_count += 1
            queue.add(
                WebhookAttempt(
                    workspace_id=delivery.workspace_id,
                    delivery_id=delivery.id,
                    endpoint_key=delivery.endpoint_key,
                    attempt_number=delivery.attempt_count,
                    succeeded=False,
                    error="lease expired: the dispatcher stopped before recording the result",
                    worker=delivery.lease_owner,
                    created_at=now,
                )
            )
            delivery.lease_owner = None
            delivery.lease_expires_at = None
            delivery.updated_at = now
            if next_attempt_delay(delivery.attempt_count, jitter=0) is None:
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
            else:
                # The lease already made it wait; try again at once.
                delivery.status = DeliveryStatus.PENDING
                delivery.next_attempt_at = now
            DELIVERIES.labels("lease_expired").inc()
            log.warning("delivery %s: the lease of its dispatcher expired", delivery.id)
        return len(expired)

    # ---- send and record -------------------------------------------------------------------

    async def send(self, job: Job) -> Outcome:
        """One HTTP request, with no transaction open. Never raises for a receiver's fault."""
        attempted_at = self.clock()
        timestamp = int(attempted_at.timestamp())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": job.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(job.secrets, job.message_id, timestamp, job.body),
        }
        outcome = Outcome(attempted_at=attempted_at)
        started = time.monotonic()
        try:
            async with (
                asyncio.timeout(self.config.timeout),
                self.client.stream("POST", job.url, content=job.body, headers=headers) as response,
            ):
                outcome.status_code = response.status_code
                excerpt = bytearray()
                async for chunk in response.aiter_raw():
                    excerpt.extend(chunk)
                    if len(excerpt) >= RESPONSE_EXCERPT_BYTES:
                        break
                outcome.excerpt = bytes(excerpt[:RESPONSE_EXCERPT_BYTES]).decode("utf-8", "replace")
                self._classify(outcome, response)
        except UnsafeWebhookTarget as exc:
            outcome.error = f"blocked_ip: {exc}"
        except (httpx.TimeoutException, TimeoutError):
            outcome.error = "timeout: no answer in time"
            outcome.overloaded = True
        except httpx.HTTPError as exc:
            outcome.error = f"connection: {type(exc).__name__}: {exc}"[:500]
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        return outcome

    def _classify(self, outcome: Outcome, response: httpx.Response) -> None:
        code = response.status_code
        if 200 <= code < 300:
            outcome.succeeded = True
            return
        if 300 <= code < 400:
            # Never followed: the target was validated, the Location was not.
            location = response.headers.get("location", "")
            outcome.error = f"redirect: {code} to {location[:200]!r} not followed"
            return
        outcome.error = f"http: status {code}"
        outcome.overloaded = code in OVERLOAD_STATUSES
        if code == 410:
            outcome.gone = True
        if code in (429, 503):
            seconds = retry_after_seconds(
                response.headers.get("retry-after"), now=outcome.attempted_at
            )
            if seconds is not None:
                outcome.retry_after = min(timedelta(seconds=seconds), MAX_RETRY_AFTER)

    async def record_failure(self, job: Job, outcome: Outcome) -> None:
        """Write a failed attempt and the delivery's next state in one short transaction.

        Successes go through the group commit of :meth:`_record_success` instead.
        """
        async with self.db.transaction() as session:
            session.add(
                WebhookAttempt(
                    workspace_id=job.workspace_id,
                    delivery_id=job.delivery_id,
                    endpoint_key=job.endpoint_key,
                    attempt_number=job.attempt_number,
                    succeeded=False,
                    status_code=outcome.status_code,
                    duration_ms=outcome.duration_ms,
                    response_excerpt=outcome.excerpt,
                    error=outcome.error,
                    worker=self.worker_id,
                    created_at=outcome.attempted_at,
                )
            )
            delivery = await session.get(
                WebhookDelivery, (job.workspace_id, job.delivery_id), with_for_update=True
            )
            if (
                delivery is None
                or delivery.status != DeliveryStatus.IN_FLIGHT
                or delivery.lease_owner != self.worker_id
            ):
                # The lease expired and another dispatcher took over: keep only the log line.
                log.warning("delivery %s: lease lost before recording", job.delivery_id)
                return
            now = self.clock()
            delivery.attempt_count = job.attempt_number
            delivery.last_attempt_at = outcome.attempted_at
            delivery.last_status_code = outcome.status_code
            delivery.last_error = outcome.error
            delivery.lease_owner = None
            delivery.lease_expires_at = None
            delivery.updated_at = now
            endpoint = await self._endpoint(session, delivery)
            if outcome.gone:
                DELIVERIES.labels("failed").inc()
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
                if endpoint is not None and endpoint.enabled:
                    await self._disable(session, endpoint, "the endpoint answered 410 Gone", now)
                return
            delay = next_attempt_delay(job.attempt_number, rng=self.rng, jitter=self.config.jitter)
            if delay is None:
                DELIVERIES.labels("failed").inc()
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
                if job.event_type not in OPERATIONAL_EVENT_TYPES:
                    self._exhausted(session, delivery, endpoint, now)
            else:
                DELIVERIES.labels("retry").inc()
                if outcome.retry_after is not None:
                    delay = max(delay, outcome.retry_after)
                delivery.status = DeliveryStatus.PENDING
                delivery.next_attempt_at = outcome.attempted_at + delay
            if endpoint is not None and endpoint.enabled:
                if endpoint.failing_since is None:
                    endpoint.failing_since = outcome.attempted_at
                elif now - endpoint.failing_since >= self.config.disable_after:
                    hours = int(self.config.disable_after.total_seconds() // 3600)
                    await self._disable(
                        session, endpoint, f"failing continuously for {hours} hours", now
                    )

    async def _endpoint(self, session: Any, delivery: WebhookDelivery) -> Endpoint | None:
        if delivery.platform_endpoint_id is not None:
            platform: PlatformWebhookEndpoint | None = await session.get(
                PlatformWebhookEndpoint, delivery.platform_endpoint_id
            )
            return platform
        found: WebhookEndpoint | None = await session.get(
            WebhookEndpoint, (delivery.workspace_id, delivery.endpoint_id)
        )
        return found

    async def _disable(self, session: Any, endpoint: Endpoint, reason: str, now: datetime) -> None:
        # Deliveries first, the endpoint row last: the same order as a claim, so no deadlock.
        await skip_pending_of(session, endpoint.id, now=now)
        endpoint.enabled = False
        endpoint.disabled_reason = reason
        endpoint.disabled_at = now
        endpoint.updated_at = now
        workspace_id = endpoint.workspace_id
        OutboxRepository(session, workspace_id or PLATFORM_WORKSPACE_ID).record(
            Event(
                type="endpoint.disabled",
                occurred_at=now,
                data={
                    "workspace_id": None if workspace_id is None else str(workspace_id),
                    "endpoint_id": str(endpoint.id),
                    "reason": reason,
                },
            )
        )
        log.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)

    def _exhausted(
        self, session: Any, delivery: WebhookDelivery, endpoint: Endpoint | None, now: datetime
    ) -> None:
        tenant = delivery.workspace_id
        # About a platform-wide endpoint: the host's business, kept out of the tenant's events.
        owner = tenant if delivery.endpoint_id is not None else PLATFORM_WORKSPACE_ID
        OutboxRepository(session, owner).record(
            Event(
                type="message.attempt.exhausted",
                occurred_at=now,
                data={
                    "workspace_id": None if tenant == PLATFORM_WORKSPACE_ID else str(tenant),
                    "endpoint_id": str(delivery.endpoint_key),
                    "event_id": str(delivery.event_id),
                    "message_id": delivery.message_id,
                    "attempts": delivery.attempt_count,
                },
            )
        )

    async def _record_success(self, job: Job, outcome: Outcome) -> None:
        """Successes are recorded by group commit: the deliveries that finish while one batch is
        being written share the next transaction, so a busy endpoint costs a few commits a
        round instead of one per delivery. Each caller still waits for its own commit."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._successes.append((job, outcome, future))
        if self._success_flusher is None or self._success_flusher.done():
            self._success_flusher = asyncio.create_task(self._flush_successes())
        await asyncio.shield(future)

    async def _flush_successes(self) -> None:
        while self._successes:
            batch, self._successes = self._successes, []
            attempts = [
                {
                    "workspace_id": job.workspace_id,
                    "delivery_id": job.delivery_id,
                    "endpoint_key": job.endpoint_key,
                    "attempt_number": job.attempt_number,
                    "succeeded": True,
                    "status_code": outcome.status_code,
                    "duration_ms": outcome.duration_ms,
                    "response_excerpt": outcome.excerpt,
                    "error": None,
                    "worker": self.worker_id,
                    "created_at": outcome.attempted_at,
                }
                for job, outcome, _ in batch
            ]
            try:
                async with self.db.transaction() as session:
                    await DeliveryQueue(session).record_successes(
                        attempts,
                        owner=self.worker_id,
                        now=self.clock(),
                        recovered={job.endpoint_key for job, _, _ in batch if job.endpoint_failing},
                    )
            except Exception as exc:
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            DELIVERIES.labels("delivered").inc(len(batch))
            for _, _, future in batch:
                if not future.done():
                    future.set_result(None)

    # ---- running ---------------------------------------------------------------------------

    def _accept(self, jobs: list[Job]) -> None:
        for job in jobs:
            lane = self._lanes.get(job.endpoint_key)
            if lane is None:
                lane = self._lanes[job.endpoint_key] = _Lane(self.config.endpoint_concurrency)
            lane.waiting.append(job)
        self._held += len(jobs)

    def _start_ready(self) -> None:
        """Fill the free sending slots, taking one delivery from each ready lane in turn."""
        while self._sending < self.config.concurrency:
            ready = [lane for lane in self._lanes.values() if lane.ready]
            if not ready:
                return
            for lane in ready:
                if self._sending >= self.config.concurrency:
                    return
                lane.sending += 1
                self._sending += 1
                task = asyncio.create_task(self._deliver(lane, lane.waiting.popleft()))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _deliver(self, lane: _Lane, job: Job) -> None:
        """Send, free the slot, then record; the record never holds a sending slot."""
        task = asyncio.current_task()
        assert task is not None
        try:
            lane.posting.add(task)
            try:
                outcome = await self.send(job)
            except asyncio.CancelledError:
                if lane.closed and task.uncancel() == 0:
                    # Cut because the endpoint was disabled, which parked the delivery.
                    return
                raise
            finally:
                lane.posting.discard(task)
                lane.sending -= 1
                self._sending -= 1
                self._changed.set()
            self._adapt(lane, job.endpoint_key, outcome)
            if outcome.succeeded:
                if lane.failed and not job.endpoint_failing:
                    job = dataclasses.replace(job, endpoint_failing=True)
                await self._record_success(job, outcome)
            else:
                async with self._failure_records:
                    await self.record_failure(job, outcome)
        except ServiceUnavailable:
            log.warning("delivery %s: database unavailable; its lease will expire", job.delivery_id)
        except Exception:
            log.exception("delivery %s failed unexpectedly", job.delivery_id)
        finally:
            self._held -= 1
            self._changed.set()

    def _adapt(self, lane: _Lane, key: uuid.UUID, outcome: Outcome) -> None:
        cap = self.config.endpoint_concurrency
        lane.failed = lane.failed or not outcome.succeeded
        if outcome.overloaded:
            lane.limit = max(1, lane.limit // 2)
        elif outcome.succeeded:
            lane.limit = min(cap, lane.limit + 1)
        if not lane.waiting and not lane.sending and lane.limit == cap:
            # Nothing to remember about this endpoint any more.
            if self._lanes.get(key) is lane:
                del self._lanes[key]

    def _waiting(self) -> int:
        return sum(len(lane.waiting) for lane in self._lanes.values())

    async def stop_disabled(self) -> int:
        """Drop the lanes of endpoints disabled (or deleted) since their deliveries were claimed:
        requests on their way are cut, and every delivery held for them is parked as skipped,
        which is what disabling does to the pending ones. Returns how many were parked."""
        keys = list(self._lanes)
        if not keys:
            return 0
        async with self.db.transaction() as session:
            queue = DeliveryQueue(session)
            stopped = await queue.disabled_endpoints(keys)
            if not stopped:
                return 0
            parked = await queue.park_leases(self.worker_id, stopped, now=self.clock())
        # Only once the parking is committed: should it fail, the lanes stay and the next check
        # tries again. A request started meanwhile is cut here with the rest.
        for key in stopped:
            lane = self._lanes.pop(key, None)
            if lane is None:
                continue
            lane.closed = True
            self._held -= len(lane.waiting)
            lane.waiting.clear()
            for task in lane.posting:
                task.cancel()
            log.warning("webhook endpoint %s is disabled: its requests stop", key)
        return parked

    async def renew_leases(self) -> int:
        """Push back the lease expiry of everything this dispatcher holds; returns how many."""
        async with self.db.transaction() as session:
            return await DeliveryQueue(session).renew_leases(
                self.worker_id, until=self.clock() + self.config.lease
            )

    def _housekeeping_due(self, now: float) -> bool:
        if now < self._paused_until:
            return False
        return (
            now >= self._next_fan_out
            or (self._held > 0 and now >= self._next_renewal)
            or (bool(self._lanes) and now >= self._next_disabled_check)
            or self._claim_due(now)
        )

    def _wants_work(self) -> bool:
        # Claim while fewer than four rounds of sends are waiting, so the slots never run dry
        # while a claim is on its way. A lane counts for no more than it can send in four
        # rounds of its allowance: deliveries queued behind a slow endpoint cannot use the free
        # slots and must not stop the claims that would fill them.
        sendable = sum(min(len(lane.waiting), 4 * lane.limit) for lane in self._lanes.values())
        return sendable < 4 * self.config.concurrency

    def _claim_due(self, now: float) -> bool:
        if not self._wants_work():
            return False
        if now >= self._next_claim:
            return True
        # A lane the last claim skipped has room again.
        rounds = self.config.lane_rounds
        return any(
            (lane := self._lanes.get(key)) is None or not lane.stocked(rounds)
            for key in self._skipped
        )

    async def _claim_if_wanted(self) -> None:
        if self._claim_due(time.monotonic()):
            limit = self.config.concurrency * 8
            jobs = await self.claim(limit)
            self._accept(jobs)
            if len(jobs) < limit:
                # Nothing more due, or only for endpoints at their cap: look again in a while.
                wait = (
                    self.config.skipping_poll_interval
                    if self._skipped
                    else self.config.poll_interval
                )
                self._next_claim = time.monotonic() + max(wait, self.config.poll_interval)

    async def _housekeep(self) -> None:
        """The dispatcher's database steps, one after another, beside the sends in flight.

        Claims come before the fan-out: the sends waiting on them matter more than positions
        for a backlog, which the next round gives.
        """
        try:
            if self._lanes and time.monotonic() >= self._next_disabled_check:
                self._next_disabled_check = time.monotonic() + self.config.disabled_check_interval
                await self.stop_disabled()
            if self._held and time.monotonic() >= self._next_renewal:
                await self.renew_leases()
                self._next_renewal = time.monotonic() + self.config.lease.total_seconds() / 3
            await self._claim_if_wanted()
            if time.monotonic() >= self._next_fan_out:
                fanned = await self.fan_out()
                if fanned < self.config.fan_out_batch:
                    # New events are looked for once per poll interval, or at once while a
                    # backlog fills whole batches.
                    self._next_fan_out = time.monotonic() + self.config.poll_interval
                if fanned:
                    self._next_claim = 0.0  # new deliveries: claim them now
                    await self._claim_if_wanted()
        except ServiceUnavailable:
            log.warning("database unavailable; webhook dispatch waits")
            self._paused_until = time.monotonic() + 1.0
        except Exception:
            log.exception("webhook dispatch round failed")
            self._paused_until = time.monotonic() + 1.0
        finally:
            self._changed.set()

    async def run_once(self) -> int:
        """One round: fan out, claim up to ``concurrency``, deliver them all; returns the count."""
        await self.fan_out()
        jobs = await self.claim(self.config.concurrency)
        self._accept(jobs)
        while self._held:
            self._changed.clear()
            self._start_ready()
            await self._changed.wait()
        return len(jobs)

    async def run_until_idle(self, *, max_rounds: int = 1000) -> int:
        """Rounds until nothing is due at the clock's current time (tests, one-shot drains)."""
        total = 0
        for _ in range(max_rounds):
            fanned = await self.fan_out()
            sent = await self.run_once()
            total += sent
            if not sent and not fanned:
                return total
        raise RuntimeError(f"the dispatcher was still busy after {max_rounds} rounds")

    async def next_due_at(self) -> datetime | None:
        async with self.db.transaction() as session:
            return await DeliveryQueue(session).next_due_at()

    def request_stop(self) -> None:
        """Stop claiming; :meth:`run` then finishes or releases what it holds and returns."""
        self._stopping.set()
        self._changed.set()

    async def run(self, *, grace: float = 30.0) -> None:
        """Deliver until :meth:`request_stop` (or cancellation), keeping ``concurrency`` busy."""
        housekeeping: asyncio.Task[None] | None = None
        try:
            while not self._stopping.is_set():
                self._changed.clear()
                self._start_ready()
                now = time.monotonic()
                if (housekeeping is None or housekeeping.done()) and self._housekeeping_due(now):
                    housekeeping = asyncio.create_task(self._housekeep())
                try:
                    async with asyncio.timeout(self.config.poll_interval):
                        await self._changed.wait()
                except TimeoutError:
                    pass
        finally:
            if housekeeping is not None:
                await asyncio.gather(housekeeping, return_exceptions=True)
            await self._finish(grace)

    async def _finish(self, grace: float) -> None:
        """Let running deliveries finish within ``grace``, then hand back what is left."""
        for lane in self._lanes.values():
            # Not started: handed back below with the rest, for another dispatcher to send.
            self._held -= len(lane.waiting)
            lane.waiting.clear()
        active = set(self._tasks)
        if active:
            _, pending = await asyncio.wait(active, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        if self._success_flusher is not None:
            # A success must be written before its lease is handed back, or it would be sent
            # again.
            await asyncio.gather(self._success_flusher, return_exceptions=True)
        await self.release_leases()

    async def release_leases(self) -> int:
        """Give this dispatcher's leases back so others need not wait for them to expire."""
        try:
            async with self.db.transaction() as session:
                leased = await DeliveryQueue(session).own_leases(self.worker_id)
                now = self.clock()
                for delivery in leased:
                    delivery.status = DeliveryStatus.PENDING
                    delivery.next_attempt_at = now
                    delivery.lease_owner = None
                    delivery.lease_expires_at = None
                    delivery.updated_at = now
                return len(leased)
        except Exception:
            log.exception("could not release webhook leases; they will expire")
            return 0
