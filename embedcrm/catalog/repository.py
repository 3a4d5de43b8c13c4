"""SQL of the catalogue, bound to one workspace: products and what was sold of them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, Subquery, and_, case, func, or_, select

from embedcrm.catalog.models import Product
from embedcrm.kit.models import fold
from embedcrm.kit.money import to_cents
from embedcrm.kit.repository import Page, Window, WorkspaceRepository, like_pattern
from embedcrm.leads.models import Lead, LeadItem, LeadStageChange, LeadStatus
from embedcrm.pipelines.models import Stage, StageKind


@dataclass(frozen=True)
class ProductFilter:
    active_only: bool = False
    # Matches the SKU or the name, case-insensitively.
    search: str | None = None


@dataclass(frozen=True)
class SalesRow:
    """What the leads won in a period bought of one product (or one free-text line)."""

    product_id: uuid.UUID | None
    name: str
    sku: str | None
    currency: str | None
    quantity: Decimal
    revenue: Decimal
    # The cost of the lines whose cost is known, and the revenue of those same lines, so the
    # margin is never computed against lines of unknown cost.
    cost: Decimal
    revenue_with_cost: Decimal
    # How many of the lines carry a cost: none means the margin is unknown, not zero.
    lines_with_cost: int
    leads: int


def won_in_period(workspace_id: uuid.UUID, starts: datetime, ends: datetime) -> Subquery:
    """(lead_id) of the leads whose last move into a WON stage falls in [starts, ends): when a
    lead counts as won in every money report, as in the analytics."""
    change = LeadStageChange
    return (
        select(change.lead_id)
        .join(
            Stage,
            and_(
                Stage.workspace_id == change.workspace_id,
                Stage.id == change.to_stage_id,
                Stage.kind == StageKind.WON,
            ),
        )
        .where(change.workspace_id == workspace_id)
        .group_by(change.lead_id)
        .having(and_(func.max(change.changed_at) >= starts, func.max(change.changed_at) < ends))
        .subquery("wins")
    )


class ProductRepository(WorkspaceRepository[Product]):
    model = Product

    async def by_skus(self, skus: Iterable[str]) -> dict[str, Product]:
        wanted = list(set(skus))
        if not wanted:
            return {}
        rows = await self.session.scalars(self.select().where(Product.sku.in_(wanted)))
        return {row.sku: row for row in rows}

    def matching(self, product_filter: ProductFilter) -> Select[Product]:
        stmt = self.select()
        if product_filter.active_only:
            stmt = stmt.where(Product.active.is_(True))
        if product_filter.search:
            # SQLite's lower() knows ASCII only: the SKU is matched as typed, the name folded
            # on both sides where the database can (PostgreSQL), else as typed.
            pattern = like_pattern(fold(product_filter.search))
            stmt = stmt.where(
                or_(
                    func.lower(Product.sku).like(pattern, escape="\\"),
                    func.lower(Product.name).like(pattern, escape="\\"),
                    Product.name.like(like_pattern(product_filter.search.strip()), escape="\\"),
                )
            )
        return stmt

    async def page_matching(
        self, product_filter: ProductFilter, *, window: Window
    ) -> Page[Product]:
        return await self.newest_first(self.matching(product_filter), window=window)

    async def all_matching(self, product_filter: ProductFilter) -> list[Product]:
        stmt = self.matching(product_filter).order_by(Product.sku)
        return list(await self.session.scalars(stmt))

    async def sales(self, starts: datetime, ends: datetime) -> list[SalesRow]:
        """The cart lines of the leads won in [starts, ends), summed per product and currency.

        A lead is counted in the period of its last move into a WON stage, as the reports do.
        Lines that name no product are summed by their name.
        """
        wins = won_in_period(self.workspace_id, starts, ends)
        known_cost = LeadItem.unit_cost.is_not(None)
        line_total = LeadItem.quantity * LeadItem.unit_price
        # Lines of a product are one row whatever their snapshot says; free-text lines are
        # told apart by their name.
        free_text_name = case((LeadItem.product_id.is_(None), LeadItem.product), else_="")
        stmt = (
            select(
                LeadItem.product_id,
                func.max(LeadItem.product),
                func.max(LeadItem.sku),
                Lead.currency,
                func.sum(LeadItem.quantity),
                func.sum(line_total),
                func.sum(case((known_cost, LeadItem.quantity * LeadItem.unit_cost), else_=0)),
                func.sum(case((known_cost, line_total), else_=0)),
                func.sum(case((known_cost, 1), else_=0)),
                func.count(func.distinct(Lead.id)),
            )
            .join(wins, wins.c.lead_id == LeadItem.lead_id)
            .join(
                Lead,
                and_(Lead.workspace_id == LeadItem.workspace_id, Lead.id == LeadItem.lead_id),
            )
            .where(LeadItem.workspace_id == self.workspace_id, Lead.status == LeadStatus.WON)
            .group_by(LeadItem.product_id, free_text_name, Lead.currency)
        )
        rows = await self.session.execute(stmt)
        return [
            SalesRow(
                product_id=product_id,
                name=name,
                sku=sku,
                currency=currency,
                quantity=Decimal(str(quantity)).quantize(Decimal("0.001")),
                revenue=to_cents(revenue),
                cost=to_cents(cost),
                revenue_with_cost=to_cents(revenue_with_cost),
                lines_with_cost=int(lines_with_cost or 0),
                leads=int(leads),
            )
            for (
                product_id,
                name,
                sku,
                currency,
                quantity,
                revenue,
                cost,
                revenue_with_cost,
                lines_with_cost,
                leads,
            ) in rows
        ]
