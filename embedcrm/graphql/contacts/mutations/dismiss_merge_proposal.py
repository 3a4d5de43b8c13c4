"""The dismiss_merge_proposal mutation."""

from __future__ import annotations

from typing import Any

from embedcrm.graphql.contacts.inputs import MergeProposalPayload
from embedcrm.graphql.contacts.types import MergeProposal
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import DeleteInput
from embedcrm.graphql.support import as_payload, errors_payload, parse_id


async def resolve(info: Info, input: DeleteInput) -> MergeProposalPayload:
    ctx = info.context

    async def call() -> Any:
        gid = parse_id(input.id, "MergeProposal")
        return await ctx.services.merges.dismiss_proposal(
            ctx.principal, gid.workspace_id, gid.row_id
        )

    return await as_payload(
        call,
        lambda p: MergeProposalPayload(proposal=MergeProposal.of(p)),
        errors_payload(MergeProposalPayload),
    )
