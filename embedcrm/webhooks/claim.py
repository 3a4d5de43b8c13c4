"""Claim: due jobs are leased to this dispatcher and wait in one lane per endpoint.

Claims come in batches (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of
dispatchers share the work), a few per sending slot ahead, so one claim's round trips are
shared by many sends. A lane sends at most ``endpoint_concurrency`` at once and fewer while its
endpoint answers "busy" or not at all, so a slow endpoint cannot take the slots of the others.
A lane holds a few rounds of its own allowance and no more: claims skip the endpoints whose
lanes are stocked, so deliveries stuck behind a hanging endpoint never stop the claims for the
others. A live dispatcher renews its leases; one that dies leaves them to expire, and another
dispatcher then sends the job again (at least once).

Nothing here knows what a job is sent over: a kind of outbound job brings its rows as a
``JobQueue`` and its transport (``send``), and reuses these claims and lanes as they are.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.db import Database
from embedcrm.webhooks.jobs import Clock, DispatcherConfig, Job, Outcome

log = logging.getLogger("embedcrm.webhooks")

J = TypeVar("J", bound=Job)


class JobQueue(Protocol[J]):
    """One kind of job's rows, as claims and leases use them; each call runs in the session of
    a transaction the caller owns."""

    async def recover_expired(self, session: AsyncSession, now: datetime) -> int:
        """Count the lost attempt of jobs whose dispatcher vanished and make them due again."""
        ...

    async def in_flight_counts(self, session: AsyncSession) -> dict[uuid.UUID, int]:
        """Jobs leased to any dispatcher, per endpoint."""
        ...

    async def lease_due(
        self,
        session: AsyncSession,
        now: datetime,
        limit: int,
        *,
        owner: str,
        until: datetime,
        exclude: Iterable[uuid.UUID],
    ) -> list[J]:
        """Lease up to ``limit`` due jobs to ``owner``, skipping the ``exclude`` endpoints;
        those whose endpoint was disabled or deleted meanwhile are parked, not returned."""
        ...

    async def unlease(self, session: AsyncSession, jobs: Sequence[J], *, now: datetime) -> None:
        """Give back jobs just leased, still due as they were."""
        ...

    async def renew_leases(self, session: AsyncSession, owner: str, *, until: datetime) -> int: ...

    async def disabled_endpoints(self, db: Database, keys: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Those of ``keys`` whose endpoint is disabled or no longer exists: a read of its own,
        in whatever transaction the queue picks (it is made several times a second)."""
        ...

    async def park_leases(
        self, session: AsyncSession, owner: str, keys: Iterable[uuid.UUID], *, now: datetime
    ) -> int:
        """Park what ``owner`` holds for these disabled endpoints, as a disable parks the rest."""
        ...

    async def release_leases(self, session: AsyncSession, owner: str, *, now: datetime) -> int:
        """Hand back everything ``owner`` holds, due at once."""
        ...

    async def next_due_at(self, session: AsyncSession) -> datetime | None: ...


@dataclass
class Lane(Generic[J]):
    """One endpoint's jobs leased to this dispatcher and the sends it allows at once.

    The allowance shrinks by half when the endpoint is overloaded and grows back by one per
    success, up to ``endpoint_concurrency`` (additive increase, multiplicative decrease).
    """

    limit: int
    waiting: deque[J] = field(default_factory=deque)
    sending: int = 0
    # A send failed here: the endpoint's failing run may have begun since its jobs were
    # claimed, and the next success must end it.
    failed: bool = False
    # The tasks whose request is on its way, to cut them if the endpoint is disabled.
    posting: set[asyncio.Task[None]] = field(default_factory=set)
    # The endpoint was disabled: nothing more is sent from here.
    closed: bool = False

    @property
    def ready(self) -> bool:
        return bool(self.waiting) and self.sending < self.limit

    def stocked(self, rounds: int) -> bool:
        """Holds enough for ``rounds`` rounds of its allowance: claim no more for it now."""
        return len(self.waiting) >= rounds * self.limit


