"""The bulk_assign_leads mutation: assign many leads at once: all of them, or none."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.leads.inputs import BulkAssignLeadsInput, LeadsPayload
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.support import as_payload, errors_payload, same_workspace, scoped_id
from embedcrm.leads import models as lead_models


async def resolve(info: Info, input: BulkAssignLeadsInput) -> LeadsPayload:
    ctx = info.context

    async def call() -> list[lead_models.Lead]:
        workspace, ids = same_workspace(input.lead_ids, "Lead", "leadIds")
        assignee = scoped_id(input.assignee_id, "Member", "assigneeId", workspace)
        return await ctx.services.leads.assign_leads(ctx.principal, workspace, ids, assignee)

    return await as_payload(
        call,
        lambda leads: LeadsPayload(leads=[Lead.of(x) for x in leads]),
        errors_payload(LeadsPayload),
    )
