"""GraphQL inputs and payloads of one person's data: its export and its erasure."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.core import UserError
from embedcrm.graphql.privacy.types import Erasure


@strawberry.type
class ErasePersonPayload:
    erasure: Erasure | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ErasePersonInput:
    contact_id: strawberry.ID
