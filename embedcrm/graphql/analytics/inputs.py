"""GraphQL inputs and payloads of analytics: reports and ad spend."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry

from embedcrm.analytics.repository import Scope
from embedcrm.graphql.analytics.types import AdSpend
from embedcrm.graphql.core import UserError
from embedcrm.graphql.support import optional_id


@strawberry.input(description="The period is half-open: from ≤ t < to.")
class AnalyticsFilter:
    from_: datetime = strawberry.field(name="from")
    to: datetime
    site_id: strawberry.ID | None = None
    pipeline_id: strawberry.ID | None = None
    source: str | None = strawberry.field(default=None, description="utm_source of the lead.")
    manager_id: strawberry.ID | None = strawberry.field(default=None, description="The assignee.")


def scope_of(value: AnalyticsFilter, workspace_id: uuid.UUID) -> Scope:
    def row_id(raw: strawberry.ID | None, type_name: str, field: str) -> uuid.UUID | None:
        parsed = optional_id(raw, type_name, field)
        if parsed is None:
            return None
        # An id of another workspace matches nothing, exactly like an unknown one.
        return parsed.row_id if parsed.workspace_id == workspace_id else uuid.UUID(int=0)

    return Scope(
        starts=value.from_,
        ends=value.to,
        site_id=row_id(value.site_id, "Site", "filter.siteId"),
        pipeline_id=row_id(value.pipeline_id, "Pipeline", "filter.pipelineId"),
        source=value.source,
        manager_id=row_id(value.manager_id, "Member", "filter.managerId"),
    )


@strawberry.input
class RecordAdSpendInput:
    workspace_id: strawberry.ID | None = None
    source: str
    campaign: str | None = None
    starts_on: date
    ends_on: date = strawberry.field(description="Included.")
    amount: str
    currency: str | None = None


@strawberry.type
class RecordAdSpendPayload:
    ad_spend: AdSpend | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ImportAdSpendInput:
    workspace_id: strawberry.ID | None = None
    csv: str = strawberry.field(
        description="Header source,campaign,starts_on,ends_on,amount[,currency]; all or nothing."
    )


@strawberry.type
class ImportAdSpendPayload:
    ad_spend: list[AdSpend] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class DeleteAdSpendInput:
    id: strawberry.ID


@strawberry.type
class DeleteAdSpendPayload:
    deleted_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetLeadExpectedCloseInput:
    lead_id: strawberry.ID
    expected_close_at: datetime | None = None


@strawberry.type
class SetLeadExpectedClosePayload:
    lead_id: strawberry.ID | None = None
    expected_close_at: datetime | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
