"""GraphQL types of capture: submissions, pushed leads and assignment rules."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from embedcrm.capture import models as capture
from embedcrm.graphql.core import Node
from embedcrm.graphql.ids import to_global_id
from embedcrm.graphql.nodes import loads_visible
from embedcrm.leads import models as lead_models

SubmissionStatus = strawberry.enum(capture.SubmissionStatus, name="SubmissionStatus")

AssignmentRuleKind = strawberry.enum(lead_models.AssignmentRuleKind, name="AssignmentRuleKind")


@strawberry.enum(description="Where a lead the host pushes came from.")
class LeadChannel(enum.Enum):
    CALL = "CALL"
    CHAT = "CHAT"
    SOCIAL = "SOCIAL"
    EMAIL = "EMAIL"
    OTHER = "OTHER"


@strawberry.type(description="A form submission as it arrived, before or without its lead.")
class Submission(Node):
    submission_id: str
    status: SubmissionStatus  # type: ignore[valid-type]
    reason: str | None
    form: str | None
    fields: JSON
    withheld: list[str] = strawberry.field(
        description="Fields never stored: card data, passwords, one-time codes, files (names only)."
    )
    created_at: datetime
    lead_id: strawberry.ID | None

    @classmethod
    def of(cls, row: capture.Submission) -> Submission:
        return cls(
            id=strawberry.ID(to_global_id("Submission", row.workspace_id, row.id)),
            submission_id=row.client_submission_id,
            status=row.status,
            reason=row.failure_reason,
            form=row.payload.get("form"),
            fields=cast(JSON, row.payload.get("fields", {})),
            withheld=list(row.payload.get("withheld", [])),
            created_at=row.created_at,
            lead_id=strawberry.ID(to_global_id("Lead", row.workspace_id, row.lead_id))
            if row.lead_id
            else None,
        )


@strawberry.type
class AssignmentRule:
    kind: AssignmentRuleKind  # type: ignore[valid-type]
    site_id: strawberry.ID | None
    utm_source: str | None
    member_id: strawberry.ID | None

    @classmethod
    def of(cls, row: lead_models.AssignmentRule) -> AssignmentRule:
        ws = row.workspace_id
        return cls(
            kind=row.kind,
            site_id=strawberry.ID(to_global_id("Site", ws, row.site_id)) if row.site_id else None,
            utm_source=row.utm_source,
            member_id=strawberry.ID(to_global_id("Member", ws, row.member_id))
            if row.member_id
            else None,
        )


loads_visible("Submission", Submission.of, lambda s: s.capture.visible_submission)
