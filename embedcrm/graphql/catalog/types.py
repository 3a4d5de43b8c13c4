"""GraphQL types of the catalogue: money as decimal strings, quantities likewise."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from embedcrm.catalog import models as catalog_models
from embedcrm.catalog.repository import SalesRow
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Node, node_id
from embedcrm.graphql.ids import GlobalId, to_global_id
from embedcrm.graphql.nodes import loads_row

ProductKind = strawberry.enum(catalog_models.ProductKind, name="ProductKind")
VatRate = strawberry.enum(
    catalog_models.VatRate,
    name="VatRate",
    description="VAT_20, VAT_10, VAT_0, or NONE for «без НДС» (simplified taxation).",
)


@strawberry.type(description="A product or service of the catalogue.")
class Product(Node):
    sku: str
    name: str
    kind: ProductKind  # type: ignore[valid-type]
    unit: str
    price: str
    cost: str | None
    vat_rate: VatRate  # type: ignore[valid-type]
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: catalog_models.Product) -> Product:
        return cls(
            id=node_id("Product", row),
            sku=row.sku,
            name=row.name,
            kind=row.kind,
            unit=row.unit,
            price=str(row.price),
            cost=None if row.cost is None else str(row.cost),
            vat_rate=row.vat_rate,
            active=row.active,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="What the leads won in the period bought of one product.")
class ProductSales:
    product_id: strawberry.ID | None = strawberry.field(
        description="Null for free-text cart lines, which are summed by their name."
    )
    name: str
    sku: str | None
    currency: str | None
    quantity: str
    revenue: str
    cost: str = strawberry.field(description="The cost of the lines whose cost is known.")
    margin: str | None = strawberry.field(
        description="Revenue less cost over the lines whose cost is known; null if none is."
    )
    leads: int

    @classmethod
    def of(cls, workspace_id: uuid.UUID, row: SalesRow) -> ProductSales:
        known = row.lines_with_cost > 0
        return cls(
            product_id=None
            if row.product_id is None
            else strawberry.ID(to_global_id("Product", workspace_id, row.product_id)),
            name=row.name,
            sku=row.sku,
            currency=row.currency,
            quantity=str(row.quantity.normalize()),
            revenue=str(row.revenue),
            cost=str(row.cost),
            margin=str(row.revenue_with_cost - row.cost) if known else None,
            leads=row.leads,
        )


@strawberry.type(description="Sales by product over a half-open period [starts, ends).")
class SalesByProduct:
    starts: datetime
    ends: datetime
    rows: list[ProductSales]


@loads_row("Product", Product.of)
async def _product(info: Info, gid: GlobalId) -> catalog_models.Product | None:
    products = await info.context.services.catalog.get_many(
        info.context.principal, gid.workspace_id, [gid.row_id]
    )
    return products.get(gid.row_id)
