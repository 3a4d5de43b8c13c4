"""GraphQL queries and mutations of one person's data: its export and its erasure."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.scalars import JSON

from embedcrm.graphql.context import Info
from embedcrm.graphql.permissions import OwnerOnly
from embedcrm.graphql.privacy import mutations
from embedcrm.graphql.support import parse_id


@strawberry.type
class PrivacyQuery:
    @strawberry.field(
        description="Everything kept about one person (owner only).",
        permission_classes=[OwnerOnly],
    )
    async def personal_data(self, info: Info, contact_id: strawberry.ID) -> JSON:
        gid = parse_id(contact_id, "Contact", "contactId")
        data = await info.context.services.privacy.export_person(
            info.context.principal, gid.workspace_id, gid.row_id
        )
        return cast(JSON, data)


@strawberry.type
class PrivacyMutation:
    erase_person = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.erase_person.resolve,
        description="Erase one person from every table; only anonymous counts stay.",
    )
