"""GraphQL queries and mutations of workspaces, their sites and members, panel tokens and CRM settings."""

from __future__ import annotations

import strawberry

from embedcrm.errors import NotFound
from embedcrm.graphql.context import Info
from embedcrm.graphql.permissions import OwnerOnly
from embedcrm.graphql.support import optional_id, workspace_arg
from embedcrm.graphql.workspaces import mutations
from embedcrm.graphql.workspaces.types import Site, Workspace, site_type


@strawberry.type
class WorkspaceQuery:
    @strawberry.field
    async def workspace(self, info: Info, id: strawberry.ID | None = None) -> Workspace | None:
        requested = optional_id(id, "Workspace", "id")
        workspace_id = info.context.workspace_for(requested.row_id if requested else None)
        try:
            row = await info.context.services.workspaces.get_workspace(
                info.context.principal, workspace_id
            )
        except NotFound:
            return None
        return Workspace.of(row)


@strawberry.type
class SiteQuery:
    @strawberry.field
    async def sites(self, info: Info, workspace_id: strawberry.ID | None = None) -> list[Site]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        rows = await info.context.services.workspaces.list_sites(workspace)
        return [site_type(info, row) for row in rows]


@strawberry.type
class WorkspaceMutation:
    create_workspace = strawberry.mutation(
        resolver=mutations.create_workspace.resolve,
        description="Create a workspace, or answer the one with this externalId.",
    )

    create_site = strawberry.mutation(resolver=mutations.create_site.resolve)

    issue_panel_token = strawberry.mutation(
        resolver=mutations.issue_panel_token.resolve,
        description="A short-lived token for one member's panel session.",
    )

    deactivate_member = strawberry.mutation(
        resolver=mutations.deactivate_member.resolve,
        description="A member who left (platform or OWNER): their tokens stop working and "
        "nothing new is assigned to them; their history and leads stay.",
    )

    reactivate_member = strawberry.mutation(
        resolver=mutations.reactivate_member.resolve,
        description="Undo deactivateMember (platform or OWNER).",
    )


@strawberry.type
class CrmSettingsMutation:
    update_crm_settings = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.update_crm_settings.resolve,
        description="Let managers change every lead and contact, or only theirs.",
    )
