"""The issue_panel_token mutation: a short-lived token for one member's panel session."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import user_errors_in
from embedcrm.graphql.workspaces.inputs import IssuePanelTokenInput, IssuePanelTokenPayload
from embedcrm.graphql.workspaces.types import Member


@user_errors_in(IssuePanelTokenPayload)
async def resolve(info: Info, input: IssuePanelTokenInput) -> IssuePanelTokenPayload:
    services = info.context.services
    workspace = parse_global_id(input.workspace_id, expected="Workspace", field="workspaceId")
    issued = await services.workspaces.issue_panel_token(
        info.context.principal,
        workspace_id=workspace.row_id,
        member_external_id=input.member.external_id,
        member_name=input.member.name,
        member_email=input.member.email,
        role=input.role,
        ttl_seconds=input.ttl_seconds,
        components=input.components,
    )
    return IssuePanelTokenPayload(
        token=issued.token, expires_at=issued.expires_at, member=Member.of(issued.member)
    )
