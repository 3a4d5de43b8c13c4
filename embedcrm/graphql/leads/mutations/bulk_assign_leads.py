"""The bulk_assign_leads mutation: assign many leads at once: all of them, or none."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.leads.inputs import BulkAssignLeadsInput, LeadsPayload
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.support import (
    same_workspace,
    scoped_id,
    user_errors_in,
)


@user_errors_in(LeadsPayload)
async def resolve(info: Info, input: BulkAssignLeadsInput) -> LeadsPayload:
    ctx = info.context
    workspace, ids = same_workspace(input.lead_ids, "Lead", "leadIds")
    assignee = scoped_id(input.assignee_id, "Member", "assigneeId", workspace)
    return LeadsPayload(
        leads=[
            Lead.of(x)
            for x in await ctx.services.leads.assign_leads(ctx.principal, workspace, ids, assignee)
        ]
    )
