"""The erase_person mutation: erase one person from every table; only anonymous counts stay."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.privacy.inputs import ErasePersonInput, ErasePersonPayload
from embedcrm.graphql.privacy.types import Erasure
from embedcrm.graphql.support import parse_id, user_errors_in


@user_errors_in(ErasePersonPayload)
async def resolve(info: Info, input: ErasePersonInput) -> ErasePersonPayload:
    ctx = info.context
    gid = parse_id(input.contact_id, "Contact", "contactId")
    return ErasePersonPayload(
        erasure=Erasure.of(
            await ctx.services.privacy.erase_person(ctx.principal, gid.workspace_id, gid.row_id)
        )
    )
