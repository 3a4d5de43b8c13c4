"""Writing events to the outbox, always inside the transaction of the change behind them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.events import Event
from embedcrm.kit.repository import WorkspaceRepository
from embedcrm.webhooks.models import OutboxEvent

# Objects that describe the business, not the person (a stage, a manager): kept whole.
KEPT_OBJECTS = {"stage", "from_stage", "to_stage", "assignee", "source"}
# Keys of an event payload that can name or reach a person.
PERSONAL_KEYS = {
    "name",
    "email",
    "phone",
    "company",
    "title",
    "message",
    "body",
    "fields",
    "custom_fields",
    "referrer",
    "landing_page",
    "first_touch",
    "click_ids",
    # A message's recipient, text and template values.
    "to",
    "subject",
    "variables",
}
# Objects scrubbed inside rather than blanked: a message.requested's message keeps its ids.
SCRUBBED_INSIDE = {"message"}
# Personal keys whose schema wants a string: blanked to "" rather than null.
BLANKED_TEXT = {"title", "to", "subject", "body"}


def scrub_payload(value: Any) -> Any:
    """The payload with every personal value blanked; ids and shape stay, so it stays valid."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in KEPT_OBJECTS:
                out[key] = item
            elif key in SCRUBBED_INSIDE and isinstance(item, dict):
                out[key] = scrub_payload(item)
            elif key in PERSONAL_KEYS:
                out[key] = "" if key in BLANKED_TEXT else ({} if isinstance(item, dict) else None)
            else:
                out[key] = scrub_payload(item)
        return out
    if isinstance(value, list):
        return [scrub_payload(v) for v in value]
    return value


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

    async def scrub_person(
        self, contact_id: uuid.UUID, lead_ids: Sequence[uuid.UUID]
    ) -> list[uuid.UUID]:
        """Blank the personal values of every event about this contact or its leads; answers
        the ids of the events scrubbed."""
        id_texts = [str(contact_id), *(str(i) for i in lead_ids)]
        events = list(
            await self.session.scalars(
                self.select().where(
                    or_(
                        OutboxEvent.lead_id.in_(list(lead_ids)),
                        *(cast(OutboxEvent.payload, Text).contains(t) for t in id_texts),
                    )
                )
            )
        )
        for event in events:
            event.payload = scrub_payload(event.payload)
        return [event.id for event in events]


class FeedEvent(NamedTuple):
    workspace_id: uuid.UUID
    type: str
    payload: dict[str, Any]
    position: int


class FeedReader:
    """Reads some event types of every workspace from the outbox feed, in position order (the
    fan-out gives positions in commit order), remembering how far this process has read.

    A process starting reads back ``horizon`` only: older events are not news any more. What it
    makes of them must be idempotent, since a restart reads that stretch again.
    """

    def __init__(self, types: Sequence[str], *, horizon: timedelta = timedelta(hours=1)) -> None:
        self.types = tuple(types)
        self.horizon = horizon
        self.after: int | None = None

    async def read(self, session: AsyncSession, now: datetime, limit: int) -> list[FeedEvent]:
        stmt = select(
            OutboxEvent.workspace_id, OutboxEvent.type, OutboxEvent.payload, OutboxEvent.position
        ).where(OutboxEvent.position.is_not(None), OutboxEvent.type.in_(self.types))
        if self.after is not None:
            stmt = stmt.where(OutboxEvent.position > self.after)
        else:
            stmt = stmt.where(OutboxEvent.created_at >= now - self.horizon)
        rows = await session.execute(stmt.order_by(OutboxEvent.position).limit(limit))
        events = [FeedEvent(*row) for row in rows]
        if not events and self.after is None:
            # Nothing recent: go on from the end of the feed.
            last = await session.scalar(select(func.max(OutboxEvent.position)))
            self.after = int(last) if last is not None else None
        return events

    def read_up_to(self, events: Sequence[FeedEvent]) -> None:
        """Once what was made of ``events`` is committed."""
        if events:
            self.after = events[-1].position
