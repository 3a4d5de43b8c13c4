"""Webhook deliveries as the dispatcher's jobs: the rows behind claims, leases and records.

``WebhookDeliveries`` is the ``JobQueue`` and ``RecordStore`` of webhook requests; its SQL is
``DeliveryQueue``'s. What only webhooks do lives here too: a claim signs with the endpoint's
secrets of the moment, a 410 or a long failing run disables the endpoint, and a delivery that
runs out of attempts is announced as ``message.attempt.exhausted``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.db import Database
from embedcrm.errors import ConfigurationError
from embedcrm.events import OPERATIONAL_EVENT_TYPES, Event
from embedcrm.ids import to_global_id
from embedcrm.metrics import DELIVERIES
from embedcrm.webhooks.jobs import Clock, Outcome
from embedcrm.webhooks.leases import LeasedQueue, LeasedRow
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
from embedcrm.webhooks.outbox import OutboxRepository, endpoint_global_id, endpoint_scope
from embedcrm.webhooks.record import RetryPolicy
from embedcrm.webhooks.repository import (
    DeliveryQueue,
    DueDelivery,
    disabled_endpoints_at_once,
    record_successes_at_once,
    skip_pending_of,
)
from embedcrm.webhooks.secrets import EndpointSecrets
from embedcrm.webhooks.send import WebhookJob, body_of

log = logging.getLogger("embedcrm.webhooks")


class WebhookDeliveries(LeasedQueue[WebhookJob]):
    """Webhook deliveries leased, renewed, released and recorded, across workspaces."""

    def __init__(self, secrets: EndpointSecrets) -> None:
        self.secrets = secrets
        super().__init__(
            DeliveryQueue,
            waiting=DeliveryStatus.PENDING,
            failed=DeliveryStatus.FAILED,
            outcomes=DELIVERIES,
            log=log,
            noun="delivery",
        )

    def record_lost_attempt(self, session: AsyncSession, row: LeasedRow, now: datetime) -> None:
        # DeliveryQueue leases deliveries (why the row is typed as the protocol: LeasedRow).
        assert isinstance(row, WebhookDelivery)
        session.add(
            WebhookAttempt(
                workspace_id=row.workspace_id,
                delivery_id=row.id,
                endpoint_key=row.endpoint_key,
                attempt_number=row.attempt_count,
                succeeded=False,
                error="lease expired: the dispatcher stopped before recording the result",
                worker=row.lease_owner,
                created_at=now,
            )
        )

    async def in_flight_counts(self, session: AsyncSession) -> dict[uuid.UUID, int]:
        return await DeliveryQueue(session).in_flight_counts()

    async def lease_due(
        self,
        session: AsyncSession,
        now: datetime,
        limit: int,
        *,
        owner: str,
        until: datetime,
        exclude: Iterable[uuid.UUID],
    ) -> list[WebhookJob]:
        """Rows are read and written as plain rows: a claim handles many deliveries and ORM
        objects would cost more than the SQL."""
        queue = DeliveryQueue(session)
        leased = await queue.lease_due(now, limit, owner=owner, until=until, exclude=exclude)
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
            try:
                secrets = self.secrets.for_signing(
                    # The overlap is judged at claim time; a lease is far shorter than it.
                    delivery.endpoint_key,
                    endpoint.sealed_secrets_at(now),
                )
            except ConfigurationError as exc:
                # Sealed with a key the settings no longer hold: this endpoint's deliveries are
                # parked (replayable once the key is back), the other endpoints' go on.
                log.error("endpoint %s: %s", delivery.endpoint_key, exc)
                parked.append(delivery)
                continue
            jobs.append(
                WebhookJob(
                    workspace_id=delivery.workspace_id,
                    delivery_id=delivery.id,
                    endpoint_key=delivery.endpoint_key,
                    url=endpoint.url,
                    secrets=secrets,
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
        return jobs

    async def disabled_endpoints(self, db: Database, keys: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        statements = db.statements()
        if statements is not None:
            return await disabled_endpoints_at_once(statements, keys)
        async with db.transaction() as session:
            return await DeliveryQueue(session).disabled_endpoints(keys)

    async def park_leases(
        self, session: AsyncSession, owner: str, keys: Iterable[uuid.UUID], *, now: datetime
    ) -> int:
        return await DeliveryQueue(session).park_leases(owner, keys, now=now)

    async def record_successes(
        self,
        db: Database,
        batch: Sequence[tuple[WebhookJob, Outcome]],
        *,
        owner: str,
        now: datetime,
    ) -> None:
        recovered = {job.endpoint_key for job, _ in batch if job.endpoint_failing}
        statements = db.statements()
        if statements is not None and not recovered:
            # The common case is one statement: no transaction to open around it.
            await record_successes_at_once(statements, batch, owner=owner, now=now)
            return
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
                "worker": owner,
                "created_at": outcome.attempted_at,
            }
            for job, outcome in batch
        ]
        async with db.transaction() as session:
            await DeliveryQueue(session).record_successes(
                attempts, owner=owner, now=now, recovered=recovered
            )

    async def record_failure(
        self,
        session: AsyncSession,
        job: WebhookJob,
        outcome: Outcome,
        *,
        owner: str,
        clock: Clock,
        retry: RetryPolicy,
    ) -> None:
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
                worker=owner,
                created_at=outcome.attempted_at,
            )
        )
        delivery = await session.get(
            WebhookDelivery, (job.workspace_id, job.delivery_id), with_for_update=True
        )
        if (
            delivery is None
            or delivery.status != DeliveryStatus.IN_FLIGHT
            or delivery.lease_owner != owner
        ):
            self.lease_lost(job)
            return
        now = clock()
        self.end_failed_attempt(delivery, job, outcome.error, now=now)
        delivery.last_attempt_at = outcome.attempted_at
        delivery.last_status_code = outcome.status_code
        endpoint = await _endpoint(session, delivery)
        if outcome.gone:
            self.retry_or_fail(delivery, None)  # No next attempt: the receiver is gone.
            if endpoint is not None and endpoint.enabled:
                await _disable(session, endpoint, "the endpoint answered 410 Gone", now)
            return
        failed = self.retry_or_fail(delivery, retry.next_attempt_at(job, outcome))
        if failed and job.event_type not in OPERATIONAL_EVENT_TYPES:
            await _exhausted(session, delivery, now)
        if endpoint is not None and endpoint.enabled:
            if endpoint.failing_since is None:
                endpoint.failing_since = outcome.attempted_at
            elif (reason := retry.disable_reason(endpoint.failing_since, now)) is not None:
                await _disable(session, endpoint, reason, now)


async def _endpoint(session: AsyncSession, delivery: WebhookDelivery) -> Endpoint | None:
    if delivery.platform_endpoint_id is not None:
        return await session.get(PlatformWebhookEndpoint, delivery.platform_endpoint_id)
    return await session.get(WebhookEndpoint, (delivery.workspace_id, delivery.endpoint_id))


async def _disable(session: AsyncSession, endpoint: Endpoint, reason: str, now: datetime) -> None:
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
                **await endpoint_scope(session, workspace_id),
                "endpoint_id": endpoint_global_id(workspace_id, endpoint.id),
                "reason": reason,
            },
        )
    )
    log.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)


async def _exhausted(session: AsyncSession, delivery: WebhookDelivery, now: datetime) -> None:
    tenant = delivery.workspace_id
    # About a platform-wide endpoint: the host's business, kept out of the tenant's events.
    owner = tenant if delivery.endpoint_id is not None else PLATFORM_WORKSPACE_ID
    OutboxRepository(session, owner).record(
        Event(
            type="message.attempt.exhausted",
            occurred_at=now,
            data={
                **await endpoint_scope(session, tenant),
                "endpoint_id": endpoint_global_id(
                    None if delivery.platform_endpoint_id is not None else tenant,
                    delivery.endpoint_key,
                ),
                "event_id": to_global_id("WebhookEvent", tenant, delivery.event_id),
                "message_id": delivery.message_id,
                "attempts": delivery.attempt_count,
            },
        )
    )
