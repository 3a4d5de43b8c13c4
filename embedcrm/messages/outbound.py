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
from embedcrm.webhooks.leases import LeasedQueue, LeasedRow, end_lease
from embedcrm.webhooks.record import RetryPolicy

log = logging.getLogger("embedcrm.messages")


class EmailQueue(LeasedQueue[EmailJob]):
    """Queued e-mails leased, renewed, released and recorded, across workspaces."""

    def __init__(self, lane_key: uuid.UUID) -> None:
        super().__init__(
            MessageQueue,
            waiting=MessageStatus.QUEUED,
            failed=MessageStatus.FAILED,
            outcomes=MESSAGES,
            log=log,
            noun="message",
        )
        self.lane_key = lane_key

    def record_lost_attempt(self, session: AsyncSession, row: LeasedRow, now: datetime) -> None:
        # Sent again with the same Message-ID: at most once more per lost lease.
        row.last_error = "lease expired: the dispatcher stopped before recording the result"

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

    async def disabled_endpoints(self, db: Database, keys: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        # The mail server is configured, not disabled through the API.
        return set()

    async def park_leases(
        self, session: AsyncSession, owner: str, keys: Iterable[uuid.UUID], *, now: datetime
    ) -> int:
        return 0

    async def record_successes(
        self,
        db: Database,
        batch: Sequence[tuple[EmailJob, Outcome]],
        *,
        owner: str,
        now: datetime,
    ) -> None:
        outcomes = {(job.workspace_id, job.delivery_id): (job, outcome) for job, outcome in batch}
        async with db.transaction() as session:
            for message in await MessageQueue(session).leased_to(owner, list(outcomes)):
                job, outcome = outcomes[(message.workspace_id, message.id)]
                message.status = MessageStatus.SENT
                message.attempt_count = job.attempt_number
                message.sent_at = outcome.attempted_at
                message.next_attempt_at = None
                message.last_error = None
                end_lease(message, now=now)

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
            self.lease_lost(job)
            return
        message = found[0]
        self.end_failed_attempt(message, job, outcome.error, now=clock())
        self.retry_or_fail(message, retry.next_attempt_at(job, outcome))


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
