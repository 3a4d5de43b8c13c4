"""The merge_contacts mutation: merge mergeId into keepId: timeline, leads, tasks and tags move."""

from __future__ import annotations

from typing import Any

from embedcrm.graphql.contacts.inputs import ContactMergePayload, MergeContactsInput
from embedcrm.graphql.contacts.types import ContactMerge
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import as_payload, errors_payload, parse_id, required_id


async def resolve(info: Info, input: MergeContactsInput) -> ContactMergePayload:
    ctx = info.context

    async def call() -> Any:
        keep = parse_id(input.keep_id, "Contact", "keepId")
        merge = required_id(input.merge_id, "Contact", "mergeId", keep.workspace_id)
        return await ctx.services.merges.merge(
            ctx.principal, keep.workspace_id, keep_id=keep.row_id, merge_id=merge
        )

    return await as_payload(
        call,
        lambda m: ContactMergePayload(merge=ContactMerge.of(m)),
        errors_payload(ContactMergePayload),
    )
