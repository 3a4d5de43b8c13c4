"""GraphQL inputs and payloads of custom fields, tags and segments."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.contacts.inputs import ContactFilter
from embedcrm.graphql.contacts.types import Contact
from embedcrm.graphql.core import UserError
from embedcrm.graphql.fields.types import CustomField, FieldEntity, FieldType, Segment
from embedcrm.graphql.leads.inputs import LeadFilter
from embedcrm.graphql.leads.types import Lead


@strawberry.type
class TagRecordsPayload:
    leads: list[Lead] = strawberry.field(default_factory=list)
    contacts: list[Contact] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CustomFieldPayload:
    custom_field: CustomField | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SegmentPayload:
    segment: Segment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class TagRecordsInput:
    ids: list[strawberry.ID] = strawberry.field(description="Leads and contacts.")
    add: list[str] = strawberry.field(default_factory=list)
    remove: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class CreateCustomFieldInput:
    entity: FieldEntity  # type: ignore[valid-type]
    key: str
    label: str
    type: FieldType  # type: ignore[valid-type]
    options: list[str] = strawberry.field(default_factory=list)
    workspace_id: strawberry.ID | None = None


@strawberry.input
class UpdateCustomFieldInput:
    id: strawberry.ID
    label: str | None = None
    options: list[str] | None = None


@strawberry.input
class CreateSegmentInput:
    name: str
    lead_filter: LeadFilter | None = None
    contact_filter: ContactFilter | None = None
    workspace_id: strawberry.ID | None = None


@strawberry.input
class UpdateSegmentInput:
    id: strawberry.ID
    name: str | None = None
    lead_filter: LeadFilter | None = None
    contact_filter: ContactFilter | None = None
