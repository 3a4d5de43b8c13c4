"""SQL of invoices, bound to one workspace: invoices, their lines, numbers and requisites."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.db import hold_sqlite_write_lock
from embedcrm.invoices.models import Invoice, InvoiceCounter, InvoiceLine, InvoiceStatus, Requisites
from embedcrm.kit.repository import Page, WorkspaceRepository


@dataclass(frozen=True)
class InvoiceFilter:
    status: InvoiceStatus | None = None
    lead_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None


class InvoiceRepository(WorkspaceRepository[Invoice]):
    model = Invoice

    def matching(self, invoice_filter: InvoiceFilter) -> Select[Invoice]:
        stmt = self.select()
        if invoice_filter.status is not None:
            stmt = stmt.where(Invoice.status == invoice_filter.status)
        if invoice_filter.lead_id is not None:
            stmt = stmt.where(Invoice.lead_id == invoice_filter.lead_id)
        if invoice_filter.contact_id is not None:
            stmt = stmt.where(Invoice.contact_id == invoice_filter.contact_id)
        return stmt

    async def page_matching(
        self, invoice_filter: InvoiceFilter, *, first: int, after: str | None
    ) -> Page[Invoice]:
        return await self.newest_first(self.matching(invoice_filter), first=first, after=after)

    async def all_matching(self, invoice_filter: InvoiceFilter) -> list[Invoice]:
        stmt = self.matching(invoice_filter).order_by(Invoice.created_at, Invoice.id)
        return list(await self.session.scalars(stmt))

    async def lines_of(self, invoice_ids: Sequence[uuid.UUID]) -> list[InvoiceLine]:
        rows = await self.session.scalars(
            select(InvoiceLine)
            .where(
                InvoiceLine.workspace_id == self.workspace_id,
                InvoiceLine.invoice_id.in_(list(invoice_ids)),
            )
            .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
        )
        return list(rows)

    def add_line(self, line: InvoiceLine) -> InvoiceLine:
        line.workspace_id = self.workspace_id
        self.session.add(line)
        return line

    async def clear_lines(self, invoice_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(InvoiceLine).where(
                InvoiceLine.workspace_id == self.workspace_id,
                InvoiceLine.invoice_id == invoice_id,
            )
        )

    async def next_number(self) -> int:
        """The workspace's next invoice number, taken in the caller's transaction.

        The counter's row stays locked until that transaction ends (SQLite: the database's
        write lock, taken first), so concurrent issuers get consecutive numbers in turn, and
        a transaction that rolls back gives its number back.
        """
        await hold_sqlite_write_lock(self.session, InvoiceCounter)
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await self.session.execute(
            insert(InvoiceCounter)
            .values(workspace_id=self.workspace_id, last_number=0)
            .on_conflict_do_nothing(index_elements=["workspace_id"])
        )
        number = await self.session.scalar(
            update(InvoiceCounter)
            .where(InvoiceCounter.workspace_id == self.workspace_id)
            .values(last_number=InvoiceCounter.last_number + 1)
            .returning(InvoiceCounter.last_number)
        )
        assert number is not None
        return int(number)


class RequisitesRepository:
    """The one row of requisites of a workspace."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def get(self) -> Requisites | None:
        return await self.session.get(Requisites, self.workspace_id)

    def add(self, row: Requisites) -> Requisites:
        row.workspace_id = self.workspace_id
        self.session.add(row)
        return row
