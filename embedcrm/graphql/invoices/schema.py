"""GraphQL queries and mutations of invoices and the shop's requisites."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, CsvExport
from embedcrm.graphql.ids import to_global_id
from embedcrm.graphql.invoices import mutations
from embedcrm.graphql.invoices.inputs import InvoiceFilter
from embedcrm.graphql.invoices.types import (
    ClientBalance,
    Debt,
    Invoice,
    MoneyAmount,
    PaymentProviderAccount,
    Receivables,
    Requisites,
    Revenue,
)
from embedcrm.graphql.permissions import OwnerOnly, WritersOnly
from embedcrm.graphql.support import (
    DEFAULT_PAGE_SIZE,
    connection,
    parse_id,
    scoped_id,
    workspace_arg,
)
from embedcrm.invoices.repository import InvoiceFilter as InvoiceFilterQuery
from embedcrm.invoices.service import days_late
from embedcrm.kit.repository import Window


def _filter(value: InvoiceFilter | None, workspace: uuid.UUID) -> InvoiceFilterQuery:
    f = value or InvoiceFilter()
    return InvoiceFilterQuery(
        status=f.status,
        lead_id=scoped_id(f.lead_id, "Lead", "filter.leadId", workspace),
        contact_id=scoped_id(f.contact_id, "Contact", "filter.contactId", workspace),
    )


def _amounts(sums: dict[str, Decimal]) -> list[MoneyAmount]:
    return [
        MoneyAmount(currency=currency or None, amount=str(amount))
        for currency, amount in sorted(sums.items())
    ]


@strawberry.type
class InvoiceQuery:
    @strawberry.field(description="Invoices, newest first, each with its lines.")
    async def invoices(
        self,
        info: Info,
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: InvoiceFilter | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> Connection[Invoice]:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        query = _filter(filter, workspace)
        service = ctx.services.invoices
        page = await service.page(
            ctx.principal, workspace, query, window=Window(first, after, last, before)
        )
        # The lines and payments of the whole page in one query each.
        ids = [row.id for row in page.rows]
        lines, payments = (
            await service.lines_of(workspace, ids),
            await service.payments_of(workspace, ids),
        )
        return connection(
            page,
            lambda row: Invoice.of(row, lines[row.id], payments[row.id]),
            lambda: service.count(ctx.principal, workspace, query),
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

    @strawberry.field(description="Who owes what on the issued invoices, the most overdue first.")
    async def receivables(
        self, info: Info, workspace_id: strawberry.ID | None = None
    ) -> Receivables:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        report = await ctx.services.invoices.receivables(ctx.principal, workspace)
        return Receivables(
            today=report.today,
            rows=[
                Debt(
                    contact_id=None
                    if row.contact_id is None
                    else strawberry.ID(to_global_id("Contact", workspace, row.contact_id)),
                    buyer_name=row.buyer_name,
                    currency=row.currency,
                    invoices=row.invoices,
                    outstanding=str(row.outstanding),
                    overdue=str(row.overdue),
                    oldest_due_on=row.oldest_due_on,
                    days_late=days_late(row.oldest_due_on, report.today),
                )
                for row in report.rows
            ],
        )

    @strawberry.field(description="The receivables as CSV.")
    async def receivables_csv(
        self, info: Info, workspace_id: strawberry.ID | None = None
    ) -> CsvExport:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        text, rows = await ctx.services.invoices.receivables_csv(ctx.principal, workspace)
        return CsvExport(csv=text, row_count=rows)

    @strawberry.field(description="A client's invoiced, paid, outstanding and overdue amounts.")
    async def client_balance(self, info: Info, contact_id: strawberry.ID) -> list[ClientBalance]:
        ctx = info.context
        gid = parse_id(contact_id, "Contact", "contactId")
        rows = await ctx.services.invoices.balance(ctx.principal, gid.workspace_id, gid.row_id)
        return [
            ClientBalance(
                currency=row.currency,
                invoiced=str(row.invoiced),
                paid=str(row.paid),
                outstanding=str(row.outstanding),
                overdue=str(row.overdue),
            )
            for row in rows
        ]

    @strawberry.field(
        description="Revenue of [starts, ends): payments by the date received, beside the "
        "values of the leads won in it."
    )
    async def revenue(
        self,
        info: Info,
        starts: datetime,
        ends: datetime,
        workspace_id: strawberry.ID | None = None,
    ) -> Revenue:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        report = await ctx.services.invoices.revenue(ctx.principal, workspace, starts, ends)
        return Revenue(
            starts=report.starts,
            ends=report.ends,
            by_paid_date=_amounts(report.by_paid_date),
            by_won_date=_amounts(report.by_won_date),
        )

    @strawberry.field(description="The payment providers set up, with their notification URLs.")
    async def payment_providers(
        self, info: Info, workspace_id: strawberry.ID | None = None
    ) -> list[PaymentProviderAccount]:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        rows = await ctx.services.providers.configured(ctx.principal, workspace)
        return [PaymentProviderAccount.of(row, ctx.services.settings.public_url) for row in rows]

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
        permission_classes=[WritersOnly],
        resolver=mutations.create_invoice.resolve,
        description="A draft invoice from a lead's cart or typed by hand.",
    )
    update_invoice = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.update_invoice.resolve,
        description="Change a draft invoice.",
    )
    issue_invoice = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.issue_invoice.resolve,
        description="Issue a draft: it gets the workspace's next number, with no gaps.",
    )
    cancel_invoice = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.cancel_invoice.resolve,
        description="Cancel a draft or an unpaid invoice; an issued one keeps its number.",
    )
    record_payment = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.record_payment.resolve,
        description="A payment received against an issued invoice, in full or in part.",
    )
    set_payment_provider = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.set_payment_provider.resolve,
        description="A workspace's Robokassa or YooKassa account (owner only).",
    )
    set_requisites = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.set_requisites.resolve,
        description="The shop's legal and bank details printed on invoices (owner only).",
    )
