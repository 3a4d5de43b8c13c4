"""The create_product mutation: a product or service under a SKU new to the workspace."""

from __future__ import annotations

from embedcrm.catalog.service import ProductSpec
from embedcrm.graphql.catalog.inputs import CreateProductInput, ProductPayload
from embedcrm.graphql.catalog.types import Product
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import user_errors_in, workspace_arg
from embedcrm.kit.money import parse_amount


@user_errors_in(ProductPayload)
async def resolve(info: Info, input: CreateProductInput) -> ProductPayload:
    ctx = info.context
    workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
    spec = ProductSpec(
        sku=input.sku,
        name=input.name,
        unit=input.unit,
        kind=input.kind,
        price=parse_amount(input.price, "price"),
        cost=None if input.cost is None else parse_amount(input.cost, "cost"),
        vat_rate=input.vat_rate,
        active=input.active,
    )
    return ProductPayload(
        product=Product.of(await ctx.services.catalog.create(ctx.principal, workspace, spec))
    )
