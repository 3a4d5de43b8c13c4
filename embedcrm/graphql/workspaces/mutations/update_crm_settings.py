"""The update_crm_settings mutation: let managers change every lead and contact, or only theirs."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.support import as_payload, errors_payload, workspace_arg
from embedcrm.graphql.workspaces.inputs import CrmSettingsPayload, UpdateCrmSettingsInput


async def resolve(info: Info, input: UpdateCrmSettingsInput) -> CrmSettingsPayload:
    ctx = info.context

    async def call() -> bool:
        workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
        return await ctx.services.workspaces.set_managers_edit_all(
            ctx.principal, workspace, input.managers_can_edit_all
        )

    return await as_payload(
        call,
        lambda v: CrmSettingsPayload(managers_can_edit_all=v),
        errors_payload(CrmSettingsPayload),
    )
