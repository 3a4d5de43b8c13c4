"""GraphQL queries of the clients' feedback."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.feedback import resolvers


@strawberry.type
class FeedbackQuery:
    feedback_answers = strawberry.field(
        resolver=resolvers.feedback_answers,
        description="A contact's answers (one lead's with leadId), newest first.",
    )
    feedback_report = strawberry.field(
        resolver=resolvers.feedback_report,
        description="Score over a period (at most two years): by month, manager and source.",
    )
