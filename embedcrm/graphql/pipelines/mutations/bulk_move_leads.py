"""The bulk_move_leads mutation: move many leads at once: all of them, or none."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.leads.inputs import LeadsPayload
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.pipelines.inputs import BulkMoveLeadsInput, no_value_warnings
from embedcrm.graphql.support import (
    required_id,
    same_workspace,
    user_errors_in,
)


@user_errors_in(LeadsPayload)
async def resolve(info: Info, input: BulkMoveLeadsInput) -> LeadsPayload:
    ctx = info.context
    workspace, ids = same_workspace(input.lead_ids, "Lead", "leadIds")
    stage = required_id(input.stage_id, "Stage", "stageId", workspace)
    leads = await ctx.services.pipelines.move_leads(
        ctx.principal, workspace, ids, stage, reason=input.reason
    )
    return LeadsPayload(
        leads=[Lead.of(x) for x in leads], warnings=no_value_warnings(leads, "leadIds[{i}]")
    )
