"""GraphQL inputs and payloads of capture: submissions, pushed leads and assignment rules."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from embedcrm.graphql.capture.types import (
    AssignmentRule,
    AssignmentRuleKind,
    LeadChannel,
    Submission,
)
from embedcrm.graphql.contacts.types import Contact
from embedcrm.graphql.core import UserError
from embedcrm.graphql.leads.types import Lead


@strawberry.input
class ReleaseSubmissionInput:
    submission_id: strawberry.ID


@strawberry.type
class ReleaseSubmissionPayload:
    submission: Submission | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SourceInput:
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    referrer: str | None = None
    landing_page: str | None = None


@strawberry.input
class CreateLeadInput:
    workspace_id: strawberry.ID
    channel: LeadChannel
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    title: str | None = None
    message: str | None = None
    site_id: strawberry.ID | None = None
    source: SourceInput | None = None
    custom_fields: JSON | None = None


@strawberry.type
class CreateLeadPayload:
    lead: Lead | None = None
    contact: Contact | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class AssignmentRuleInput:
    kind: AssignmentRuleKind  # type: ignore[valid-type]
    site_id: strawberry.ID | None = None
    utm_source: str | None = None
    member_id: strawberry.ID | None = None


@strawberry.input
class SetAssignmentRulesInput:
    workspace_id: strawberry.ID
    rules: list[AssignmentRuleInput]


@strawberry.type
class SetAssignmentRulesPayload:
    rules: list[AssignmentRule] | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
