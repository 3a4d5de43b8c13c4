"""Leases: the rows of a dispatcher's queue that one dispatcher holds for a while.

Webhook deliveries and e-mail messages are leased alike. A claim marks due rows as leased to
its dispatcher until a moment; a live dispatcher renews that moment; one that stops hands back
what it holds, due at once; a row whose dispatcher vanished is found by its expired lease, its
lost attempt counted, and it is sent again, or fails once its attempts are spent.
``LeasedQueue`` is that bookkeeping, written once over a table's ``LeaseQueries``; how a kind of
job is claimed and recorded, and what its table keeps of an attempt, stay with that kind
(``deliveries.py``, ``embedcrm/messages/outbound.py``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.webhooks.jobs import Job
from embedcrm.webhooks.retry import next_attempt_delay


class LeasedRow(Protocol):
    """The columns of a queued row that a lease, its retries and its attempts use.

    Rows are typed as this protocol rather than as a type parameter of ``LeasedQueue``: mypy
    cannot match a model's mapped columns to a protocol where a class names the model as a type
    argument (``LeasedQueue[Message]``), only where a value of it is passed.
    """

    id: uuid.UUID
    # The table's own states: waiting, leased, failed and the rest.
    status: Any
    attempt_count: int
    next_attempt_at: datetime | None
    last_error: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    updated_at: datetime


J = TypeVar("J", bound=Job)


class LeaseQueries(Protocol):
    """A table's SQL for its leases, across workspaces; rows read here are locked."""

    async def expired_leases(self, now: datetime, limit: int) -> Sequence[LeasedRow]: ...

    async def own_leases(self, owner: str) -> Sequence[LeasedRow]: ...

    async def renew_leases(self, owner: str, *, until: datetime) -> int: ...

    async def unlease(self, keys: Sequence[tuple[uuid.UUID, uuid.UUID]], *, now: datetime) -> None:
        """Give back rows just leased, (workspace_id, id) pairs, still due as they were."""
        ...

    async def next_due_at(self) -> datetime | None:
        """The earliest moment a row falls due or a lease expires."""
        ...


def end_lease(row: LeasedRow, *, now: datetime) -> None:
    """The lease is over, whatever became of the row."""
    row.lease_owner = None
    row.lease_expires_at = None
    row.updated_at = now


class LeasedQueue(Generic[J]):
    """The lease bookkeeping of a ``JobQueue`` and ``RecordStore`` (``claim.py``, ``record.py``)
    whose jobs are rows of one table, written into ``waiting`` and ``failed`` of its states."""

    def __init__(
        self,
        queries: Callable[[AsyncSession], LeaseQueries],
        *,
        waiting: Enum,
        failed: Enum,
        outcomes: Counter,
        log: logging.Logger,
        noun: str,
    ) -> None:
        self.queries = queries
        self.waiting = waiting
        self.failed = failed
        self.outcomes = outcomes
        self.log = log
        # What a row is called in the log: "delivery 1a2b…: …".
        self.noun = noun

    def record_lost_attempt(self, session: AsyncSession, row: LeasedRow, now: datetime) -> None:
        """What the table keeps of an attempt lost with its dispatcher, while the row still
        names that dispatcher as its lease's owner."""

    async def recover_expired(self, session: AsyncSession, now: datetime) -> int:
        """Rows whose dispatcher vanished mid-send: the attempt counts, and the row is due at
        once (the lease already made it wait) or failed once its attempts are spent."""
        expired = await self.queries(session).expired_leases(now, limit=100)
        for row in expired:
            row.attempt_count += 1
            self.record_lost_attempt(session, row, now)
            end_lease(row, now=now)
            lost_for_good = next_attempt_delay(row.attempt_count, jitter=0) is None
            self._due(row, None if lost_for_good else now)
            self.outcomes.labels("lease_expired").inc()
            self.log.warning("%s %s: the lease of its dispatcher expired", self.noun, row.id)
        return len(expired)

    async def unlease(self, session: AsyncSession, jobs: Sequence[J], *, now: datetime) -> None:
        await self.queries(session).unlease(
            [(job.workspace_id, job.delivery_id) for job in jobs], now=now
        )

    async def renew_leases(self, session: AsyncSession, owner: str, *, until: datetime) -> int:
        return await self.queries(session).renew_leases(owner, until=until)

    async def release_leases(self, session: AsyncSession, owner: str, *, now: datetime) -> int:
        leased = await self.queries(session).own_leases(owner)
        for row in leased:
            self._due(row, now)
            end_lease(row, now=now)
        return len(leased)

    async def next_due_at(self, session: AsyncSession) -> datetime | None:
        return await self.queries(session).next_due_at()

    def lease_lost(self, job: J) -> None:
        # The lease expired and another dispatcher took over: keep only the log line.
        self.log.warning("%s %s: lease lost before recording", self.noun, job.delivery_id)

    def end_failed_attempt(
        self, row: LeasedRow, job: J, error: str | None, *, now: datetime
    ) -> None:
        """The attempt of ``job`` failed with ``error``; the lease on ``row`` ends with it."""
        row.attempt_count = job.attempt_number
        row.last_error = error
        end_lease(row, now=now)

    def retry_or_fail(self, row: LeasedRow, next_attempt_at: datetime | None) -> bool:
        """Due again at ``next_attempt_at``, or failed for good when it is None (True)."""
        failed = next_attempt_at is None
        self.outcomes.labels("failed" if failed else "retry").inc()
        self._due(row, next_attempt_at)
        return failed

    def _due(self, row: LeasedRow, at: datetime | None) -> None:
        if at is None:
            row.status = self.failed
            row.next_attempt_at = None
        else:
            row.status = self.waiting
            row.next_attempt_at = at
