"""The accept_merge_proposal mutation."""

from __future__ import annotations

from typing import Any

from embedcrm.graphql.contacts.inputs import AcceptMergeProposalInput, ContactMergePayload
from embedcrm.graphql.contacts.types import ContactMerge
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import as_payload, errors_payload, parse_id, scoped_id


async def resolve(info: Info, input: AcceptMergeProposalInput) -> ContactMergePayload:
    ctx = info.context

    async def call() -> Any:
        gid = parse_id(input.id, "MergeProposal")
        keep = scoped_id(input.keep_id, "Contact", "keepId", gid.workspace_id)
        return await ctx.services.merges.accept_proposal(
            ctx.principal, gid.workspace_id, gid.row_id, keep_id=keep
        )

    return await as_payload(
        call,
        lambda m: ContactMergePayload(merge=ContactMerge.of(m)),
        errors_payload(ContactMergePayload),
    )
