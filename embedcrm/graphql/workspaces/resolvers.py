"""The bodies of the workspaces query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

import strawberry

from embedcrm.errors import NotFound, ValidationFailed
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import optional_id, workspace_arg
from embedcrm.graphql.workspaces.types import Site, Workspace, site_type


async def workspace(
    info: Info, id: strawberry.ID | None = None, external_id: str | None = None
) -> Workspace | None:
    if external_id is not None:
        if id is not None:
            raise ValidationFailed("Pass id or externalId, not both.", field="externalId")
        found = await info.context.services.workspaces.workspace_by_external_id(external_id)
        if found is None or not info.context.can_see(found.id):
            return None
        return Workspace.of(found)
    requested = optional_id(id, "Workspace", "id")
    workspace_id = info.context.workspace_for(requested.row_id if requested else None)
    try:
        row = await info.context.services.workspaces.get_workspace(
            info.context.principal, workspace_id
        )
    except NotFound:
        return None
    return Workspace.of(row)


async def sites(info: Info, workspace_id: strawberry.ID | None = None) -> list[Site]:
    workspace = info.context.workspace_for(workspace_arg(workspace_id))
    rows = await info.context.services.workspaces.list_sites(workspace)
    return [site_type(info, row) for row in rows]
