"""The update_crm_settings mutation: let managers change every lead and contact, or only theirs."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.support import user_errors_in, workspace_arg
from embedcrm.graphql.workspaces.inputs import CrmSettingsPayload, UpdateCrmSettingsInput


@user_errors_in(CrmSettingsPayload)
async def resolve(info: Info, input: UpdateCrmSettingsInput) -> CrmSettingsPayload:
    ctx = info.context
    workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
    return CrmSettingsPayload(
        managers_can_edit_all=await ctx.services.workspaces.set_managers_edit_all(
            ctx.principal, workspace, input.managers_can_edit_all
        )
    )
