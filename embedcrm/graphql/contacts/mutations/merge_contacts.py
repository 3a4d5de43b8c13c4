"""The merge_contacts mutation: merge mergeId into keepId: timeline, leads, tasks and tags move."""

from __future__ import annotations

from embedcrm.graphql.contacts.inputs import ContactMergePayload, MergeContactsInput
from embedcrm.graphql.contacts.types import ContactMerge
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import (
    parse_id,
    required_id,
    user_errors_in,
)


@user_errors_in(ContactMergePayload)
async def resolve(info: Info, input: MergeContactsInput) -> ContactMergePayload:
    ctx = info.context
    keep = parse_id(input.keep_id, "Contact", "keepId")
    merge = required_id(input.merge_id, "Contact", "mergeId", keep.workspace_id)
    return ContactMergePayload(
        merge=ContactMerge.of(
            await ctx.services.merges.merge(
                ctx.principal, keep.workspace_id, keep_id=keep.row_id, merge_id=merge
            )
        )
    )
