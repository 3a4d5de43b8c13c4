"""The create_workspace mutation: create a workspace, or answer the one with this externalId."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.support import as_payload
from embedcrm.graphql.workspaces.inputs import CreateWorkspaceInput, CreateWorkspacePayload
from embedcrm.graphql.workspaces.types import Workspace


async def resolve(info: Info, input: CreateWorkspaceInput) -> CreateWorkspacePayload:
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
