"""The issue_panel_token mutation: a short-lived token for one member's panel session."""

from __future__ import annotations

from typing import Any

from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import as_payload
from embedcrm.graphql.workspaces.inputs import IssuePanelTokenInput, IssuePanelTokenPayload
from embedcrm.graphql.workspaces.types import Member


async def resolve(info: Info, input: IssuePanelTokenInput) -> IssuePanelTokenPayload:
    services = info.context.services

    async def call() -> Any:
        workspace = parse_global_id(input.workspace_id, expected="Workspace", field="workspaceId")
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
