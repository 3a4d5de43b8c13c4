"""GraphQL queries and mutations of workspaces, their sites and members, panel tokens and CRM settings."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.permissions import OwnerOnly, PlatformOnly
from embedcrm.graphql.workspaces import mutations, resolvers


@strawberry.type
class WorkspaceQuery:
    workspace = strawberry.field(
        resolver=resolvers.workspace,
        description="A workspace by its id, or by the host's externalId (a platform key); a "
        "panel token's own workspace without either. Unknown or foreign ones are null.",
    )


@strawberry.type
class SiteQuery:
    sites = strawberry.field(resolver=resolvers.sites)


@strawberry.type
class WorkspaceMutation:
    create_workspace = strawberry.mutation(
        resolver=mutations.create_workspace.resolve,
        description="Create a workspace, or answer the one with this externalId.",
    )

    create_site = strawberry.mutation(
        resolver=mutations.create_site.resolve,
        description="Create a site, or answer the one with this externalId in the workspace.",
    )

    update_site = strawberry.mutation(
        permission_classes=[PlatformOnly],
        resolver=mutations.update_site.resolve,
        description="Change a site's name, domains, language or phone region (platform).",
    )

    delete_site = strawberry.mutation(
        permission_classes=[PlatformOnly],
        resolver=mutations.delete_site.resolve,
        description="Stop a site answering visitors (platform); its submissions and leads stay.",
    )

    update_workspace = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.update_workspace.resolve,
        description="Change a workspace's name, timezone, currency, locale, working hours or "
        "first-response minutes (platform or OWNER).",
    )

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

    change_member_role = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.change_member_role.resolve,
        description="Give a member another role (platform or OWNER); their live panel tokens "
        "act with the new role.",
    )

    revoke_panel_token = strawberry.mutation(
        permission_classes=[PlatformOnly],
        resolver=mutations.revoke_panel_token.resolve,
        description="Stop one panel token before it expires (platform): it answers 401 from "
        "now on.",
    )

    revoke_panel_sessions = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.revoke_panel_sessions.resolve,
        description="Stop every panel token a member holds (platform or OWNER); tokens issued "
        "afterwards work.",
    )


@strawberry.type
class CrmSettingsMutation:
    update_crm_settings = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.update_crm_settings.resolve,
        description="Let managers change every lead and contact, or only theirs.",
    )
