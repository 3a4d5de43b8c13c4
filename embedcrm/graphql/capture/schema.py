"""GraphQL for capture: quarantined submissions, leads pushed by the host, assignment rules."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.capture import mutations, resolvers
from embedcrm.graphql.permissions import OwnerOnly, WritersOnly


@strawberry.type
class CaptureQuery:
    submissions = strawberry.field(
        resolver=resolvers.submissions,
        description=(
            "Submissions, newest first; QUARANTINED shows what the spam checks held back, "
            "REFUSED what a form's own required fields turned away."
        ),
    )

    assignment_rules = strawberry.field(
        resolver=resolvers.assignment_rules,
        description="The rules that choose who gets a new lead, in order.",
    )


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
