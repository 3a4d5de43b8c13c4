"""SQL of commission and the staff's workload, bound to one workspace."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, delete, func, select

from embedcrm.commission.models import CommissionRule
from embedcrm.invoices.models import Invoice, InvoiceLine, Payment
from embedcrm.kit.money import to_cents
from embedcrm.kit.repository import WorkspaceRepository
from embedcrm.leads.models import Lead, LeadStatus
from embedcrm.tasks.models import Task


@dataclass(frozen=True)
class PaidShare:
    """One payment of the period on an invoice of a lead a manager has."""

    member_id: uuid.UUID
    paid_at: datetime
    amount: Decimal
    invoice_total: Decimal
    # The invoice's margin over the lines whose cost is known; None when no line's cost is.
    invoice_margin: Decimal | None


@dataclass(frozen=True)
class Workload:
    member_id: uuid.UUID | None
    open_leads: int
    open_tasks: int
    overdue_tasks: int


class CommissionRepository(WorkspaceRepository[CommissionRule]):
    model = CommissionRule

    async def rules_of(self, member_id: uuid.UUID | None) -> list[CommissionRule]:
        stmt = self.select().order_by(CommissionRule.member_id, CommissionRule.starts_on)
        if member_id is not None:
            stmt = stmt.where(CommissionRule.member_id == member_id)
        return list(await self.session.scalars(stmt))

    async def clear(self, member_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(CommissionRule).where(
                CommissionRule.workspace_id == self.workspace_id,
                CommissionRule.member_id == member_id,
            )
        )

    async def paid_shares(
        self, starts: datetime, ends: datetime, member_id: uuid.UUID | None
    ) -> list[PaidShare]:
        """The payments received in [starts, ends) on invoices of assigned leads, each with
        its invoice's total and margin, in two queries."""
        stmt = (
            select(Lead.assignee_id, Payment.paid_at, Payment.amount, Invoice.total, Invoice.id)
            .join(
                Invoice,
                (Invoice.workspace_id == Payment.workspace_id) & (Invoice.id == Payment.invoice_id),
            )
            .join(Lead, (Lead.workspace_id == Invoice.workspace_id) & (Lead.id == Invoice.lead_id))
            .where(
                Payment.workspace_id == self.workspace_id,
                Payment.paid_at >= starts,
                Payment.paid_at < ends,
                Lead.assignee_id.is_not(None),
            )
        )
        if member_id is not None:
            stmt = stmt.where(Lead.assignee_id == member_id)
        rows = list(await self.session.execute(stmt))
        known_cost = InvoiceLine.unit_cost.is_not(None)
        margins = {
            invoice_id: (to_cents(margin) if costed else None)
            for invoice_id, margin, costed in await self.session.execute(
                select(
                    InvoiceLine.invoice_id,
                    func.sum(
                        case(
                            (
                                known_cost,
                                InvoiceLine.net - InvoiceLine.unit_cost * InvoiceLine.quantity,
                            ),
                            else_=0,
                        )
                    ),
                    func.sum(case((known_cost, 1), else_=0)),
                )
                .where(
                    InvoiceLine.workspace_id == self.workspace_id,
                    InvoiceLine.invoice_id.in_({row[4] for row in rows}),
                )
                .group_by(InvoiceLine.invoice_id)
            )
        }
        return [
            PaidShare(
                member_id=member,
                paid_at=paid_at,
                amount=to_cents(amount),
                invoice_total=to_cents(total),
                invoice_margin=margins.get(invoice_id),
            )
            for member, paid_at, amount, total, invoice_id in rows
            if member is not None
        ]

    async def workload(self, now: datetime) -> list[Workload]:
        leads = dict(
            (member, int(count))
            for member, count in await self.session.execute(
                select(Lead.assignee_id, func.count())
                .where(Lead.workspace_id == self.workspace_id, Lead.status == LeadStatus.OPEN)
                .group_by(Lead.assignee_id)
            )
        )
        tasks = {
            member: (int(count), int(overdue or 0))
            for member, count, overdue in await self.session.execute(
                select(
                    Task.assignee_id,
                    func.count(),
                    func.sum(case((Task.due_at < now, 1), else_=0)),
                )
                .where(Task.workspace_id == self.workspace_id, Task.done_at.is_(None))
                .group_by(Task.assignee_id)
            )
        }
        members = set(leads) | set(tasks)
        return [
            Workload(
                member_id=member,
                open_leads=leads.get(member, 0),
                open_tasks=tasks.get(member, (0, 0))[0],
                overdue_tasks=tasks.get(member, (0, 0))[1],
            )
            for member in members
        ]
