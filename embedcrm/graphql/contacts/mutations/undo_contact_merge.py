"""The undo_contact_merge mutation: undo a merge within a day of it."""

from __future__ import annotations

from embedcrm.graphql.contacts.inputs import ContactMergePayload
from embedcrm.graphql.contacts.types import ContactMerge
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import DeleteInput
from embedcrm.graphql.support import parse_id, user_errors_in


@user_errors_in(ContactMergePayload)
async def resolve(info: Info, input: DeleteInput) -> ContactMergePayload:
    ctx = info.context
    gid = parse_id(input.id, "ContactMerge")
    return ContactMergePayload(
        merge=ContactMerge.of(
            await ctx.services.merges.undo(ctx.principal, gid.workspace_id, gid.row_id)
        )
    )
