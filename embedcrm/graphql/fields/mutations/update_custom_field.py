"""The update_custom_field mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.fields.inputs import CustomFieldPayload, UpdateCustomFieldInput
from embedcrm.graphql.fields.types import CustomField
from embedcrm.graphql.support import parse_id, user_errors_in


@user_errors_in(CustomFieldPayload)
async def resolve(info: Info, input: UpdateCustomFieldInput) -> CustomFieldPayload:
    ctx = info.context
    gid = parse_id(input.id, "CustomField")
    return CustomFieldPayload(
        custom_field=CustomField.of(
            await ctx.services.fields.update(
                ctx.principal,
                gid.workspace_id,
                gid.row_id,
                label=input.label,
                options=input.options,
            )
        )
    )
