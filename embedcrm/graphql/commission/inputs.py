"""GraphQL inputs and payloads of commission."""

from __future__ import annotations

from datetime import date

import strawberry

from embedcrm.graphql.commission.types import CommissionBasis, CommissionRule
from embedcrm.graphql.core import UserError


@strawberry.input
class CommissionRuleInput:
    basis: CommissionBasis  # type: ignore[valid-type]
    percent: str
    starts_on: date
    ends_on: date | None = None


@strawberry.input(description="Replace a manager's rules; an empty list removes them.")
class SetCommissionRulesInput:
    member_id: strawberry.ID
    rules: list[CommissionRuleInput]


@strawberry.type
class CommissionRulesPayload:
    rules: list[CommissionRule] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)
