"""The create_custom_field mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.fields.inputs import CreateCustomFieldInput, CustomFieldPayload
from embedcrm.graphql.fields.types import CustomField
from embedcrm.graphql.support import user_errors_in, workspace_arg


@user_errors_in(CustomFieldPayload)
async def resolve(info: Info, input: CreateCustomFieldInput) -> CustomFieldPayload:
    ctx = info.context
    workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
    return CustomFieldPayload(
        custom_field=CustomField.of(
            await ctx.services.fields.create(
                ctx.principal,
                workspace,
                entity=input.entity,
                key=input.key,
                label=input.label,
                type=input.type,
                options=input.options,
            )
        )
    )
