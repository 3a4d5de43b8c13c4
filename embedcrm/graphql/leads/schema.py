"""GraphQL queries and mutations of leads: the card, its cart, its timeline, its stage history and the lead list."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.leads import mutations, resolvers
from embedcrm.graphql.permissions import WritersOnly


@strawberry.type
class LeadQuery:
    leads = strawberry.field(
        resolver=resolvers.leads, description="Leads, newest first or in the order ``sort`` names."
    )


@strawberry.type
class LeadExportQuery:
    leads_csv = strawberry.field(
        resolver=resolvers.leads_csv, description="The filtered leads as CSV."
    )


@strawberry.type
class LeadMutation:
    update_lead = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.update_lead.resolve,
        description="Title, value and currency, order details, custom fields.",
    )

    set_lead_items = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.set_lead_items.resolve,
        description="Replace the lead's cart.",
    )

    assign_lead = strawberry.mutation(
        permission_classes=[WritersOnly], resolver=mutations.assign_lead.resolve
    )

    bulk_assign_leads = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.bulk_assign_leads.resolve,
        description="Assign many leads at once: all of them, or none.",
    )


@strawberry.type
class ActivityMutation:
    add_activity = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.add_activity.resolve,
        description="A note, call, e-mail, meeting or message on a timeline.",
    )
