"""The move_lead mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.leads.inputs import LeadPayload
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.pipelines.inputs import MoveLeadInput, no_value_warnings
from embedcrm.graphql.support import (
    parse_id,
    required_id,
    user_errors_in,
)


@user_errors_in(LeadPayload)
async def resolve(info: Info, input: MoveLeadInput) -> LeadPayload:
    ctx = info.context
    gid = parse_id(input.lead_id, "Lead", "leadId")
    stage = required_id(input.stage_id, "Stage", "stageId", gid.workspace_id)
    leads = await ctx.services.pipelines.move_leads(
        ctx.principal, gid.workspace_id, [gid.row_id], stage, reason=input.reason
    )
    return LeadPayload(lead=Lead.of(leads[0]), warnings=no_value_warnings(leads, "value"))
