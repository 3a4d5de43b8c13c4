"""SQL of invoices, bound to one workspace: invoices, their lines, numbers and requisites."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, case, delete, func, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.catalog.repository import won_in_period
from embedcrm.db import hold_sqlite_write_lock
from embedcrm.invoices.models import (
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentProvider,
    ProviderName,
    Requisites,
)
from embedcrm.kit.money import to_cents
from embedcrm.kit.repository import Page, Viewer, Window, WorkspaceRepository
from embedcrm.leads.models import Lead, LeadStatus
from embedcrm.leads.ownership import own_contact_ids, own_lead_ids


def invoice_owned_by(workspace_id: uuid.UUID, member_id: uuid.UUID) -> ColumnElement[bool]:
    """A manager's invoices: those of a lead they see, or of a contact of such a lead. An
    invoice tied to no lead and no contact (typed by hand for a walk-in buyer, or its buyer
    erased) is the owner's alone: it tells of money no manager's client owes."""
    return or_(
        Invoice.lead_id.in_(own_lead_ids(workspace_id, member_id)),
        Invoice.contact_id.in_(own_contact_ids(workspace_id, member_id)),
    )


def own_invoice_ids(workspace_id: uuid.UUID, member_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(Invoice.id).where(
        Invoice.workspace_id == workspace_id, invoice_owned_by(workspace_id, member_id)
    )


@dataclass(frozen=True)
class InvoiceFilter:
    status: InvoiceStatus | None = None
    lead_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None


class InvoiceRepository(WorkspaceRepository[Invoice]):
    model = Invoice

    def own_rows(self, stmt: Select[Invoice], member_id: uuid.UUID) -> Select[Invoice]:
        return stmt.where(invoice_owned_by(self.workspace_id, member_id))

    def matching(self, viewer: Viewer, invoice_filter: InvoiceFilter) -> Select[Invoice]:
        stmt = self.readable(viewer)
        if invoice_filter.status is not None:
            stmt = stmt.where(Invoice.status == invoice_filter.status)
        if invoice_filter.lead_id is not None:
            stmt = stmt.where(Invoice.lead_id == invoice_filter.lead_id)
        if invoice_filter.contact_id is not None:
            stmt = stmt.where(Invoice.contact_id == invoice_filter.contact_id)
        return stmt

    async def page_matching(
        self, viewer: Viewer, invoice_filter: InvoiceFilter, *, window: Window
    ) -> Page[Invoice]:
        return await self.newest_first(self.matching(viewer, invoice_filter), window=window)

    async def all_matching(self, viewer: Viewer, invoice_filter: InvoiceFilter) -> list[Invoice]:
        stmt = self.matching(viewer, invoice_filter).order_by(Invoice.created_at, Invoice.id)
        return list(await self.session.scalars(stmt))

    async def readable_many(
        self, viewer: Viewer, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Invoice]:
        rows = await self.session.scalars(self.readable(viewer).where(Invoice.id.in_(ids)))
        return {row.id: row for row in rows}

    async def of_person(
        self, contact_id: uuid.UUID, lead_ids: Sequence[uuid.UUID]
    ) -> list[Invoice]:
        stmt = self.select().where(
            or_(Invoice.contact_id == contact_id, Invoice.lead_id.in_(list(lead_ids)))
        )
        return list(await self.session.scalars(stmt.order_by(Invoice.created_at, Invoice.id)))

    async def set_contact(self, invoice_ids: Sequence[uuid.UUID], contact_id: uuid.UUID) -> None:
        """Point invoices at another contact (a merge, or its undoing); they stay unchanged
        otherwise, so 1C is not sent them again."""
        if invoice_ids:
            await self.session.execute(
                update(Invoice)
                .where(Invoice.workspace_id == self.workspace_id, Invoice.id.in_(list(invoice_ids)))
                .values(contact_id=contact_id, updated_at=Invoice.updated_at)
                .execution_options(synchronize_session=False)
            )

    async def detach_person(self, invoice_ids: Sequence[uuid.UUID]) -> None:
        """An erased person's invoices stay as accounting records, naming no one."""
        if invoice_ids:
            await self.session.execute(
                update(Invoice)
                .where(Invoice.workspace_id == self.workspace_id, Invoice.id.in_(list(invoice_ids)))
                .values(contact_id=None, lead_id=None, buyer_name="—", buyer_details=None)
                .execution_options(synchronize_session=False)
            )

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


OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)
# Invoices that count as billed to a client: issued, whether paid or not.
BILLED_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID, InvoiceStatus.PAID)


@dataclass(frozen=True)
class DebtRow:
    """What one client owes in one currency."""

    contact_id: uuid.UUID | None
    buyer_name: str
    currency: str
    invoices: int
    outstanding: Decimal
    overdue: Decimal
    oldest_due_on: date | None


@dataclass(frozen=True)
class BalanceRow:
    currency: str
    invoiced: Decimal
    paid: Decimal
    outstanding: Decimal
    overdue: Decimal


class InvoiceLocks:
    """An invoice read for a change that must see every earlier one: payments add up."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def locked(self, invoice_id: uuid.UUID) -> Invoice | None:
        # SQLite: the write lock before the read; PostgreSQL: the row's lock.
        await hold_sqlite_write_lock(self.session, Invoice)
        return await self.session.scalar(
            select(Invoice)
            .where(Invoice.workspace_id == self.workspace_id, Invoice.id == invoice_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )


class PaymentRepository(WorkspaceRepository[Payment]):
    model = Payment

    async def of_invoices(self, invoice_ids: Sequence[uuid.UUID]) -> list[Payment]:
        rows = await self.session.scalars(
            self.select()
            .where(Payment.invoice_id.in_(list(invoice_ids)))
            .order_by(Payment.invoice_id, Payment.paid_at, Payment.id)
        )
        return list(rows)

    async def by_provider_id(self, provider: str, provider_payment_id: str) -> Payment | None:
        return await self.session.scalar(
            self.select().where(
                Payment.provider == provider, Payment.provider_payment_id == provider_payment_id
            )
        )

    async def received_between(
        self, viewer: Viewer, starts: datetime, ends: datetime
    ) -> dict[str, Decimal]:
        """Payments received in [starts, ends), summed per currency; a MANAGER's, on the
        invoices they see."""
        stmt = select(Payment.currency, func.sum(Payment.amount)).where(
            Payment.workspace_id == self.workspace_id,
            Payment.paid_at >= starts,
            Payment.paid_at < ends,
        )
        member_id = viewer.sees_only_own
        if member_id is not None:
            stmt = stmt.where(Payment.invoice_id.in_(own_invoice_ids(self.workspace_id, member_id)))
        rows = await self.session.execute(stmt.group_by(Payment.currency))
        return {currency: to_cents(amount) for currency, amount in rows}


class DebtRepository:
    """Who owes what: the open invoices of a workspace, summed per client and currency."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def receivables(self, viewer: Viewer, today: date) -> list[DebtRow]:
        """A MANAGER's figures are of the invoices they see."""
        owed = Invoice.total - Invoice.paid_total
        late = Invoice.due_on < today
        member_id = viewer.sees_only_own
        mine = true() if member_id is None else invoice_owned_by(self.workspace_id, member_id)
        rows = await self.session.execute(
            select(
                Invoice.contact_id,
                func.max(Invoice.buyer_name),
                Invoice.currency,
                func.count(),
                func.sum(owed),
                func.sum(case((late, owed), else_=0)),
                func.min(case((late, Invoice.due_on), else_=None)),
            )
            .where(
                Invoice.workspace_id == self.workspace_id,
                Invoice.status.in_(OPEN_STATUSES),
                mine,
            )
            # Invoices made out to a name alone are told apart by that name.
            .group_by(
                Invoice.contact_id,
                case((Invoice.contact_id.is_(None), Invoice.buyer_name), else_=""),
                Invoice.currency,
            )
        )
        return [
            DebtRow(
                contact_id=contact_id,
                buyer_name=buyer,
                currency=currency,
                invoices=int(count),
                outstanding=to_cents(outstanding),
                overdue=to_cents(overdue),
                oldest_due_on=_as_date(oldest),
            )
            for contact_id, buyer, currency, count, outstanding, overdue, oldest in rows
        ]

    async def balance(self, contact_id: uuid.UUID, today: date) -> list[BalanceRow]:
        owed = case(
            (Invoice.status.in_(OPEN_STATUSES), Invoice.total - Invoice.paid_total), else_=0
        )
        rows = await self.session.execute(
            select(
                Invoice.currency,
                func.sum(Invoice.total),
                func.sum(Invoice.paid_total),
                func.sum(owed),
                func.sum(case((Invoice.due_on < today, owed), else_=0)),
            )
            .where(
                Invoice.workspace_id == self.workspace_id,
                Invoice.contact_id == contact_id,
                Invoice.status.in_(BILLED_STATUSES),
            )
            .group_by(Invoice.currency)
            .order_by(Invoice.currency)
        )
        return [
            BalanceRow(
                currency=currency,
                invoiced=to_cents(invoiced),
                paid=to_cents(paid),
                outstanding=to_cents(outstanding),
                overdue=to_cents(overdue),
            )
            for currency, invoiced, paid, outstanding, overdue in rows
        ]

    async def won_values(
        self, viewer: Viewer, starts: datetime, ends: datetime
    ) -> dict[str, Decimal]:
        """The values of the leads won in [starts, ends), per currency (none: no currency);
        a MANAGER's, of the leads they see."""
        wins = won_in_period(self.workspace_id, starts, ends)
        member_id = viewer.sees_only_own
        stmt = (
            select(Lead.currency, func.sum(Lead.value))
            .join(wins, wins.c.lead_id == Lead.id)
            .where(
                Lead.workspace_id == self.workspace_id,
                Lead.status == LeadStatus.WON,
                Lead.value.is_not(None),
            )
        )
        if member_id is not None:
            stmt = stmt.where(Lead.id.in_(own_lead_ids(self.workspace_id, member_id)))
        rows = await self.session.execute(stmt.group_by(Lead.currency))
        return {currency or "": to_cents(value) for currency, value in rows}


