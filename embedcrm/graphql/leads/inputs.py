"""GraphQL inputs and payloads of leads: the card, its cart, its timeline, its stage history and the lead list."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from embedcrm.fields.filters import LeadSpec
from embedcrm.graphql.core import UserError
from embedcrm.graphql.fields.filters import CustomFieldFilter, custom_conditions, optional_money
from embedcrm.graphql.leads.types import Activity, ActivityKind, Lead, LeadStatus
from embedcrm.graphql.support import UNSET, scoped_id


def lead_spec(value: Any, workspace_id: uuid.UUID) -> LeadSpec:
    """LeadFilter (schema.py) -> LeadSpec; ``value`` is duck-typed to keep imports one way."""
    if value is None:
        return LeadSpec()
    ws = workspace_id
    return LeadSpec(
        pipeline_id=scoped_id(value.pipeline_id, "Pipeline", "filter.pipelineId", ws),
        stage_id=scoped_id(value.stage_id, "Stage", "filter.stageId", ws),
        status=value.status,
        site_id=scoped_id(value.site_id, "Site", "filter.siteId", ws),
        assignee_id=scoped_id(value.assignee_id, "Member", "filter.assigneeId", ws),
        unassigned=bool(value.unassigned),
        contact_id=scoped_id(value.contact_id, "Contact", "filter.contactId", ws),
        utm_source=value.utm_source,
        utm_medium=value.utm_medium,
        utm_campaign=value.utm_campaign,
        channel=value.channel,
        close_reason=(value.close_reason or "").strip() or None,
        tags=tuple(value.tags or ()),
        search=value.search,
        value_min=optional_money(value.value_min, "filter.valueMin"),
        value_max=optional_money(value.value_max, "filter.valueMax"),
        created_from=value.created_from,
        created_to=value.created_to,
        custom=custom_conditions(value.custom),
    )


@strawberry.input
class LeadFilter:
    site_id: strawberry.ID | None = None
    status: LeadStatus | None = None  # type: ignore[valid-type]
    stage_id: strawberry.ID | None = None
    assignee_id: strawberry.ID | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    pipeline_id: strawberry.ID | None = None
    unassigned: bool = False
    contact_id: strawberry.ID | None = None
    channel: str | None = None
    close_reason: str | None = strawberry.field(
        default=None, description="Won or lost with this reason (as given, exactly)."
    )
    tags: list[str] | None = strawberry.field(default=None, description="Has every one of these.")
    search: str | None = strawberry.field(
        default=None, description="Title, or the contact's name, e-mail, phone or company."
    )
    value_min: str | None = None
    value_max: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    custom: list[CustomFieldFilter] | None = None


@strawberry.type
class LeadPayload:
    lead: Lead | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
    warnings: list[UserError] = strawberry.field(
        default_factory=list,
        description="Done, but worth a look: e.g. won with no value (code won_without_value).",
    )


@strawberry.type
class LeadsPayload:
    leads: list[Lead] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)
    warnings: list[UserError] = strawberry.field(
        default_factory=list,
        description="Done, but worth a look: e.g. won with no value (code won_without_value).",
    )


@strawberry.type
class ActivityPayload:
    activity: Activity | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateLeadInput:
    id: strawberry.ID
    title: str | None = UNSET
    value: str | None = strawberry.field(default=UNSET, description="A decimal string.")
    currency: str | None = UNSET
    payment_method: str | None = UNSET
    ordered_at: datetime | None = UNSET
    delivery_method: str | None = UNSET
    delivery_address: str | None = UNSET
    delivery_from: datetime | None = UNSET
    delivery_to: datetime | None = UNSET
    custom_fields: JSON | None = strawberry.field(
        default=UNSET, description="Keys to set; a null value removes the key."
    )


@strawberry.input(
    description="A cart line. With productId the catalogue fills the name, SKU, price and "
    "cost the line leaves out, as a snapshot; without it the line is free text."
)
class LeadItemInput:
    product: str = ""
    quantity: str = "1"
    unit_price: str | None = None
    sku: str | None = None
    unit_cost: str | None = None
    product_id: strawberry.ID | None = None


@strawberry.input
class SetLeadItemsInput:
    lead_id: strawberry.ID
    items: list[LeadItemInput]


@strawberry.input
class AssignLeadInput:
    lead_id: strawberry.ID
    assignee_id: strawberry.ID | None


@strawberry.input
class BulkAssignLeadsInput:
    lead_ids: list[strawberry.ID]
    assignee_id: strawberry.ID | None


@strawberry.input
class AddActivityInput:
    kind: ActivityKind  # type: ignore[valid-type]
    body: str
    lead_id: strawberry.ID | None = None
    contact_id: strawberry.ID | None = None
    occurred_at: datetime | None = None
    data: JSON | None = None
