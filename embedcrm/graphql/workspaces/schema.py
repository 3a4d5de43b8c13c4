"""GraphQL queries and mutations of workspaces, their sites and members, panel tokens and CRM settings."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.permissions import OwnerOnly
from embedcrm.graphql.workspaces import mutations, resolvers


@strawberry.type
class WorkspaceQuery:
    workspace = strawberry.field(resolver=resolvers.workspace)


@strawberry.type
class SiteQuery:
    sites = strawberry.field(resolver=resolvers.sites)


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
