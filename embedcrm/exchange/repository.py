"""SQL of the 1C exchange, bound to one workspace."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.catalog.models import Product
from embedcrm.exchange.models import ExchangeFile, OneCExchange
from embedcrm.invoices.models import Invoice, InvoiceStatus

# Orders 1C takes: everything issued, paid or cancelled (a draft is not an order yet).
EXCHANGED_STATUSES = (
    InvoiceStatus.ISSUED,
    InvoiceStatus.PARTLY_PAID,
    InvoiceStatus.PAID,
    InvoiceStatus.CANCELLED,
)
MAX_ORDERS_PER_QUERY = 500


class ExchangeRepository:
    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def settings(self) -> OneCExchange | None:
        return await self.session.get(OneCExchange, self.workspace_id)

    def add(self, row: OneCExchange | ExchangeFile) -> None:
        row.workspace_id = self.workspace_id
        self.session.add(row)

    async def file(self, filename: str) -> ExchangeFile | None:
        return await self.session.get(ExchangeFile, (self.workspace_id, filename))

    async def orders_to_send(self) -> list[Invoice]:
        """Orders 1C has not taken, or that changed since it took them, oldest first."""
        stmt = (
            select(Invoice)
            .where(
                Invoice.workspace_id == self.workspace_id,
                Invoice.status.in_(EXCHANGED_STATUSES),
                or_(Invoice.exchanged_at.is_(None), Invoice.updated_at > Invoice.exchanged_at),
            )
            .order_by(Invoice.created_at, Invoice.id)
            .limit(MAX_ORDERS_PER_QUERY)
        )
        return list(await self.session.scalars(stmt))

    async def mark_taken(self, queried_at: datetime) -> None:
        """1C confirmed the last query: what it was answered then counts as taken."""
        await self.session.execute(
            update(Invoice)
            .where(
                Invoice.workspace_id == self.workspace_id,
                Invoice.status.in_(EXCHANGED_STATUSES),
                Invoice.updated_at <= queried_at,
                or_(Invoice.exchanged_at.is_(None), Invoice.updated_at > Invoice.exchanged_at),
            )
            .values(exchanged_at=queried_at, updated_at=Invoice.updated_at)
            # The marking changes no invoice in substance: its updated_at stays.
            .execution_options(synchronize_session=False)
        )

    async def products_by_external_id(self, ids: Iterable[str]) -> dict[str, Product]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = await self.session.scalars(
            select(Product).where(
                Product.workspace_id == self.workspace_id, Product.external_id.in_(wanted)
            )
        )
        return {row.external_id or "": row for row in rows}
