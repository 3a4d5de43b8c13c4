"""GraphQL for capture: quarantined submissions, leads pushed by the host, assignment rules."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.capture import mutations
from embedcrm.graphql.capture.types import AssignmentRule, Submission, SubmissionStatus
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection
from embedcrm.graphql.permissions import OwnerOnly, WritersOnly
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, connection, workspace_arg


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
        principal = info.context.principal
        page = await capture_service.submissions_page(
            principal, workspace, status, first=first, after=after
        )

        async def count() -> int:
            return await capture_service.count_submissions(principal, workspace, status)

        return connection(page, Submission.of, count)

    @strawberry.field(description="The rules that choose who gets a new lead, in order.")
    async def assignment_rules(
        self, info: Info, workspace_id: strawberry.ID | None = None
    ) -> list[AssignmentRule]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        rows = await info.context.services.assignment.rules(workspace)
        return [AssignmentRule.of(row) for row in rows]


@strawberry.type
class CaptureMutation:
    release_submission = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.release_submission.resolve,
        description="Take a submission out of quarantine and make its lead.",
    )

    create_lead = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.create_lead.resolve,
        description="A lead from a call, a chat or a social network, deduplicated and assigned "
        "like a form submission.",
    )

    set_assignment_rules = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.set_assignment_rules.resolve,
        description="Replace the workspace's assignment rules (OWNER).",
    )
