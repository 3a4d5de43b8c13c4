"""GraphQL queries and mutations of leads: the card, its cart, its timeline, its stage history and the lead list."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, CsvExport
from embedcrm.graphql.leads import mutations
from embedcrm.graphql.leads.inputs import LeadFilter, lead_spec
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.permissions import WritersOnly
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, connection, scoped_id, workspace_arg


@strawberry.type
class LeadQuery:
    @strawberry.field(description="Leads, newest first.")
    async def leads(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: LeadFilter | None = None,
        workspace_id: strawberry.ID | None = None,
        segment_id: strawberry.ID | None = None,
    ) -> Connection[Lead]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        spec = lead_spec(filter, workspace)
        segment = scoped_id(segment_id, "Segment", "segmentId", workspace)
        lists, principal = info.context.services.lists, info.context.principal
        page = await lists.leads_page(
            principal, workspace, spec, segment_id=segment, first=first, after=after
        )
        return connection(
            page,
            Lead.of,
            lambda: lists.count_leads(principal, workspace, spec, segment_id=segment),
        )


@strawberry.type
class LeadExportQuery:
    @strawberry.field(description="The filtered leads as CSV.")
    async def leads_csv(
        self,
        info: Info,
        filter: LeadFilter | None = None,
        segment_id: strawberry.ID | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> CsvExport:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        segment = scoped_id(segment_id, "Segment", "segmentId", workspace)
        text, rows = await info.context.services.lists.export_csv(
            info.context.principal, workspace, lead_spec(filter, workspace), segment_id=segment
        )
        return CsvExport(csv=text, row_count=rows)


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
