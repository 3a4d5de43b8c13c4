"""Record: what a send found out is written back, and a failure gets its retry.

Successes are written by group commit, failures one at a time in a transaction of their own
that also schedules the retry (``RetryPolicy``: the schedule of ``retry.py``, a receiver's
``Retry-After``, and when an endpoint failing for too long is disabled). A kind of outbound job
brings the row writes as a ``RecordStore``; the batching, the rules and their order are shared.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.db import Database
from embedcrm.webhooks.jobs import Clock, Job, Outcome
from embedcrm.webhooks.retry import next_attempt_delay

J = TypeVar("J", bound=Job)
J_contra = TypeVar("J_contra", bound=Job, contravariant=True)


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed job is tried again, and when its endpoint has failed long enough."""

    jitter: float = 0.1
    disable_after: timedelta = timedelta(days=5)
    rng: random.Random | None = None

    def next_attempt_at(self, job: Job, outcome: Outcome) -> datetime | None:
        """When to try again after this failure; None when the attempts are exhausted or the
        receiver refused the job for good."""
        if outcome.rejected:
            return None
        delay = next_attempt_delay(job.attempt_number, rng=self.rng, jitter=self.jitter)
        if delay is None:
            return None
        if outcome.retry_after is not None:
            delay = max(delay, outcome.retry_after)
        return outcome.attempted_at + delay

    def disable_reason(self, failing_since: datetime, now: datetime) -> str | None:
        """Why an endpoint failing since ``failing_since`` is disabled now, or None."""
        if now - failing_since < self.disable_after:
            return None
        hours = int(self.disable_after.total_seconds() // 3600)
        return f"failing continuously for {hours} hours"


class RecordStore(Protocol[J_contra]):
    """One kind of job's writes of outcomes: a batch of successes committed as the store sees
    fit, a failure in the session of the caller's transaction."""

    async def record_successes(
        self,
        db: Database,
        batch: Sequence[tuple[J_contra, Outcome]],
        *,
        owner: str,
        now: datetime,
    ) -> None:
        """Commit the attempts, the jobs done (each only while ``owner`` still holds it), and
        the failing run ended of each endpoint a job found failing."""
        ...

    async def record_failure(
        self,
        session: AsyncSession,
        job: J_contra,
        outcome: Outcome,
        *,
        owner: str,
        clock: Clock,
        retry: RetryPolicy,
    ) -> None:
        """The attempt, and the job's next state by ``retry`` (while ``owner`` still holds it);
        a gone endpoint, or one failing for too long, is disabled."""
        ...


class Recorder(Generic[J]):
    """Writes the outcomes of one dispatcher's sends."""

    def __init__(
        self,
        db: Database,
        store: RecordStore[J],
        *,
        retry: RetryPolicy,
        clock: Clock,
        owner: str,
        outcomes: Counter,
    ) -> None:
        self.db = db
        self.store = store
        self.retry = retry
        self.clock = clock
        self.owner = owner
        self.outcomes = outcomes
        # Failures are rare but come in bursts when an endpoint is down; a few at a time keeps
        # the pool free for the rest of the process.
        self._failure_records = asyncio.Semaphore(2)
        self._successes: list[tuple[J, Outcome, asyncio.Future[None]]] = []
        self._success_flusher: asyncio.Task[None] | None = None

    async def success(self, job: J, outcome: Outcome) -> None:
        """Successes are recorded by group commit: the jobs that finish while one batch is
        being written share the next transaction, so a busy endpoint costs a few commits a
        round instead of one per job. Each caller still waits for its own commit."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._successes.append((job, outcome, future))
        if self._success_flusher is None or self._success_flusher.done():
            self._success_flusher = asyncio.create_task(self._flush_successes())
        await asyncio.shield(future)

    async def _flush_successes(self) -> None:
        while self._successes:
            batch, self._successes = self._successes, []
            try:
                await self.store.record_successes(
                    self.db,
                    [(job, outcome) for job, outcome, _ in batch],
                    owner=self.owner,
                    now=self.clock(),
                )
            except Exception as exc:
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.outcomes.labels("delivered").inc(len(batch))
            for _, _, future in batch:
                if not future.done():
                    future.set_result(None)

    async def failure(self, job: J, outcome: Outcome) -> None:
        """Write a failed attempt and the job's next state in one short transaction."""
        async with self._failure_records:
            await self.record_failure(job, outcome)

    async def record_failure(self, job: J, outcome: Outcome) -> None:
        async with self.db.transaction() as session:
            await self.store.record_failure(
                session, job, outcome, owner=self.owner, clock=self.clock, retry=self.retry
            )

    async def flushed(self) -> None:
        """Wait for the successes being written: one must be written before its lease is
        handed back, or it would be sent again."""
        if self._success_flusher is not None:
            await asyncio.gather(self._success_flusher, return_exceptions=True)
