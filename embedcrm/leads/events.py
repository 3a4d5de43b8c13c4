"""Events about leads, written to the outbox in the transaction of the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.events import Event
from embedcrm.events.catalog import LeadPayload, LeadStatusName
from embedcrm.kit.events import scope_data
from embedcrm.leads.models import Lead
from embedcrm.leads.repository import LeadRepository
from embedcrm.pipelines.models import Stage
from embedcrm.webhooks.outbox import OutboxRepository


def lead_payload(lead: Lead, stage: Stage) -> LeadPayload:
    return {
        "id": str(lead.id),
        "title": lead.title,
        "status": cast(LeadStatusName, lead.status.value.lower()),
        "stage": {"id": str(stage.id), "name": stage.name},
        "value": None if lead.value is None else str(lead.value),
        "currency": lead.currency,
        "contact_id": str(lead.contact_id),
        "assignee_id": None if lead.assignee_id is None else str(lead.assignee_id),
        "site_id": None if lead.site_id is None else str(lead.site_id),
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
    OutboxRepository(session, workspace_id).record(
        Event(
            type=event_type,
            occurred_at=now,
            data={
                **scope_data(workspace_id, lead.site_id),
                "sequence": sequence,
                "lead": lead_payload(lead, stage),
                **(extra or {}),
            },
        ),
        lead_id=lead.id,
        sequence=sequence,
    )
