"""The move_lead mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.leads.inputs import LeadPayload
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.pipelines.inputs import MoveLeadInput, no_value_warnings
from embedcrm.graphql.support import as_payload, errors_payload, parse_id, required_id
from embedcrm.leads import models as lead_models


async def resolve(info: Info, input: MoveLeadInput) -> LeadPayload:
    ctx = info.context

    async def call() -> list[lead_models.Lead]:
        gid = parse_id(input.lead_id, "Lead", "leadId")
        stage = required_id(input.stage_id, "Stage", "stageId", gid.workspace_id)
        return await ctx.services.pipelines.move_leads(
            ctx.principal, gid.workspace_id, [gid.row_id], stage, reason=input.reason
        )

    return await as_payload(
        call,
        lambda leads: LeadPayload(
            lead=Lead.of(leads[0]), warnings=no_value_warnings(leads, "value")
        ),
        errors_payload(LeadPayload),
    )
