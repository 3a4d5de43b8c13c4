"""Moving a lead between stages, and the reads of leads other domains make in their own
transaction (pipelines move leads, tasks answer them): the leads' tables stay the leads'.

The stages come from the caller, who reads them from the pipelines domain.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.db import utcnow
from embedcrm.errors import NotFound
from embedcrm.leads.events import emit_lead_event, stage_payload
from embedcrm.leads.models import (
    Activity,
    ActivityKind,
    Lead,
    LeadStageChange,
    LeadStatus,
    with_past_stage,
)
from embedcrm.leads.repository import ActivityRepository, LeadRepository, StageChangeRepository
from embedcrm.pipelines.models import Stage, StageKind
from embedcrm.tasks.first_response import follow_lead_status
from embedcrm.workspaces.access import Actor

STATUS_OF_KIND = {
    StageKind.OPEN: LeadStatus.OPEN,
    StageKind.WON: LeadStatus.WON,
    StageKind.LOST: LeadStatus.LOST,
}


async def get_lead(
    session: AsyncSession, workspace_id: uuid.UUID, lead_id: uuid.UUID, field: str = "leadId"
) -> Lead:
    lead = await LeadRepository(session, workspace_id).get(lead_id)
    if lead is None:
        raise NotFound("Nothing has this id.", field=field)
    return lead


def stand_lead_on(
    lead: Lead, before: Stage | None, stage: Stage, *, at: datetime, by: uuid.UUID | None
) -> LeadStageChange:
    """Put the lead on ``stage`` as of ``at`` and return the history row of the move, to add.

    The lead keeps when it entered its stage and the stages it stood in before, and the row
    when the stay it ends began, so that the reports never replay the history.
    """
    change = LeadStageChange(
        lead_id=lead.id,
        pipeline_id=stage.pipeline_id,
        from_stage_id=before.id if before else None,
        from_stage_name=before.name if before else None,
        to_stage_id=stage.id,
        to_stage_name=stage.name,
        changed_by_id=by,
        changed_at=at,
        created_at=at,
        entered_at=lead.stage_entered_at or lead.created_at,
        lead_created_at=lead.created_at,
    )
    lead.past_stages = with_past_stage(lead.past_stages, lead.stage_id)
    lead.stage_entered_at = at
    lead.pipeline_id = stage.pipeline_id
    lead.stage_id = stage.id
    lead.status = STATUS_OF_KIND[stage.kind]
    return change


async def move_lead_to(
    session: AsyncSession,
    actor: Actor,
    lead: Lead,
    stage: Stage,
    *,
    before: Stage | None,
    reason: str | None = None,
) -> bool:
    """Move one lead from ``before``, the stage it stands on, to ``stage``: history row,
    timeline entry and events. False when it is already there."""
    if lead.stage_id == stage.id:
        return False
    now = utcnow()
    status_before = lead.status
    StageChangeRepository(session, lead.workspace_id).add(
        stand_lead_on(lead, before, stage, at=now, by=actor.member_id)
    )
    # The reason belongs to the outcome: it goes when the lead is open again.
    closed = stage.kind is not StageKind.OPEN
    lead.close_reason = ((reason or "").strip() or None) if closed else None
    lead.updated_at = now
    if lead.status is not status_before:
        await follow_lead_status(session, lead, now=now)
    ActivityRepository(session, lead.workspace_id).add(
        Activity(
            contact_id=lead.contact_id,
            lead_id=lead.id,
            author_id=actor.member_id,
            kind=ActivityKind.STAGE_CHANGE,
            body=reason,
            data={
                "from_stage": {"id": str(before.id), "name": before.name} if before else None,
                "to_stage": {"id": str(stage.id), "name": stage.name},
                "reason": reason,
            },
            created_at=now,
        )
    )
    await session.flush()
    await emit_lead_event(
        session,
        lead,
        "lead.stage_changed",
        now=now,
        stage=stage,
        extra={
            "from_stage": stage_payload(before) if before else None,
            "to_stage": stage_payload(stage),
        },
    )
    if stage.kind is StageKind.WON:
        await emit_lead_event(
            session, lead, "lead.won", now=now, stage=stage, extra={"reason": reason}
        )
    elif stage.kind is StageKind.LOST:
        await emit_lead_event(
            session, lead, "lead.lost", now=now, stage=stage, extra={"reason": reason}
        )
    return True


async def leads_by_id(
    session: AsyncSession, workspace_id: uuid.UUID, lead_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Lead]:
    return await LeadRepository(session, workspace_id).get_many(lead_ids)


async def leads_at_stages(
    session: AsyncSession, workspace_id: uuid.UUID, stage_ids: Sequence[uuid.UUID]
) -> list[Lead]:
    """The leads standing on any of ``stage_ids``, one by one as a stage's move takes them."""
    leads = LeadRepository(session, workspace_id)
    found = []
    for lead_id in await leads.ids_at_stages(stage_ids):
        lead = await leads.get(lead_id)
        assert lead is not None
        found.append(lead)
    return found


async def stage_history(
    session: AsyncSession, workspace_id: uuid.UUID, lead_id: uuid.UUID
) -> list[LeadStageChange]:
    return await StageChangeRepository(session, workspace_id).of_lead(lead_id)


async def refresh_first_response(
    session: AsyncSession, workspace_id: uuid.UUID, lead_id: uuid.UUID
) -> None:
    """Set when the lead was first answered, after one of its answers changed."""
    await LeadRepository(session, workspace_id).refresh_first_response(lead_id)


async def restatus_leads_at(session: AsyncSession, workspace_id: uuid.UUID, stage: Stage) -> None:
    """The stage's kind changed: its leads take the status that agrees with where they stand."""
    for lead in await leads_at_stages(session, workspace_id, [stage.id]):
        if lead.status is not STATUS_OF_KIND[stage.kind]:
            lead.status = STATUS_OF_KIND[stage.kind]
            await follow_lead_status(session, lead, now=utcnow())