class Lanes(Generic[J]):
    """The lanes of one dispatcher and how many jobs it holds (leased, not yet recorded)."""

    def __init__(self, config: DispatcherConfig) -> None:
        self.config = config
        self.by_key: dict[uuid.UUID, Lane[J]] = {}
        self.held = 0

    def __bool__(self) -> bool:
        return bool(self.by_key)

    def accept(self, jobs: Sequence[J]) -> None:
        for job in jobs:
            lane = self.by_key.get(job.endpoint_key)
            if lane is None:
                lane = self.by_key[job.endpoint_key] = Lane(self.config.endpoint_concurrency)
            lane.waiting.append(job)
        self.held += len(jobs)

    def ready(self) -> list[Lane[J]]:
        return [lane for lane in self.by_key.values() if lane.ready]

    def stocked(self) -> set[uuid.UUID]:
        rounds = self.config.lane_rounds
        return {key for key, lane in self.by_key.items() if lane.stocked(rounds)}

    def has_room(self, keys: Iterable[uuid.UUID]) -> bool:
        """One of ``keys`` has no lane here, or one that is no longer stocked."""
        rounds = self.config.lane_rounds
        return any(
            (lane := self.by_key.get(key)) is None or not lane.stocked(rounds) for key in keys
        )

    def wants_work(self) -> bool:
        # Claim while fewer than four rounds of sends are waiting, so the slots never run dry
        # while a claim is on its way. A lane counts for no more than it can send in four
        # rounds of its allowance: jobs queued behind a slow endpoint cannot use the free
        # slots and must not stop the claims that would fill them.
        sendable = sum(min(len(lane.waiting), 4 * lane.limit) for lane in self.by_key.values())
        return sendable < 4 * self.config.concurrency

    def within_bounds(self, jobs: Sequence[J]) -> tuple[list[J], list[J]]:
        """Split a claim into what each lane may hold, ``lease_ahead`` per slot of its current
        allowance, and the rest: the claim reads in due order, and a stocked endpoint with an
        old backlog would otherwise fill one claim on its own."""
        room: dict[uuid.UUID, int] = {}
        kept: list[J] = []
        surplus: list[J] = []
        for job in jobs:
            key = job.endpoint_key
            if key not in room:
                lane = self.by_key.get(key)
                limit = lane.limit if lane else self.config.endpoint_concurrency
                held = len(lane.waiting) + lane.sending if lane else 0
                room[key] = limit * self.config.lease_ahead - held
            if room[key] > 0:
                room[key] -= 1
                kept.append(job)
            else:
                surplus.append(job)
        return kept, surplus

    def adapt(self, lane: Lane[J], key: uuid.UUID, outcome: Outcome) -> None:
        cap = self.config.endpoint_concurrency
        lane.failed = lane.failed or not outcome.succeeded
        if outcome.overloaded:
            lane.limit = max(1, lane.limit // 2)
        elif outcome.succeeded:
            lane.limit = min(cap, lane.limit + 1)
        if not lane.waiting and not lane.sending and lane.limit == cap:
            # Nothing to remember about this endpoint any more.
            if self.by_key.get(key) is lane:
                del self.by_key[key]

    def close(self, key: uuid.UUID) -> None:
        """The endpoint was disabled: cut its requests on their way and forget what waits."""
        lane = self.by_key.pop(key, None)
        if lane is None:
            return
        lane.closed = True
        self.held -= len(lane.waiting)
        lane.waiting.clear()
        for task in lane.posting:
            task.cancel()
        log.warning("webhook endpoint %s is disabled: its requests stop", key)

    def drop_waiting(self) -> None:
        """Forget the jobs not started; their leases are handed back with the rest."""
        for lane in self.by_key.values():
            self.held -= len(lane.waiting)
            lane.waiting.clear()


class Claims(Generic[J]):
    """Leases one kind of job to one dispatcher (``owner``) and keeps them in its lanes."""

    def __init__(
        self,
        db: Database,
        queue: JobQueue[J],
        lanes: Lanes[J],
        *,
        config: DispatcherConfig,
        clock: Clock,
        owner: str,
    ) -> None:
        self.db = db
        self.queue = queue
        self.lanes = lanes
        self.config = config
        self.clock = clock
        self.owner = owner
        # The endpoints the last claim skipped because their lanes here were stocked.
        self.skipped: set[uuid.UUID] = set()
        self._next_recovery: datetime | None = None

    async def claim(self, limit: int) -> list[J]:
        """Lease up to ``limit`` due jobs to this dispatcher.

        No more is claimed for an endpoint once its leases reach its sending slots times
        ``lease_ahead``: a bound on how much of a backlog one dispatcher takes (one claim may
        pass it), not on requests, which the lanes bound. A lease lasts while its dispatcher
        renews it.
        """
        if limit <= 0:
            return []
        cap = self.config.endpoint_concurrency * self.config.lease_ahead
        async with self.db.transaction() as session:
            now = self.clock()
            if self._next_recovery is None or now >= self._next_recovery:
                # Leases last a minute: looking for expired ones once a second is plenty. By the
                # dispatcher's clock, so that a test's clock jumping past a lease finds it.
                self._next_recovery = now + timedelta(seconds=1)
                if await self.queue.recover_expired(session, now):
                    await session.flush()  # so that the recovered ones can be claimed right away
            counts = await self.queue.in_flight_counts(session)
            saturated = {key for key, n in counts.items() if n >= cap}
            # And the endpoints this dispatcher already holds enough of: the rest of the claim
            # goes to the others, however old the stocked endpoints' backlog is.
            self.skipped = self.lanes.stocked()
            saturated.update(self.skipped)
            leased = await self.queue.lease_due(
                session,
                now,
                limit,
                owner=self.owner,
                until=now + self.config.lease,
                exclude=saturated,
            )
            jobs, surplus = self.lanes.within_bounds(leased)
            # Handed back in the same transaction: no other dispatcher ever saw them leased.
            await self.queue.unlease(session, surplus, now=now)
            return jobs

    async def renew(self) -> int:
        """Push back the lease expiry of everything this dispatcher holds; returns how many."""
        async with self.db.transaction() as session:
            return await self.queue.renew_leases(
                session, self.owner, until=self.clock() + self.config.lease
            )

    async def stop_disabled(self) -> int:
        """Drop the lanes of endpoints disabled (or deleted) since their jobs were claimed:
        requests on their way are cut, and every job held for them is parked as skipped, which
        is what disabling does to the pending ones. Returns how many were parked."""
        keys = list(self.lanes.by_key)
        if not keys:
            return 0
        stopped = await self.queue.disabled_endpoints(self.db, keys)
        if not stopped:
            return 0
        async with self.db.transaction() as session:
            parked = await self.queue.park_leases(session, self.owner, stopped, now=self.clock())
        # Only once the parking is committed: should it fail, the lanes stay and the next check
        # tries again. A request started meanwhile is cut here with the rest.
        for key in stopped:
            self.lanes.close(key)
        return parked

    async def release(self) -> int:
        """Give this dispatcher's leases back so others need not wait for them to expire."""
        try:
            async with self.db.transaction() as session:
                return await self.queue.release_leases(session, self.owner, now=self.clock())
        except Exception:
            log.exception("could not release webhook leases; they will expire")
            return 0

    async def next_due_at(self) -> datetime | None:
        async with self.db.transaction() as session:
            return await self.queue.next_due_at(session)
