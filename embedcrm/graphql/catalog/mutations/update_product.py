"""The update_product mutation: change a product; inactive ones stay in carts and reports."""

from __future__ import annotations

from typing import Any

from embedcrm.errors import ValidationFailed
from embedcrm.graphql.catalog.inputs import ProductPayload, UpdateProductInput
from embedcrm.graphql.catalog.types import Product
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import UNSET, given, parse_id, user_errors_in
from embedcrm.kit.money import parse_amount


@user_errors_in(ProductPayload)
async def resolve(info: Info, input: UpdateProductInput) -> ProductPayload:
    ctx = info.context
    gid = parse_id(input.id, "Product")
    changes: dict[str, Any] = given(
        sku=input.sku,
        name=input.name,
        unit=input.unit,
        kind=input.kind,
        vat_rate=input.vat_rate,
        active=input.active,
    )
    for key, value in changes.items():
        if value is None:
            raise ValidationFailed("This field cannot be cleared.", field=key)
    if input.price is not UNSET:
        if input.price is None:
            raise ValidationFailed("A product has a price.", field="price")
        changes["price"] = parse_amount(input.price, "price")
    if input.cost is not UNSET:
        changes["cost"] = None if input.cost is None else parse_amount(input.cost, "cost")
    product = await ctx.services.catalog.update(
        ctx.principal, gid.workspace_id, gid.row_id, changes
    )
    return ProductPayload(product=Product.of(product))
