"""Fan-out: new outbox events get their feed position and one delivery per matching endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from embedcrm.db import Database, new_id
from embedcrm.webhooks.jobs import Clock
from embedcrm.webhooks.models import (
    PLATFORM_WORKSPACE_ID,
    DeliveryStatus,
    Endpoint,
    PlatformWebhookEndpoint,
    WebhookEndpoint,
)
from embedcrm.webhooks.repository import DeliveryQueue, UnpositionedEvent, any_unpositioned


class FanOut:
    """Turns outbox events into webhook deliveries, ``batch`` events per transaction."""

    def __init__(self, db: Database, *, clock: Clock, batch: int) -> None:
        self.db = db
        self.clock = clock
        self.batch = batch

    async def fan_out(self) -> int:
        """Give new outbox events their feed position and deliveries; returns how many.

        Plain rows and two bulk statements rather than ORM objects: every event passes through
        here once, so this is the dispatcher's busiest write after the attempts themselves.
        It runs every poll interval and mostly finds nothing: on PostgreSQL one read says so
        before any transaction is opened.
        """
        statements = self.db.statements()
        if statements is not None and not await any_unpositioned(statements):
            return 0
        async with self.db.transaction() as session:
            queue = DeliveryQueue(session)
            if not await queue.try_lock_fan_out():
                return 0  # another dispatcher is doing it right now
            events = await queue.unpositioned_events(self.batch)
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
                delivery_row(event, endpoint, now)
                for event in events
                for endpoint in targets(
                    event,
                    by_workspace.get(event.workspace_id, []),
                    platform,
                    tested.get((event.workspace_id, event.id)),
                )
            ]
            await queue.position_events(events, first=first)
            await queue.insert_deliveries(deliveries)
            return len(events)


def targets(
    event: UnpositionedEvent,
    workspace_endpoints: list[WebhookEndpoint],
    platform: list[PlatformWebhookEndpoint],
    tested_endpoint: str | None,
) -> list[Endpoint]:
    """The endpoints an event goes to: its workspace's and the platform's that want it."""
    candidates: list[Endpoint] = []
    if event.workspace_id != PLATFORM_WORKSPACE_ID:
        candidates.extend(workspace_endpoints)
    candidates.extend(platform)
    if event.type == "webhook.test":
        # A test goes to the one endpoint it was asked for, whatever its filter.
        return [e for e in candidates if str(e.id) == tested_endpoint]
    return [e for e in candidates if e.wants(event.type)]


def delivery_row(event: UnpositionedEvent, endpoint: Endpoint, now: datetime) -> dict[str, Any]:
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
