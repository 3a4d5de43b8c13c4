"""The create_custom_field mutation."""

from __future__ import annotations

from typing import Any

from embedcrm.graphql.context import Info
from embedcrm.graphql.fields.inputs import CreateCustomFieldInput, CustomFieldPayload
from embedcrm.graphql.fields.types import CustomField
from embedcrm.graphql.support import as_payload, errors_payload, workspace_arg


async def resolve(info: Info, input: CreateCustomFieldInput) -> CustomFieldPayload:
    ctx = info.context

    async def call() -> Any:
        workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
        return await ctx.services.fields.create(
            ctx.principal,
            workspace,
            entity=input.entity,
            key=input.key,
            label=input.label,
            type=input.type,
            options=input.options,
        )

    return await as_payload(
        call,
        lambda f: CustomFieldPayload(custom_field=CustomField.of(f)),
        errors_payload(CustomFieldPayload),
    )
