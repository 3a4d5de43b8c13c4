"""GraphQL queries and mutations of the alerts to the shop."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.alerts import mutations, resolvers


@strawberry.type
class AlertQuery:
    alert_settings = strawberry.field(
        resolver=resolvers.alert_settings,
        description="How a member is told of new leads, unanswered leads and overdue tasks.",
    )


@strawberry.type
class AlertMutation:
    update_alert_settings = strawberry.mutation(
        resolver=mutations.update_alert_settings.resolve,
        description="A member's own alert channels, quiet hours and digest; an owner's for anyone.",
    )
