"""GraphQL for capture: quarantined submissions, leads pushed by the host, assignment rules."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from embedcrm.auth import require_role
from embedcrm.capture import models as capture
from embedcrm.capture.person import person_from_fields
from embedcrm.graphql.contacts.types import Contact
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, Node, UserError
from embedcrm.graphql.ids import parse_global_id, to_global_id
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.support import (
    DEFAULT_PAGE_SIZE,
    as_payload,
    connection,
    optional_id,
    workspace_arg,
)
from embedcrm.leads import models as lead_models
from embedcrm.leads.assignment import RuleSpec
from embedcrm.leads.service import Attribution
from embedcrm.workspaces.models import Role

SubmissionStatus = strawberry.enum(capture.SubmissionStatus, name="SubmissionStatus")
AssignmentRuleKind = strawberry.enum(lead_models.AssignmentRuleKind, name="AssignmentRuleKind")
WRITERS = (Role.OWNER, Role.MANAGER)


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


@strawberry.type
class CaptureQuery:
    @strawberry.field(
        description=(
            "Submissions, newest first; QUARANTINED shows what the spam checks held back, "
            "REFUSED what a form's own required fields turned away."
        )
    )
    async def submissions(
        self,
        info: Info,
        status: SubmissionStatus | None = None,  # type: ignore[valid-type]
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> Connection[Submission]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        capture_service = info.context.services.capture
        page = await capture_service.submissions_page(workspace, status, first=first, after=after)

        async def count() -> int:
            return await capture_service.count_submissions(workspace, status)

        return connection(page, Submission.of, count)

    @strawberry.field(description="The rules that choose who gets a new lead, in order.")
    async def assignment_rules(
        self, info: Info, workspace_id: strawberry.ID | None = None
    ) -> list[AssignmentRule]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        rows = await info.context.services.assignment.rules(workspace)
        return [AssignmentRule.of(row) for row in rows]


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


@strawberry.type
class CaptureMutation:
    @strawberry.mutation(description="Take a submission out of quarantine and make its lead.")
    async def release_submission(
        self,
        info: Info,
        input: ReleaseSubmissionInput,
    ) -> ReleaseSubmissionPayload:
        context = info.context

        async def call() -> capture.Submission:
            gid = parse_global_id(input.submission_id, expected="Submission", field="submissionId")
            require_role(context.principal, gid.workspace_id, *WRITERS)
            return await context.services.capture.release(gid.workspace_id, gid.row_id)

        return await as_payload(
            call,
            lambda row: ReleaseSubmissionPayload(submission=Submission.of(row)),
            lambda errors: ReleaseSubmissionPayload(user_errors=errors),
        )

    @strawberry.mutation(
        description="A lead from a call, a chat or a social network, deduplicated and assigned "
        "like a form submission."
    )
    async def create_lead(
        self,
        info: Info,
        input: CreateLeadInput,
    ) -> CreateLeadPayload:
        context = info.context

        async def call() -> Any:
            workspace = parse_global_id(
                input.workspace_id, expected="Workspace", field="workspaceId"
            )
            require_role(context.principal, workspace.row_id, *WRITERS)
            site = optional_id(input.site_id, "Site", "siteId")
            person = person_from_fields(
                {
                    "name": input.name,
                    "email": input.email,
                    "phone": input.phone,
                    "company": input.company,
                },
                phone_region="RU",
            )
            source = input.source or SourceInput()
            return await context.services.capture.create_lead_from_channel(
                workspace.row_id,
                person=person,
                attribution=Attribution(
                    utm_source=source.utm_source,
                    utm_medium=source.utm_medium,
                    utm_campaign=source.utm_campaign,
                    utm_term=source.utm_term,
                    utm_content=source.utm_content,
                    referrer=source.referrer,
                    landing_page=source.landing_page,
                ),
                channel=input.channel.value,
                title=input.title,
                message=input.message,
                site_id=site.row_id if site else None,
                custom_fields=dict(cast(dict[str, Any], input.custom_fields or {})),
            )

        return await as_payload(
            call,
            lambda created: CreateLeadPayload(
                lead=Lead.of(created.lead), contact=Contact.of(created.contact)
            ),
            lambda errors: CreateLeadPayload(user_errors=errors),
        )

    @strawberry.mutation(description="Replace the workspace's assignment rules (OWNER).")
    async def set_assignment_rules(
        self,
        info: Info,
        input: SetAssignmentRulesInput,
    ) -> SetAssignmentRulesPayload:
        context = info.context

        async def call() -> list[lead_models.AssignmentRule]:
            workspace = parse_global_id(
                input.workspace_id, expected="Workspace", field="workspaceId"
            )
            require_role(context.principal, workspace.row_id, Role.OWNER)
            specs = []
            for index, rule in enumerate(input.rules):
                site = optional_id(rule.site_id, "Site", f"rules.{index}.siteId")
                member = optional_id(rule.member_id, "Member", f"rules.{index}.memberId")
                specs.append(
                    RuleSpec(
                        kind=rule.kind,
                        site_id=site.row_id if site else None,
                        utm_source=rule.utm_source,
                        member_id=member.row_id if member else None,
                    )
                )
            return await context.services.assignment.set_rules(workspace.row_id, specs)

        return await as_payload(
            call,
            lambda rows: SetAssignmentRulesPayload(rules=[AssignmentRule.of(r) for r in rows]),
            lambda errors: SetAssignmentRulesPayload(user_errors=errors),
        )
