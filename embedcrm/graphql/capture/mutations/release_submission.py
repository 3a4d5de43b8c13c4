"""The release_submission mutation: take a submission out of quarantine and make its lead."""

from __future__ import annotations

from embedcrm.graphql.capture.inputs import ReleaseSubmissionInput, ReleaseSubmissionPayload
from embedcrm.graphql.capture.types import Submission
from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import user_errors_in
from embedcrm.workspaces.access import reader_workspace


@user_errors_in(ReleaseSubmissionPayload)
async def resolve(info: Info, input: ReleaseSubmissionInput) -> ReleaseSubmissionPayload:
    context = info.context
    gid = parse_global_id(input.submission_id, expected="Submission", field="submissionId")
    reader_workspace(context.principal, gid.workspace_id, field="workspaceId")
    return ReleaseSubmissionPayload(
        submission=Submission.of(
            await context.services.capture.release(gid.workspace_id, gid.row_id)
        )
    )
