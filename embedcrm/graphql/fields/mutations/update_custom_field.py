"""The update_custom_field mutation."""

from __future__ import annotations

from typing import Any

from embedcrm.graphql.context import Info
from embedcrm.graphql.fields.inputs import CustomFieldPayload, UpdateCustomFieldInput
from embedcrm.graphql.fields.types import CustomField
from embedcrm.graphql.support import as_payload, errors_payload, parse_id


async def resolve(info: Info, input: UpdateCustomFieldInput) -> CustomFieldPayload:
    ctx = info.context

    async def call() -> Any:
        gid = parse_id(input.id, "CustomField")
        return await ctx.services.fields.update(
            ctx.principal,
            gid.workspace_id,
            gid.row_id,
            label=input.label,
            options=input.options,
        )

    return await as_payload(
        call,
        lambda f: CustomFieldPayload(custom_field=CustomField.of(f)),
        errors_payload(CustomFieldPayload),
    )
