"""GraphQL inputs and payloads of the 1C exchange."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.core import UserError
from embedcrm.graphql.exchange.types import OneCExchange


@strawberry.input
class SetOneCExchangeInput:
    login: str
    password: str = strawberry.field(description="8 to 200 characters; stored hashed.")
    workspace_id: strawberry.ID | None = None


@strawberry.type
class OneCExchangePayload:
    exchange: OneCExchange | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
