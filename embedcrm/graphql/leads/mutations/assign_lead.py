"""The assign_lead mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.leads.inputs import AssignLeadInput, LeadPayload
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.support import as_payload, errors_payload, parse_id, scoped_id
from embedcrm.leads import models as lead_models


async def resolve(info: Info, input: AssignLeadInput) -> LeadPayload:
    ctx = info.context

    async def call() -> list[lead_models.Lead]:
        gid = parse_id(input.lead_id, "Lead", "leadId")
        assignee = scoped_id(input.assignee_id, "Member", "assigneeId", gid.workspace_id)
        return await ctx.services.leads.assign_leads(
            ctx.principal, gid.workspace_id, [gid.row_id], assignee
        )

    return await as_payload(
        call, lambda leads: LeadPayload(lead=Lead.of(leads[0])), errors_payload(LeadPayload)
    )
