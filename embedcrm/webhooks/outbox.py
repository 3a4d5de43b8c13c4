"""Writing events to the outbox, always inside the transaction of the change behind them."""

from __future__ import annotations

import uuid

from embedcrm.events import Event
from embedcrm.kit.repository import WorkspaceRepository
from embedcrm.webhooks.models import OutboxEvent


class OutboxRepository(WorkspaceRepository[OutboxEvent]):
    model = OutboxEvent

    def record(
        self, event: Event, *, lead_id: uuid.UUID | None = None, sequence: int | None = None
    ) -> OutboxEvent:
        return self.add(
            OutboxEvent(
                type=event.type,
                lead_id=lead_id,
                sequence=sequence,
                payload=event.to_dict(),
                created_at=event.occurred_at,
            )
        )
