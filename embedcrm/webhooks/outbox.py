"""Writing events to the outbox, always inside the transaction of the change behind them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.events import Event
from embedcrm.ids import optional_global_id, to_global_id, workspace_global_id
from embedcrm.kit.repository import WorkspaceRepository
from embedcrm.webhooks.models import PLATFORM_WORKSPACE_ID, OutboxEvent
from embedcrm.workspaces.models import Workspace

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
    # Every e-mail and phone of a contact.
    "emails",
    "phones",
    # A message's recipient, text and template values.
    "to",
    "subject",
    "variables",
}
# Objects scrubbed inside rather than blanked: a message.requested's message keeps its ids.
SCRUBBED_INSIDE = {"message"}
# Personal keys whose schema wants a string: blanked to "" rather than null.
BLANKED_TEXT = {"title", "to", "subject", "body"}


def endpoint_global_id(workspace_id: uuid.UUID | None, endpoint_id: uuid.UUID) -> str:
    """An endpoint's id as GraphQL gives it; a platform-wide one carries the reserved workspace."""
    return to_global_id("WebhookEndpoint", workspace_id or PLATFORM_WORKSPACE_ID, endpoint_id)


async def endpoint_scope(session: AsyncSession, workspace_id: uuid.UUID | None) -> dict[str, Any]:
    """The workspace of an event about an endpoint, or nulls for a platform-wide one."""
    if workspace_id is None or workspace_id == PLATFORM_WORKSPACE_ID:
        return {"workspace_id": None, "workspace_external_id": None}
    scope = await OutboxRepository(session, workspace_id).scope(None)
    del scope["site_id"]
    return scope


def _emptied(item: Any) -> Any:
    """A blanked value of the same JSON type where the schema needs one: {} or [], else null."""
    if isinstance(item, dict):
        return {}
    return [] if isinstance(item, list) else None


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
                out[key] = "" if key in BLANKED_TEXT else _emptied(item)
            else:
                out[key] = scrub_payload(item)
        return out
    if isinstance(value, list):
        return [scrub_payload(v) for v in value]
    return value


class OutboxRepository(WorkspaceRepository[OutboxEvent]):
    model = OutboxEvent

    async def scope(self, site_id: uuid.UUID | None) -> dict[str, Any]:
        """What every event of this workspace carries besides its object: the workspace by its
        global id and by the host's externalId, and the site (global id) or None. The workspace
        row is usually in the session already, so this costs no query."""
        workspace = await self.session.get(Workspace, self.workspace_id)
        return {
            "workspace_id": workspace_global_id(self.workspace_id),
            "workspace_external_id": workspace.external_id if workspace else None,
            "site_id": optional_global_id("Site", self.workspace_id, site_id),
        }

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
        # Events name objects by global id; ones recorded before that, by dashed UUID.
        id_texts = [
            str(contact_id),
            to_global_id("Contact", self.workspace_id, contact_id),
            *(str(i) for i in lead_ids),
            *(to_global_id("Lead", self.workspace_id, i) for i in lead_ids),
        ]
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
