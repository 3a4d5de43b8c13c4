"""GraphQL queries and mutations of one person's data: its export and its erasure."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.permissions import OwnerOnly
from embedcrm.graphql.privacy import mutations, resolvers


@strawberry.type
class PrivacyQuery:
    personal_data = strawberry.field(
        permission_classes=[OwnerOnly],
        resolver=resolvers.personal_data,
        description="Everything kept about one person (owner only).",
    )


@strawberry.type
class PrivacyMutation:
    erase_person = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.erase_person.resolve,
        description="Erase one person from every table; only anonymous counts stay.",
    )
