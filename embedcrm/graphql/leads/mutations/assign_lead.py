"""The assign_lead mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.leads.inputs import AssignLeadInput, LeadPayload
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.support import parse_id, scoped_id, user_errors_in


@user_errors_in(LeadPayload)
async def resolve(info: Info, input: AssignLeadInput) -> LeadPayload:
    ctx = info.context
    gid = parse_id(input.lead_id, "Lead", "leadId")
    assignee = scoped_id(input.assignee_id, "Member", "assigneeId", gid.workspace_id)
    return LeadPayload(
        lead=Lead.of(
            (
                await ctx.services.leads.assign_leads(
                    ctx.principal, gid.workspace_id, [gid.row_id], assignee
                )
            )[0]
        )
    )
