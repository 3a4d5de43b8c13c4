"""E-mail messages as the dispatcher's jobs: the rows behind its claims, leases and records.

``EmailQueue`` is the ``JobQueue`` and ``RecordStore`` of e-mails, so that messages are claimed,
leased, retried and recorded by the same seams as webhook deliveries
(``embedcrm/webhooks/dispatcher.py``). All e-mails go to one SMTP server, so they share one lane.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.db import Database, utcnow
from embedcrm.messages.models import MessageStatus
from embedcrm.messages.repository import MessageQueue
from embedcrm.messages.smtp import EmailJob, SmtpServer, SmtpTransport
from embedcrm.metrics import MESSAGES
from embedcrm.webhooks.dispatcher import OutboundDispatcher
from embedcrm.webhooks.jobs import Clock, DispatcherConfig, Outcome
from embedcrm.webhooks.record import RetryPolicy
from embedcrm.webhooks.retry import next_attempt_delay

log = logging.getLogger("embedcrm.messages")


class EmailQueue:
    """Queued e-mails leased, renewed, released and recorded, across workspaces."""

    def __init__(self, lane_key: uuid.UUID) -> None:
        self.lane_key = lane_key

    async def recover_expired(self, session: AsyncSession, now: datetime) -> int:
        """E-mails whose dispatcher vanished mid-send: the attempt counts, and the message is
        sent again with the same Message-ID (at most once more per lost lease)."""
        expired = await MessageQueue(session).expired_leases(now, limit=100)
        for message in expired:
            message.attempt_count += 1
            message.last_error = "lease expired: the dispatcher stopped before recording the result"
            message.lease_owner = None
            message.lease_expires_at = None
            message.updated_at = now
            if next_attempt_delay(message.attempt_count, jitter=0) is None:
                message.status = MessageStatus.FAILED
                message.next_attempt_at = None
            else:
                message.status = MessageStatus.QUEUED
                message.next_attempt_at = now
            MESSAGES.labels("lease_expired").inc()
            log.warning("message %s: the lease of its dispatcher expired", message.id)
        return len(expired)

    async def in_flight_counts(self, session: AsyncSession) -> dict[uuid.UUID, int]:
        count = await MessageQueue(session).sending_count()
        return {self.lane_key: count} if count else {}

    async def lease_due(
        self,
        session: AsyncSession,
        now: datetime,
        limit: int,
        *,
        owner: str,
        until: datetime,
        exclude: Iterable[uuid.UUID],
    ) -> list[EmailJob]:
        if self.lane_key in set(exclude):
            return []
        rows = await MessageQueue(session).lease_due(now, limit, owner=owner, until=until)
        return [
            EmailJob(
                workspace_id=row.workspace_id,
                delivery_id=row.id,
                endpoint_key=self.lane_key,
                attempt_number=row.attempt_count + 1,
                contact_id=row.contact_id,
                recipient=row.recipient,
                subject=row.subject,
                body=row.body,
                language=row.language,
                shop_name=row.shop_name or "",
            )
            for row in rows
        ]

    async def unlease(
        self, session: AsyncSession, jobs: Sequence[EmailJob], *, now: datetime
    ) -> None:
        await MessageQueue(session).unlease(
            [(job.workspace_id, job.delivery_id) for job in jobs], now=now
        )

    async def renew_leases(self, session: AsyncSession, owner: str, *, until: datetime) -> int:
        return await MessageQueue(session).renew_leases(owner, until=until)

    async def disabled_endpoints(
        self, session: AsyncSession, keys: Iterable[uuid.UUID]
    ) -> set[uuid.UUID]:
        # The mail server is configured, not disabled through the API.
        return set()

    async def park_leases(
        self, session: AsyncSession, owner: str, keys: Iterable[uuid.UUID], *, now: datetime
    ) -> int:
        return 0

    async def release_leases(self, session: AsyncSession, owner: str, *, now: datetime) -> int:
        leased = await MessageQueue(session).own_leases(owner)
        for message in leased:
            message.status = MessageStatus.QUEUED
            message.next_attempt_at = now
            message.lease_owner = None
            message.lease_expires_at = None
            message.updated_at = now
        return len(leased)

    async def next_due_at(self, session: AsyncSession) -> datetime | None:
        return await MessageQueue(session).next_due_at()

    async def record_successes(
        self,
        session: AsyncSession,
        batch: Sequence[tuple[EmailJob, Outcome]],
        *,
        owner: str,
        now: datetime,
    ) -> None:
        outcomes = {(job.workspace_id, job.delivery_id): (job, outcome) for job, outcome in batch}
        for message in await MessageQueue(session).leased_to(owner, list(outcomes)):
            job, outcome = outcomes[(message.workspace_id, message.id)]
            message.status = MessageStatus.SENT
            message.attempt_count = job.attempt_number
            message.sent_at = outcome.attempted_at
            message.next_attempt_at = None
            message.last_error = None
            message.lease_owner = None
            message.lease_expires_at = None
            message.updated_at = now

    async def record_failure(
        self,
        session: AsyncSession,
        job: EmailJob,
        outcome: Outcome,
        *,
        owner: str,
        clock: Clock,
        retry: RetryPolicy,
    ) -> None:
        found = await MessageQueue(session).leased_to(owner, [(job.workspace_id, job.delivery_id)])
        if not found:
            # The lease expired and another dispatcher took over: keep only the log line.
            log.warning("message %s: lease lost before recording", job.delivery_id)
            return
        message = found[0]
        message.attempt_count = job.attempt_number
        message.last_error = outcome.error
        message.lease_owner = None
        message.lease_expires_at = None
        message.updated_at = clock()
        next_attempt_at = retry.next_attempt_at(job, outcome)
        if next_attempt_at is None:
            MESSAGES.labels("failed").inc()
            message.status = MessageStatus.FAILED
            message.next_attempt_at = None
        else:
            MESSAGES.labels("retry").inc()
            message.status = MessageStatus.QUEUED
            message.next_attempt_at = next_attempt_at


def email_dispatcher(
    db: Database,
    server: SmtpServer,
    *,
    unsubscribe_url: Callable[[uuid.UUID, uuid.UUID], str],
    config: DispatcherConfig | None = None,
    clock: Clock = utcnow,
    rng: random.Random | None = None,
    worker_id: str | None = None,
) -> OutboundDispatcher[EmailJob]:
    """The dispatcher of e-mail messages: the webhooks' claims, lanes, leases and retries with
    the SMTP server as the one endpoint."""
    queue = EmailQueue(server.lane_key)
    return OutboundDispatcher(
        db,
        queue=queue,
        store=queue,
        transport=SmtpTransport(server, clock=clock, unsubscribe_url=unsubscribe_url),
        config=config or DispatcherConfig(),
        clock=clock,
        rng=rng,
        worker_id=worker_id,
        outcomes=MESSAGES,
    )
