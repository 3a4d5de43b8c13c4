"""GraphQL queries and mutations of workspaces, their sites and members, panel tokens and CRM settings."""

from __future__ import annotations

from typing import Any

import strawberry

from embedcrm.errors import NotFound
from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import as_payload, errors_payload, optional_id, workspace_arg
from embedcrm.graphql.workspaces.inputs import (
    CreateSiteInput,
    CreateSitePayload,
    CreateWorkspaceInput,
    CreateWorkspacePayload,
    CrmSettingsPayload,
    IssuePanelTokenInput,
    IssuePanelTokenPayload,
    MemberInput,
    MemberPayload,
    UpdateCrmSettingsInput,
    set_member_active,
)
from embedcrm.graphql.workspaces.types import Member, Site, Workspace, site_type


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
    @strawberry.mutation(description="Create a workspace, or answer the one with this externalId.")
    async def create_workspace(
        self, info: Info, input: CreateWorkspaceInput
    ) -> CreateWorkspacePayload:
        services = info.context.services
        return await as_payload(
            lambda: services.workspaces.create_workspace(
                info.context.principal,
                name=input.name,
                external_id=input.external_id,
                currency=input.currency,
                language=input.language,
            ),
            lambda row: CreateWorkspacePayload(workspace=Workspace.of(row)),
            lambda errors: CreateWorkspacePayload(user_errors=errors),
        )

    @strawberry.mutation
    async def create_site(self, info: Info, input: CreateSiteInput) -> CreateSitePayload:
        services = info.context.services

        async def call() -> Any:
            workspace = parse_global_id(
                input.workspace_id, expected="Workspace", field="workspaceId"
            )
            return await services.workspaces.create_site(
                info.context.principal,
                workspace_id=workspace.row_id,
                name=input.name,
                domains=input.domains,
                language=input.language,
                phone_region=input.phone_region,
            )

        return await as_payload(
            call,
            lambda row: CreateSitePayload(site=site_type(info, row)),
            lambda errors: CreateSitePayload(user_errors=errors),
        )

    @strawberry.mutation(description="A short-lived token for one member's panel session.")
    async def issue_panel_token(
        self, info: Info, input: IssuePanelTokenInput
    ) -> IssuePanelTokenPayload:
        services = info.context.services

        async def call() -> Any:
            workspace = parse_global_id(
                input.workspace_id, expected="Workspace", field="workspaceId"
            )
            return await services.workspaces.issue_panel_token(
                info.context.principal,
                workspace_id=workspace.row_id,
                member_external_id=input.member.external_id,
                member_name=input.member.name,
                member_email=input.member.email,
                role=input.role,
                ttl_seconds=input.ttl_seconds,
            )

        return await as_payload(
            call,
            lambda issued: IssuePanelTokenPayload(
                token=issued.token, expires_at=issued.expires_at, member=Member.of(issued.member)
            ),
            lambda errors: IssuePanelTokenPayload(user_errors=errors),
        )

    @strawberry.mutation(
        description="A member who left (platform or OWNER): their tokens stop working and "
        "nothing new is assigned to them; their history and leads stay."
    )
    async def deactivate_member(self, info: Info, input: MemberInput) -> MemberPayload:
        return await set_member_active(info, input, active=False)

    @strawberry.mutation(description="Undo deactivateMember (platform or OWNER).")
    async def reactivate_member(self, info: Info, input: MemberInput) -> MemberPayload:
        return await set_member_active(info, input, active=True)


@strawberry.type
class CrmSettingsMutation:
    @strawberry.mutation(description="Let managers change every lead and contact, or only theirs.")
    async def update_crm_settings(
        self, info: Info, input: UpdateCrmSettingsInput
    ) -> CrmSettingsPayload:
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
