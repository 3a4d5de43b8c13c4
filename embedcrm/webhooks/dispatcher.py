"""The webhook dispatcher: outbox events become signed HTTP requests, retried for days.

It composes four seams, one module each, and runs them side by side. Its database work is
short steps, none holding a transaction over the network (ARCHITECTURE.md, rule 4):

1. fan-out (``fanout``): new outbox events get their feed position and one delivery per
   matching endpoint;
2. claim (``claim``): due deliveries are leased to this dispatcher in batches and wait in one
   lane per endpoint;
3. send (``send``): ``send(job) -> Outcome``, the request, with no transaction open;
4. record (``record``): successes are written by group commit, a failure in a transaction of
   its own that also schedules the retry.

``OutboundDispatcher`` is the loop over claim, send and record for any kind of outbound job:
a kind brings its rows (``JobQueue`` and ``RecordStore``) and its transport. ``Dispatcher``
is the webhooks' one, with the fan-out in front. Every request has a deadline for the whole
exchange, and an endpoint that is disabled loses its lane at once: its requests in flight are
cut and what it held is parked, as the disable parks what was pending.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Generic, TypeVar

import httpx
from prometheus_client import Counter

from embedcrm.db import Database, utcnow
from embedcrm.errors import ServiceUnavailable
from embedcrm.kit.sealed import SecretBox
from embedcrm.metrics import DELIVERIES
from embedcrm.webhooks.claim import Claims, JobQueue, Lane, Lanes
from embedcrm.webhooks.deliveries import WebhookDeliveries
from embedcrm.webhooks.fanout import FanOut
from embedcrm.webhooks.jobs import Clock, DispatcherConfig, Job, Outcome
from embedcrm.webhooks.record import Recorder, RecordStore, RetryPolicy
from embedcrm.webhooks.secrets import EndpointSecrets
from embedcrm.webhooks.send import Transport, WebhookJob, WebhookTransport
from embedcrm.webhooks.wakeup import can_listen, listen_for_events

__all__ = ["Dispatcher", "DispatcherConfig", "OutboundDispatcher"]

log = logging.getLogger("embedcrm.webhooks")

J = TypeVar("J", bound=Job)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class OutboundDispatcher(Generic[J]):
    """Claims, sends and records one kind of outbound job, keeping ``concurrency`` busy.

    ``produce`` (optional) makes new jobs from elsewhere, such as the webhooks' fan-out; it
    answers how many it handled, and a full ``produce_batch`` means "call again at once".
    """

    def __init__(
        self,
        db: Database,
        *,
        queue: JobQueue[J],
        store: RecordStore[J],
        transport: Transport[J],
        config: DispatcherConfig,
        clock: Clock,
        rng: random.Random | None,
        worker_id: str | None,
        outcomes: Counter,
        produce: Callable[[], Awaitable[int]] | None = None,
        produce_batch: int = 0,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.worker_id = worker_id or new_worker_id()
        self.transport = transport
        self.lanes: Lanes[J] = Lanes(config)
        self.claims = Claims(
            db, queue, self.lanes, config=config, clock=clock, owner=self.worker_id
        )
        self.recorder = Recorder(
            db,
            store,
            retry=RetryPolicy(jitter=config.jitter, disable_after=config.disable_after, rng=rng),
            clock=clock,
            owner=self.worker_id,
            outcomes=outcomes,
        )
        self._produce = produce
        self._produce_batch = produce_batch
        self._stopping = asyncio.Event()
        # Set whenever something the run loop waits for happens: a send or record finished, new
        # work was claimed, or a stop was asked for.
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        # The run loop's database steps in progress, if any (``_housekeep``).
        self._housekeeping: asyncio.Task[None] | None = None
        self._sending = 0
        self._next_produce = 0.0
        self._next_claim = 0.0
        self._stocked_at_claim: set[uuid.UUID] = set()
        self._next_renewal = 0.0
        self._next_disabled_check = 0.0
        self._paused_until = 0.0
        # Set by ``wake``: the next look for new work is a woken one. When the last woken look
        # began: the next keeps ``woken_gap`` from it.
        self._woken = False
        self._woken_look_at = 0.0

    # ---- the seams, one step each ------------------------------------------------------------

    async def produce(self) -> int:
        return await self._produce() if self._produce is not None else 0

    async def claim(self, limit: int) -> list[J]:
        return await self.claims.claim(limit)

    async def send(self, job: J) -> Outcome:
        return await self.transport.send(job)

    async def record_failure(self, job: J, outcome: Outcome) -> None:
        await self.recorder.record_failure(job, outcome)

    async def renew_leases(self) -> int:
        return await self.claims.renew()

    async def stop_disabled(self) -> int:
        return await self.claims.stop_disabled()

    async def release_leases(self) -> int:
        return await self.claims.release()

    async def next_due_at(self) -> datetime | None:
        return await self.claims.next_due_at()

    # ---- running ---------------------------------------------------------------------------

    def _accept(self, jobs: list[J]) -> None:
        self.lanes.accept(jobs)

    def _start_ready(self) -> None:
        """Fill the free sending slots, taking one job from each ready lane in turn."""
        while self._sending < self.config.concurrency:
            ready = self.lanes.ready()
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

    async def _deliver(self, lane: Lane[J], job: J) -> None:
        """Send, free the slot, then record; the record never holds a sending slot."""
        task = asyncio.current_task()
        assert task is not None
        refilled = False
        try:
            lane.posting.add(task)
            try:
                outcome = await self.send(job)
            except asyncio.CancelledError:
                if lane.closed and task.uncancel() == 0:
                    # Cut because the endpoint was disabled, which parked the job.
                    return
                raise
            finally:
                lane.posting.discard(task)
                lane.sending -= 1
                self._sending -= 1
            self.lanes.adapt(lane, job.endpoint_key, outcome)
            self._refill()
            refilled = True
            if outcome.succeeded:
                if lane.failed and not job.endpoint_failing:
                    job = dataclasses.replace(job, endpoint_failing=True)
                await self.recorder.success(job, outcome)
            else:
                await self.recorder.failure(job, outcome)
        except ServiceUnavailable:
            log.warning("delivery %s: database unavailable; its lease will expire", job.delivery_id)
        except Exception:
            log.exception("delivery %s failed unexpectedly", job.delivery_id)
        finally:
            self.lanes.held -= 1
            if not refilled or not self.lanes.held:
                self._changed.set()

    def _refill(self) -> None:
        """A sending slot came free: start the next send from here, and wake the run loop only
        when it has something to do. Two wake-ups a delivery, each arming a timeout and looking
        over every lane, cost more than the rest of the loop's work."""
        if self._stopping.is_set():
            self._changed.set()
            return
        self._start_ready()
        housekeeping = self._housekeeping
        if (housekeeping is None or housekeeping.done()) and self._housekeeping_due(
            time.monotonic()
        ):
            self._changed.set()

    def _quiet_for(self, now: float) -> float:
        """How long the run loop may wait for something to happen: a poll interval, or less
        when a woken look for new work falls due sooner."""
        until_produce = self._next_produce - now
        if 0 < until_produce < self.config.poll_interval:
            return until_produce
        return self.config.poll_interval

    def _housekeeping_due(self, now: float) -> bool:
        if now < self._paused_until:
            return False
        return (
            now >= self._next_produce
            or (self.lanes.held > 0 and now >= self._next_renewal)
            or (bool(self.lanes) and now >= self._next_disabled_check)
            or self._claim_due(now)
        )

    def _claim_due(self, now: float) -> bool:
        if not self.lanes.wants_work():
            return False
        if now >= self._next_claim:
            return True
        # A lane that was stocked at the last claim has room again.
        return self.lanes.has_room(self._stocked_at_claim)

    async def _claim_if_wanted(self) -> None:
        if self._claim_due(time.monotonic()):
            limit = self.config.concurrency * 8
            jobs = await self.claim(limit)
            self._accept(jobs)
            # The lanes this claim skipped, and those it stocked, are claimed for again as soon
            # as one runs low. Any other claim before then would read past their backlog to
            # find other endpoints' work, so it waits a while; so does one after a claim that
            # found less than it asked for.
            self._stocked_at_claim = self.claims.skipped | self.lanes.stocked()
            if len(jobs) < limit or self._stocked_at_claim:
                wait = (
                    self.config.skipping_poll_interval
                    if self._stocked_at_claim
                    else self.config.poll_interval
                )
                self._next_claim = time.monotonic() + max(wait, self.config.poll_interval)
            else:
                # A full claim and every lane short of stock: more is due, claim it now.
                self._next_claim = 0.0

    async def _housekeep(self) -> None:
        """The dispatcher's database steps, one after another, beside the sends in flight.

        Claims come before producing: the sends waiting on them matter more than a backlog
        of new work, which the next round takes.
        """
        try:
            if self.lanes and time.monotonic() >= self._next_disabled_check:
                self._next_disabled_check = time.monotonic() + self.config.disabled_check_interval
                await self.stop_disabled()
            if self.lanes.held and time.monotonic() >= self._next_renewal:
                await self.renew_leases()
                self._next_renewal = time.monotonic() + self.config.lease.total_seconds() / 3
            await self._claim_if_wanted()
            if time.monotonic() >= self._next_produce:
                # New work is looked for once per poll interval, sooner when a commit wakes the
                # dispatcher (even during this look: what it reads may predate the new work),
                # and at once while a backlog fills whole batches.
                began = time.monotonic()
                if self._woken:
                    self._woken, self._woken_look_at = False, began
                self._next_produce = began + self.config.poll_interval
                produced = await self.produce()
                if produced >= self._produce_batch and self._produce is not None:
                    self._next_produce = 0.0
                if produced:
                    self._next_claim = 0.0  # new jobs: claim them now
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
        """One round: produce, claim up to ``concurrency``, deliver them all; returns the count."""
        await self.produce()
        jobs = await self.claim(self.config.concurrency)
        self._accept(jobs)
        while self.lanes.held:
            self._changed.clear()
            self._start_ready()
            await self._changed.wait()
        return len(jobs)

    async def run_until_idle(self, *, max_rounds: int = 1000) -> int:
        """Rounds until nothing is due at the clock's current time (tests, one-shot drains)."""
        total = 0
        for _ in range(max_rounds):
            produced = await self.produce()
            sent = await self.run_once()
            total += sent
            if not sent and not produced:
                return total
        raise RuntimeError(f"the dispatcher was still busy after {max_rounds} rounds")

    def wake(self) -> None:
        """New work was committed: look for it now rather than at the next poll, or, if the
        last woken look began less than ``woken_gap`` ago, once that much has passed. A poll's
        look does not count: it may have read before the commit."""
        self._woken = True
        self._next_produce = min(self._next_produce, self._woken_look_at + self.config.woken_gap)
        self._changed.set()

    def request_stop(self) -> None:
        """Stop claiming; :meth:`run` then finishes or releases what it holds and returns."""
        self._stopping.set()
        self._changed.set()

    async def run(self, *, grace: float = 30.0) -> None:
        """Deliver until :meth:`request_stop` (or cancellation), keeping ``concurrency`` busy."""
        try:
            while not self._stopping.is_set():
                self._changed.clear()
                self._start_ready()
                now = time.monotonic()
                housekeeping = self._housekeeping
                if (housekeeping is None or housekeeping.done()) and self._housekeeping_due(now):
                    self._housekeeping = asyncio.create_task(self._housekeep())
                try:
                    async with asyncio.timeout(self._quiet_for(now)):
                        await self._changed.wait()
                except TimeoutError:
                    pass
        finally:
            if self._housekeeping is not None:
                await asyncio.gather(self._housekeeping, return_exceptions=True)
            await self._finish(grace)

    async def _finish(self, grace: float) -> None:
        """Let running deliveries finish within ``grace``, then hand back what is left."""
        # Not started: handed back below with the rest, for another dispatcher to send.
        self.lanes.drop_waiting()
        active = set(self._tasks)
        if active:
            _, pending = await asyncio.wait(active, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        await self.recorder.flushed()
        await self.release_leases()


class Dispatcher(OutboundDispatcher[WebhookJob]):
    """Delivers outbox events to endpoints. One instance per process; many processes may run."""

    def __init__(
        self,
        db: Database,
        client: httpx.AsyncClient,
        *,
        box: SecretBox,
        config: DispatcherConfig | None = None,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
        worker_id: str | None = None,
    ) -> None:
        config = config or DispatcherConfig()
        # Endpoints' secrets are stored sealed with ``box``; each is opened once, not per send.
        deliveries = WebhookDeliveries(EndpointSecrets(box))
        self.fan_outs = FanOut(db, clock=clock, batch=config.fan_out_batch)
        super().__init__(
            db,
            queue=deliveries,
            store=deliveries,
            transport=WebhookTransport(client, clock=clock, timeout=config.timeout),
            config=config,
            clock=clock,
            rng=rng,
            worker_id=worker_id,
            outcomes=DELIVERIES,
            produce=self.fan_out,
            produce_batch=config.fan_out_batch,
        )

    async def run(self, *, grace: float = 30.0) -> None:
        """As ``OutboundDispatcher.run``; on PostgreSQL a committed event wakes it at once
        (``wakeup``), where the poll alone made it wait half an interval on average."""
        if not can_listen(self.db):
            await super().run(grace=grace)
            return
        listening = asyncio.create_task(listen_for_events(self.db, self.wake, self._stopping))
        try:
            await super().run(grace=grace)
        finally:
            listening.cancel()
            await asyncio.gather(listening, return_exceptions=True)

    async def fan_out(self) -> int:
        """Give new outbox events their feed position and deliveries; returns how many."""
        return await self.fan_outs.fan_out()
