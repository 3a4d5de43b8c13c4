"""The dismiss_merge_proposal mutation."""

from __future__ import annotations

from embedcrm.graphql.contacts.inputs import MergeProposalPayload
from embedcrm.graphql.contacts.types import MergeProposal
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import DeleteInput
from embedcrm.graphql.support import parse_id, user_errors_in


@user_errors_in(MergeProposalPayload)
async def resolve(info: Info, input: DeleteInput) -> MergeProposalPayload:
    ctx = info.context
    gid = parse_id(input.id, "MergeProposal")
    return MergeProposalPayload(
        proposal=MergeProposal.of(
            await ctx.services.merges.dismiss_proposal(ctx.principal, gid.workspace_id, gid.row_id)
        )
    )
