"""GraphQL queries and mutations of leads: the card, its cart, its timeline, its stage history and the lead list."""

from __future__ import annotations

import strawberry

from embedcrm.errors import ValidationFailed
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, CsvExport
from embedcrm.graphql.leads.inputs import (
    ActivityPayload,
    AddActivityInput,
    AssignLeadInput,
    BulkAssignLeadsInput,
    LeadFilter,
    LeadPayload,
    LeadsPayload,
    SetLeadItemsInput,
    UpdateLeadInput,
    lead_spec,
)
from embedcrm.graphql.leads.types import Activity, Lead
from embedcrm.graphql.support import (
    DEFAULT_PAGE_SIZE,
    UNSET,
    as_payload,
    connection,
    errors_payload,
    given,
    parse_decimal,
    parse_id,
    same_workspace,
    scoped_id,
    workspace_arg,
)
from embedcrm.leads import models as lead_models
from embedcrm.leads.service import ItemSpec


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
    @strawberry.mutation(description="Title, value and currency, order details, custom fields.")
    async def update_lead(self, info: Info, input: UpdateLeadInput) -> LeadPayload:
        ctx = info.context

        async def call() -> lead_models.Lead:
            gid = parse_id(input.id, "Lead")
            changes = given(
                title=input.title,
                value=input.value
                if input.value in (UNSET, None)
                else parse_decimal(input.value, "value"),
                currency=input.currency,
                payment_method=input.payment_method,
                ordered_at=input.ordered_at,
                delivery_method=input.delivery_method,
                delivery_address=input.delivery_address,
                delivery_from=input.delivery_from,
                delivery_to=input.delivery_to,
                custom_fields=input.custom_fields,
            )
            return await ctx.services.leads.update_lead(
                ctx.principal, gid.workspace_id, gid.row_id, changes
            )

        return await as_payload(
            call, lambda lead: LeadPayload(lead=Lead.of(lead)), errors_payload(LeadPayload)
        )

    @strawberry.mutation(description="Replace the lead's cart.")
    async def set_lead_items(self, info: Info, input: SetLeadItemsInput) -> LeadPayload:
        ctx = info.context

        async def call() -> lead_models.Lead:
            gid = parse_id(input.lead_id, "Lead", "leadId")
            items = [
                ItemSpec(
                    product=i.product,
                    sku=i.sku,
                    quantity=parse_decimal(i.quantity, f"items[{n}].quantity"),
                    unit_price=parse_decimal(i.unit_price, f"items[{n}].unitPrice"),
                    unit_cost=None
                    if i.unit_cost is None
                    else parse_decimal(i.unit_cost, f"items[{n}].unitCost"),
                )
                for n, i in enumerate(input.items)
            ]
            return await ctx.services.leads.set_items(
                ctx.principal, gid.workspace_id, gid.row_id, items
            )

        return await as_payload(
            call, lambda lead: LeadPayload(lead=Lead.of(lead)), errors_payload(LeadPayload)
        )

    @strawberry.mutation
    async def assign_lead(self, info: Info, input: AssignLeadInput) -> LeadPayload:
        ctx = info.context

        async def call() -> list[lead_models.Lead]:
            gid = parse_id(input.lead_id, "Lead", "leadId")
            assignee = scoped_id(input.assignee_id, "Member", "assigneeId", gid.workspace_id)
            return await ctx.services.leads.assign_leads(
                ctx.principal, gid.workspace_id, [gid.row_id], assignee
            )

        return await as_payload(
            call, lambda leads: LeadPayload(lead=Lead.of(leads[0])), errors_payload(LeadPayload)
        )

    @strawberry.mutation(description="Assign many leads at once: all of them, or none.")
    async def bulk_assign_leads(self, info: Info, input: BulkAssignLeadsInput) -> LeadsPayload:
        ctx = info.context

        async def call() -> list[lead_models.Lead]:
            workspace, ids = same_workspace(input.lead_ids, "Lead", "leadIds")
            assignee = scoped_id(input.assignee_id, "Member", "assigneeId", workspace)
            return await ctx.services.leads.assign_leads(ctx.principal, workspace, ids, assignee)

        return await as_payload(
            call,
            lambda leads: LeadsPayload(leads=[Lead.of(x) for x in leads]),
            errors_payload(LeadsPayload),
        )


@strawberry.type
class ActivityMutation:
    @strawberry.mutation(description="A note, call, e-mail, meeting or message on a timeline.")
    async def add_activity(self, info: Info, input: AddActivityInput) -> ActivityPayload:
        ctx = info.context

        async def call() -> lead_models.Activity:
            if input.lead_id is not None:
                owner = parse_id(input.lead_id, "Lead", "leadId")
            elif input.contact_id is not None:
                owner = parse_id(input.contact_id, "Contact", "contactId")
            else:
                raise ValidationFailed("Name a lead or a contact.", field="leadId")
            lead = owner.row_id if owner.type_name == "Lead" else None
            contact = owner.row_id if owner.type_name == "Contact" else None
            if input.data is not None and not isinstance(input.data, dict):
                raise ValidationFailed("data is an object.", field="data")
            return await ctx.services.leads.add_activity(
                ctx.principal,
                owner.workspace_id,
                lead_id=lead,
                contact_id=contact,
                kind=input.kind,
                body=input.body,
                occurred_at=input.occurred_at,
                data=input.data or {},
            )

        return await as_payload(
            call,
            lambda a: ActivityPayload(activity=Activity.of(a)),
            errors_payload(ActivityPayload),
        )
