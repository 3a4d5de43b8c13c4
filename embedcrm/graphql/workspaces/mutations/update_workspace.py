"""The update_workspace mutation: name, timezone, currency, locale, working hours and the
first-response time of a workspace (the platform or an OWNER)."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.support import user_errors_in, workspace_arg
from embedcrm.graphql.workspaces.inputs import UpdateWorkspaceInput, UpdateWorkspacePayload
from embedcrm.graphql.workspaces.types import Workspace
from embedcrm.workspaces.service import WorkingHours


@user_errors_in(UpdateWorkspacePayload)
async def resolve(info: Info, input: UpdateWorkspaceInput) -> UpdateWorkspacePayload:
    ctx = info.context
    workspace_id = ctx.workspace_for(workspace_arg(input.workspace_id))
    hours = (
        None
        if input.working_hours is None
        else [WorkingHours(day.weekday, day.opens, day.closes) for day in input.working_hours]
    )
    row = await ctx.services.workspaces.update_workspace(
        ctx.principal,
        workspace_id,
        name=input.name,
        timezone=input.timezone,
        currency=input.currency,
        locale=input.locale,
        working_hours=hours,
        first_response_minutes=input.first_response_minutes,
    )
    return UpdateWorkspacePayload(workspace=Workspace.of(row))
