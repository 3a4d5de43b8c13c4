"""The erase_person mutation: erase one person from every table; only anonymous counts stay."""

from __future__ import annotations

from typing import Any

from embedcrm.graphql.context import Info
from embedcrm.graphql.privacy.inputs import ErasePersonInput, ErasePersonPayload
from embedcrm.graphql.privacy.types import Erasure
from embedcrm.graphql.support import as_payload, errors_payload, parse_id


async def resolve(info: Info, input: ErasePersonInput) -> ErasePersonPayload:
    ctx = info.context

    async def call() -> Any:
        gid = parse_id(input.contact_id, "Contact", "contactId")
        return await ctx.services.privacy.erase_person(ctx.principal, gid.workspace_id, gid.row_id)

    return await as_payload(
        call,
        lambda e: ErasePersonPayload(erasure=Erasure.of(e)),
        errors_payload(ErasePersonPayload),
    )
