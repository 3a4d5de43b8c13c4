"""GraphQL queries and mutations of one person's data: its export and its erasure."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from embedcrm.graphql.context import Info
from embedcrm.graphql.privacy.inputs import ErasePersonInput, ErasePersonPayload
from embedcrm.graphql.privacy.types import Erasure
from embedcrm.graphql.support import as_payload, errors_payload, parse_id


@strawberry.type
class PrivacyQuery:
    @strawberry.field(description="Everything kept about one person (owner only).")
    async def personal_data(self, info: Info, contact_id: strawberry.ID) -> JSON:
        gid = parse_id(contact_id, "Contact", "contactId")
        data = await info.context.services.privacy.export_person(
            info.context.principal, gid.workspace_id, gid.row_id
        )
        return cast(JSON, data)


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        description="Erase one person from every table; only anonymous counts stay."
    )
    async def erase_person(self, info: Info, input: ErasePersonInput) -> ErasePersonPayload:
        ctx = info.context

        async def call() -> Any:
            gid = parse_id(input.contact_id, "Contact", "contactId")
            return await ctx.services.privacy.erase_person(
                ctx.principal, gid.workspace_id, gid.row_id
            )

        return await as_payload(
            call,
            lambda e: ErasePersonPayload(erasure=Erasure.of(e)),
            errors_payload(ErasePersonPayload),
        )
