"""GraphQL queries and mutations of invoices and the shop's requisites."""

from __future__ import annotations

import uuid

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, CsvExport, Edge, PageInfo
from embedcrm.graphql.invoices import mutations
from embedcrm.graphql.invoices.inputs import InvoiceFilter
from embedcrm.graphql.invoices.types import Invoice, Requisites
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, scoped_id, workspace_arg
from embedcrm.invoices.repository import InvoiceFilter as InvoiceFilterQuery
from embedcrm.kit.repository import encode_cursor


def _filter(value: InvoiceFilter | None, workspace: uuid.UUID) -> InvoiceFilterQuery:
    f = value or InvoiceFilter()
    return InvoiceFilterQuery(
        status=f.status,
        lead_id=scoped_id(f.lead_id, "Lead", "filter.leadId", workspace),
        contact_id=scoped_id(f.contact_id, "Contact", "filter.contactId", workspace),
    )


@strawberry.type
class InvoiceQuery:
    @strawberry.field(description="Invoices, newest first, each with its lines.")
    async def invoices(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: InvoiceFilter | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> Connection[Invoice]:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        query = _filter(filter, workspace)
        service = ctx.services.invoices
        page = await service.page(ctx.principal, workspace, query, first=first, after=after)
        # The lines of the whole page in one query.
        lines = await service.lines_of(workspace, [row.id for row in page.rows])
        return Connection(
            edges=[
                Edge(cursor=encode_cursor(row), node=Invoice.of(row, lines[row.id]))
                for row in page.rows
            ],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
            _count=lambda: service.count(ctx.principal, workspace, query),
        )

    @strawberry.field(description="The invoices as CSV (number, status, buyer, amounts, dates).")
    async def invoices_csv(
        self,
        info: Info,
        filter: InvoiceFilter | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> CsvExport:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        text, rows = await ctx.services.invoices.export_csv(
            ctx.principal, workspace, _filter(filter, workspace)
        )
        return CsvExport(csv=text, row_count=rows)

    @strawberry.field(description="The shop's requisites; null until an owner sets them.")
    async def requisites(
        self, info: Info, workspace_id: strawberry.ID | None = None
    ) -> Requisites | None:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        row = await ctx.services.invoices.requisites(ctx.principal, workspace)
        return Requisites.of(row) if row else None


@strawberry.type
class InvoiceMutation:
    create_invoice = strawberry.mutation(
        resolver=mutations.create_invoice.resolve,
        description="A draft invoice from a lead's cart or typed by hand.",
    )
    update_invoice = strawberry.mutation(
        resolver=mutations.update_invoice.resolve, description="Change a draft invoice."
    )
    issue_invoice = strawberry.mutation(
        resolver=mutations.issue_invoice.resolve,
        description="Issue a draft: it gets the workspace's next number, with no gaps.",
    )
    cancel_invoice = strawberry.mutation(
        resolver=mutations.cancel_invoice.resolve,
        description="Cancel a draft or an unpaid invoice; an issued one keeps its number.",
    )
    set_requisites = strawberry.mutation(
        resolver=mutations.set_requisites.resolve,
        description="The shop's legal and bank details printed on invoices (owner only).",
    )
