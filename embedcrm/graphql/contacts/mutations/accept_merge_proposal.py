"""The accept_merge_proposal mutation."""

from __future__ import annotations

from embedcrm.graphql.contacts.inputs import AcceptMergeProposalInput, ContactMergePayload
from embedcrm.graphql.contacts.types import ContactMerge
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import parse_id, scoped_id, user_errors_in


@user_errors_in(ContactMergePayload)
async def resolve(info: Info, input: AcceptMergeProposalInput) -> ContactMergePayload:
    ctx = info.context
    gid = parse_id(input.id, "MergeProposal")
    keep = scoped_id(input.keep_id, "Contact", "keepId", gid.workspace_id)
    return ContactMergePayload(
        merge=ContactMerge.of(
            await ctx.services.merges.accept_proposal(
                ctx.principal, gid.workspace_id, gid.row_id, keep_id=keep
            )
        )
    )
