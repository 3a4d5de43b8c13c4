"""The create_site mutation."""

from __future__ import annotations

from typing import Any

from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import as_payload
from embedcrm.graphql.workspaces.inputs import CreateSiteInput, CreateSitePayload
from embedcrm.graphql.workspaces.types import site_type


async def resolve(info: Info, input: CreateSiteInput) -> CreateSitePayload:
    services = info.context.services

    async def call() -> Any:
        workspace = parse_global_id(input.workspace_id, expected="Workspace", field="workspaceId")
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
