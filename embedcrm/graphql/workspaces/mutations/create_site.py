"""The create_site mutation: a site, or the one with this externalId in the workspace."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import user_errors_in
from embedcrm.graphql.workspaces.inputs import CreateSiteInput, CreateSitePayload
from embedcrm.graphql.workspaces.types import site_type


@user_errors_in(CreateSitePayload)
async def resolve(info: Info, input: CreateSiteInput) -> CreateSitePayload:
    services = info.context.services
    workspace = parse_global_id(input.workspace_id, expected="Workspace", field="workspaceId")
    return CreateSitePayload(
        site=site_type(
            info,
            await services.workspaces.create_site(
                info.context.principal,
                workspace_id=workspace.row_id,
                name=input.name,
                domains=input.domains,
                language=input.language,
                phone_region=input.phone_region,
                external_id=input.external_id,
            ),
        )
    )
