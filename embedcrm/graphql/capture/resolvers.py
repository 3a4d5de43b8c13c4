"""The bodies of the capture query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.capture.types import AssignmentRule, Submission, SubmissionStatus
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, connection, workspace_arg
from embedcrm.kit.repository import Window


async def submissions(
    info: Info,
    status: SubmissionStatus | None = None,  # type: ignore[valid-type]
    first: int | None = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    workspace_id: strawberry.ID | None = None,
) -> Connection[Submission]:
    workspace = info.context.workspace_for(workspace_arg(workspace_id))
    capture_service = info.context.services.capture
    principal = info.context.principal
    page = await capture_service.submissions_page(
        principal, workspace, status, window=Window(first, after, last, before)
    )

    async def count() -> int:
        return await capture_service.count_submissions(principal, workspace, status)

    return connection(page, Submission.of, count)


async def assignment_rules(
    info: Info, workspace_id: strawberry.ID | None = None
) -> list[AssignmentRule]:
    workspace = info.context.workspace_for(workspace_arg(workspace_id))
    rows = await info.context.services.assignment.rules(workspace)
    return [AssignmentRule.of(row) for row in rows]
