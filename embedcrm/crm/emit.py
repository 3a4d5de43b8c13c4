"""Events of the CRM workspace, written to the outbox in the transaction of the change."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.contacts.models import Contact
from embedcrm.crm.service import contact_payload, lead_payload, task_payload
from embedcrm.events import Event
from embedcrm.leads.models import Lead
from embedcrm.leads.repository import LeadRepository
from embedcrm.pipelines.models import Stage
from embedcrm.pipelines.repository import StageRepository
from embedcrm.tasks.models import Task
from embedcrm.webhooks.outbox import OutboxRepository


def _common(workspace_id: uuid.UUID, site_id: uuid.UUID | None) -> dict[str, Any]:
    return {"workspace_id": str(workspace_id), "site_id": str(site_id) if site_id else None}


async def emit_lead_event(
    session: AsyncSession,
    lead: Lead,
    event_type: str,
    *,
    now: datetime,
    stage: Stage | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """One lead event with the lead's next sequence number, so receivers can order them."""
    workspace_id = lead.workspace_id
    stage = stage or await StageRepository(session, workspace_id).get(lead.stage_id)
    assert stage is not None
    sequence = await LeadRepository(session, workspace_id).next_event_sequence(lead.id)
    OutboxRepository(session, workspace_id).record(
        Event(
            type=event_type,
            occurred_at=now,
            data={
                **_common(workspace_id, lead.site_id),
                "sequence": sequence,
                "lead": lead_payload(lead, stage),
                **(extra or {}),
            },
        ),
        lead_id=lead.id,
        sequence=sequence,
    )


def emit_contact_event(
    session: AsyncSession,
    contact: Contact,
    event_type: str,
    *,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    OutboxRepository(session, contact.workspace_id).record(
        Event(
            type=event_type,
            occurred_at=now,
            data={
                **_common(contact.workspace_id, None),
                "contact": contact_payload(contact),
                **(extra or {}),
            },
        )
    )


def emit_task_event(
    session: AsyncSession,
    task: Task,
    event_type: str,
    *,
    now: datetime,
    site_id: uuid.UUID | None = None,
) -> None:
    OutboxRepository(session, task.workspace_id).record(
        Event(
            type=event_type,
            occurred_at=now,
            data={**_common(task.workspace_id, site_id), "task": task_payload(task)},
        )
    )
