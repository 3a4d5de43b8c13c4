"""GraphQL inputs and payloads of the catalogue."""

from __future__ import annotations

import strawberry

from embedcrm.catalog import models as catalog_models
from embedcrm.graphql.catalog.types import Product, ProductKind, VatRate
from embedcrm.graphql.core import UserError
from embedcrm.graphql.support import UNSET


@strawberry.type
class ProductPayload:
    product: Product | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Money as decimal strings: «1 500,50» and 1500.50 both read.")
class CreateProductInput:
    sku: str
    name: str
    price: str
    vat_rate: VatRate  # type: ignore[valid-type]
    unit: str = "шт"
    kind: ProductKind = catalog_models.ProductKind.PRODUCT  # type: ignore[valid-type]
    cost: str | None = None
    active: bool = True
    workspace_id: strawberry.ID | None = None


@strawberry.input(description="Only the fields sent change; a null cost clears it.")
class UpdateProductInput:
    id: strawberry.ID
    sku: str | None = UNSET
    name: str | None = UNSET
    price: str | None = UNSET
    vat_rate: VatRate | None = UNSET  # type: ignore[valid-type]
    unit: str | None = UNSET
    kind: ProductKind | None = UNSET  # type: ignore[valid-type]
    cost: str | None = UNSET
    active: bool | None = UNSET


@strawberry.input
class ImportProductsInput:
    csv: str = strawberry.field(
        description="A header naming sku, name, price (and kind, unit, cost, vat, active); "
        "comma or semicolon separated. Known SKUs are updated, new ones created."
    )
    workspace_id: strawberry.ID | None = None


@strawberry.type
class ImportProductsPayload:
    created: int = 0
    updated: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ProductFilter:
    active_only: bool = False
    search: str | None = strawberry.field(default=None, description="Part of the SKU or name.")
