"""GraphQL queries and mutations of the catalogue and the sales-by-product report."""

from __future__ import annotations

from datetime import datetime

import strawberry

from embedcrm.catalog.repository import ProductFilter as ProductFilterQuery
from embedcrm.graphql.catalog import mutations
from embedcrm.graphql.catalog.inputs import ProductFilter
from embedcrm.graphql.catalog.types import Product, ProductSales, SalesByProduct
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, CsvExport
from embedcrm.graphql.permissions import OwnerOnly
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, connection, workspace_arg
from embedcrm.kit.repository import Window


def _filter(value: ProductFilter | None) -> ProductFilterQuery:
    f = value or ProductFilter()
    return ProductFilterQuery(active_only=f.active_only, search=f.search)


@strawberry.type
class CatalogQuery:
    @strawberry.field(description="The catalogue, newest first.")
    async def products(
        self,
        info: Info,
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ProductFilter | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> Connection[Product]:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        query = _filter(filter)
        service = ctx.services.catalog
        page = await service.page(
            ctx.principal, workspace, query, window=Window(first, after, last, before)
        )
        return connection(page, Product.of, lambda: service.count(ctx.principal, workspace, query))

    @strawberry.field(description="The catalogue as CSV, in the format importProducts reads.")
    async def products_csv(
        self,
        info: Info,
        filter: ProductFilter | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> CsvExport:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        text, rows = await ctx.services.catalog.export_csv(
            ctx.principal, workspace, _filter(filter)
        )
        return CsvExport(csv=text, row_count=rows)

    @strawberry.field(
        description="What the leads won in [starts, ends) bought, per product and currency, "
        "biggest revenue first; a lead counts when it last moved into a WON stage."
    )
    async def sales_by_product(
        self,
        info: Info,
        starts: datetime,
        ends: datetime,
        workspace_id: strawberry.ID | None = None,
    ) -> SalesByProduct:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        report = await ctx.services.catalog.sales(ctx.principal, workspace, starts, ends)
        return SalesByProduct(
            starts=report.starts,
            ends=report.ends,
            rows=[ProductSales.of(workspace, row) for row in report.rows],
        )


@strawberry.type
class CatalogMutation:
    create_product = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.create_product.resolve,
        description="A product or service; its SKU is unique in the workspace (owner only).",
    )
    update_product = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.update_product.resolve,
        description="Change a product; one no longer sold is made inactive, never deleted.",
    )
    import_products = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.import_products.resolve,
        description="Products from CSV: known SKUs updated, new ones created; all or nothing.",
    )
