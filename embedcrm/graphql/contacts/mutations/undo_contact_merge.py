"""The undo_contact_merge mutation: undo a merge within a day of it."""

from __future__ import annotations

from typing import Any

from embedcrm.graphql.contacts.inputs import ContactMergePayload
from embedcrm.graphql.contacts.types import ContactMerge
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import DeleteInput
from embedcrm.graphql.support import as_payload, errors_payload, parse_id


async def resolve(info: Info, input: DeleteInput) -> ContactMergePayload:
    ctx = info.context

    async def call() -> Any:
        gid = parse_id(input.id, "ContactMerge")
        return await ctx.services.merges.undo(ctx.principal, gid.workspace_id, gid.row_id)

    return await as_payload(
        call,
        lambda m: ContactMergePayload(merge=ContactMerge.of(m)),
        errors_payload(ContactMergePayload),
    )
