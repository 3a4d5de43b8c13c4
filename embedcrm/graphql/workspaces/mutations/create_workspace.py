"""The create_workspace mutation: create a workspace, or answer the one with this externalId."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.support import user_errors_in
from embedcrm.graphql.workspaces.inputs import CreateWorkspaceInput, CreateWorkspacePayload
from embedcrm.graphql.workspaces.types import Workspace


@user_errors_in(CreateWorkspacePayload)
async def resolve(info: Info, input: CreateWorkspaceInput) -> CreateWorkspacePayload:
    services = info.context.services
    return CreateWorkspacePayload(
        workspace=Workspace.of(
            await services.workspaces.create_workspace(
                info.context.principal,
                name=input.name,
                external_id=input.external_id,
                currency=input.currency,
                language=input.language,
                locale=input.locale,
            )
        )
    )