def _as_date(value: object) -> date | None:
    # SQLite answers MIN over a date column as text.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


class OverdueInvoiceScan:
    """The worker's scan across every workspace for invoices that just became overdue.

    Above the tenant boundary on purpose, like the tasks' scan: one worker serves them all.
    ``FOR UPDATE SKIP LOCKED`` lets several workers share the scan on PostgreSQL.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, today: date, limit: int) -> list[Invoice]:
        await hold_sqlite_write_lock(self.session, Invoice)
        stmt = (
            select(Invoice)
            .where(
                Invoice.overdue_notified_at.is_(None),
                Invoice.status.in_(OPEN_STATUSES),
                Invoice.due_on < today,
            )
            .order_by(Invoice.due_on)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(await self.session.scalars(stmt))


class ProviderRepository:
    """The payment provider accounts of one workspace."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def get(self, provider: ProviderName) -> PaymentProvider | None:
        return await self.session.get(PaymentProvider, (self.workspace_id, provider))

    async def all(self) -> list[PaymentProvider]:
        rows = await self.session.scalars(
            select(PaymentProvider)
            .where(PaymentProvider.workspace_id == self.workspace_id)
            .order_by(PaymentProvider.provider)
        )
        return list(rows)

    def add(self, row: PaymentProvider) -> PaymentProvider:
        row.workspace_id = self.workspace_id
        self.session.add(row)
        return row

    async def invoice_by_number(self, number: int) -> Invoice | None:
        return await self.session.scalar(
            select(Invoice).where(
                Invoice.workspace_id == self.workspace_id, Invoice.number == number
            )
        )
