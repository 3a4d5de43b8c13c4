"""Events about leads, written to the outbox in the transaction of the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.events import Event
from embedcrm.events.catalog import LeadPayload, LeadStatusName, PersonPayload, StagePayload
from embedcrm.ids import optional_global_id, to_global_id
from embedcrm.leads.models import Lead
from embedcrm.leads.repository import LeadRepository
from embedcrm.pipelines.models import Stage
from embedcrm.webhooks.outbox import OutboxRepository
from embedcrm.workspaces.models import Member


def stage_payload(stage: Stage) -> StagePayload:
    return {"id": to_global_id("Stage", stage.workspace_id, stage.id), "name": stage.name}


def person_payload(member: Member) -> PersonPayload:
    return {"id": to_global_id("Member", member.workspace_id, member.id), "name": member.name}


def lead_payload(lead: Lead, stage: Stage) -> LeadPayload:
    ws = lead.workspace_id
    return {
        "id": to_global_id("Lead", ws, lead.id),
        "title": lead.title,
        "status": cast(LeadStatusName, lead.status.value.lower()),
        "stage": stage_payload(stage),
        "value": None if lead.value is None else str(lead.value),
        "currency": lead.currency,
        "contact_id": to_global_id("Contact", ws, lead.contact_id),
        "assignee_id": optional_global_id("Member", ws, lead.assignee_id),
        "site_id": optional_global_id("Site", ws, lead.site_id),
        "source": {
            "utm_source": lead.utm_source,
            "utm_medium": lead.utm_medium,
            "utm_campaign": lead.utm_campaign,
            "referrer": lead.referrer,
            "landing_page": lead.landing_page,
        },
        "created_at": lead.created_at.isoformat().replace("+00:00", "Z"),
    }


async def emit_lead_event(
    session: AsyncSession,
    lead: Lead,
    event_type: str,
    *,
    now: datetime,
    stage: Stage,
    extra: dict[str, Any] | None = None,
) -> None:
    """One lead event with the lead's next sequence number, so receivers can order them."""
    workspace_id = lead.workspace_id
    sequence = await LeadRepository(session, workspace_id).next_event_sequence(lead.id)
    outbox = OutboxRepository(session, workspace_id)
    outbox.record(
        Event(
            type=event_type,
            occurred_at=now,
            data={
                **await outbox.scope(lead.site_id),
                "sequence": sequence,
                "lead": lead_payload(lead, stage),
                **(extra or {}),
            },
        ),
        lead_id=lead.id,
        sequence=sequence,
    )
