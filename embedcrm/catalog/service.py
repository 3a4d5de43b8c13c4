"""The catalogue: products and services, their CSV import and export, and what was sold."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from embedcrm.auth import Principal
from embedcrm.catalog.models import Product, ProductKind, VatRate
from embedcrm.catalog.repository import ProductFilter, ProductRepository, SalesRow
from embedcrm.db import Database, utcnow
from embedcrm.errors import Conflict, NotFound, ValidationFailed
from embedcrm.kit.money import checked_amount, parse_amount
from embedcrm.kit.repository import Page, Window
from embedcrm.workspaces.access import load_actor

MAX_IMPORT_ROWS = 10_000
TEXT_LIMITS = {"sku": 100, "name": 300, "unit": 20}
CSV_COLUMNS = ["sku", "name", "kind", "unit", "price", "cost", "vat", "active"]
# How a spreadsheet or a person writes each rate.
VAT_WORDS = {
    "20": VatRate.VAT_20,
    "20%": VatRate.VAT_20,
    "vat_20": VatRate.VAT_20,
    "10": VatRate.VAT_10,
    "10%": VatRate.VAT_10,
    "vat_10": VatRate.VAT_10,
    "0": VatRate.VAT_0,
    "0%": VatRate.VAT_0,
    "vat_0": VatRate.VAT_0,
    "none": VatRate.NONE,
    "без ндс": VatRate.NONE,
    "без налога (ндс)": VatRate.NONE,
}
YES = {"1", "yes", "true", "да", "y"}
NO = {"0", "no", "false", "нет", "n"}


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    name: str
    price: Decimal
    vat_rate: VatRate
    unit: str = "шт"
    kind: ProductKind = ProductKind.PRODUCT
    cost: Decimal | None = None
    active: bool = True

    def checked(self, prefix: str = "") -> ProductSpec:
        """The spec with its text trimmed and its amounts in kopecks, or a clear refusal."""
        texts = {}
        for name, limit in TEXT_LIMITS.items():
            value = str(getattr(self, name)).strip()
            if not 0 < len(value) <= limit:
                raise ValidationFailed(
                    f"{prefix}{name} of 1 to {limit} characters is required.", field=name
                )
            texts[name] = value
        return ProductSpec(
            sku=texts["sku"],
            name=texts["name"],
            unit=texts["unit"],
            price=checked_amount(self.price, "price"),
            cost=None if self.cost is None else checked_amount(self.cost, "cost"),
            vat_rate=self.vat_rate,
            kind=self.kind,
            active=self.active,
        )


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


@dataclass(frozen=True)
class SalesReport:
    starts: datetime
    ends: datetime
    rows: list[SalesRow]


def parse_vat(raw: str, field: str) -> VatRate:
    rate = VAT_WORDS.get(raw.strip().casefold().replace("\u00a0", " "))
    if rate is None:
        raise ValidationFailed("VAT is one of 20, 10, 0 or «без НДС».", field=field)
    return rate


def _flag(raw: str, field: str) -> bool:
    value = raw.strip().casefold()
    if value in YES or value == "":
        return True
    if value in NO:
        return False
    raise ValidationFailed("Active is yes or no.", field=field)


def parse_product_row(row: Mapping[str, str], number: int) -> ProductSpec:
    """One CSV row as a product; the row's number leads every message about it."""
    where = f"Row {number}: "
    try:
        kind_text = (row.get("kind") or "PRODUCT").strip().upper()
        if kind_text not in ProductKind.__members__:
            raise ValidationFailed("kind is PRODUCT or SERVICE.", field="kind")
        cost_text = (row.get("cost") or "").strip()
        return ProductSpec(
            sku=row.get("sku") or "",
            name=row.get("name") or "",
            unit=(row.get("unit") or "").strip() or "шт",
            kind=ProductKind(kind_text),
            price=parse_amount(row.get("price") or "", "price"),
            cost=parse_amount(cost_text, "cost") if cost_text else None,
            vat_rate=parse_vat(row.get("vat") or "none", "vat"),
            active=_flag(row.get("active") or "", "active"),
        ).checked()
    except ValidationFailed as exc:
        raise ValidationFailed(where + exc.message, field="csv") from exc


class CatalogService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, principal: Principal, workspace_id: uuid.UUID, spec: ProductSpec
    ) -> Product:
        spec = spec.checked()
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
            repo = ProductRepository(session, workspace_id)
            if await repo.by_skus([spec.sku]):
                raise Conflict("Another product has this SKU.", field="sku")
            product = repo.add(Product(**_columns(spec)))
            await session.flush()
            return product

    async def update(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        product_id: uuid.UUID,
        changes: Mapping[str, Any],
    ) -> Product:
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id)
            repo = ProductRepository(session, workspace_id)
            product = await repo.get(product_id)
            if product is None:
                raise NotFound("Nothing has this id.", field="id")
            current = _spec_of(product)
            merged = ProductSpec(**{**current.__dict__, **changes}).checked()
            if merged.sku != product.sku and await repo.by_skus([merged.sku]):
                raise Conflict("Another product has this SKU.", field="sku")
            for key, value in _columns(merged).items():
                setattr(product, key, value)
            product.updated_at = utcnow()
            await session.flush()
            return product

    async def get_many(
        self, principal: Principal, workspace_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Product]:
        async with self.db.transaction() as session:
            repo = ProductRepository.for_reader(session, principal, workspace_id)
            return await repo.get_many(ids)

    async def page(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        product_filter: ProductFilter,
        *,
        window: Window,
    ) -> Page[Product]:
        async with self.db.transaction() as session:
            repo = ProductRepository.for_reader(
                session, principal, workspace_id, field="workspaceId"
            )
            return await repo.page_matching(product_filter, window=window)

    async def count(
        self, principal: Principal, workspace_id: uuid.UUID, product_filter: ProductFilter
    ) -> int:
        async with self.db.transaction() as session:
            repo = ProductRepository.for_reader(
                session, principal, workspace_id, field="workspaceId"
            )
            return await repo.count(repo.matching(product_filter))

    async def import_csv(
        self, principal: Principal, workspace_id: uuid.UUID, text: str
    ) -> ImportResult:
        """Rows with the header of CSV_COLUMNS (sku, name and price required), matched to the
        catalogue by SKU: a known SKU is updated, a new one created.

        All or nothing: one bad row rejects the file, naming the row, so a fixed file can be
        sent again and gives the same catalogue.
        """
        specs = _parse_csv(text)
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
            repo = ProductRepository(session, workspace_id)
            known = await repo.by_skus(specs)
            for spec in specs.values():
                product = known.get(spec.sku)
                if product is None:
                    repo.add(Product(**_columns(spec)))
                    continue
                for key, value in _columns(spec).items():
                    setattr(product, key, value)
                product.updated_at = utcnow()
            await session.flush()
            return ImportResult(created=len(specs) - len(known), updated=len(known))

    async def export_csv(
        self, principal: Principal, workspace_id: uuid.UUID, product_filter: ProductFilter
    ) -> tuple[str, int]:
        """The catalogue in the import's own format, so an export edited in a spreadsheet
        imports back."""
        async with self.db.reading() as session:
            repo = ProductRepository.for_reader(
                session, principal, workspace_id, field="workspaceId"
            )
            products = await repo.all_matching(product_filter)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for p in products:
            writer.writerow(
                [
                    p.sku,
                    p.name,
                    p.kind.value,
                    p.unit,
                    p.price,
                    "" if p.cost is None else p.cost,
                    "none" if p.vat_rate.percent is None else p.vat_rate.percent,
                    "yes" if p.active else "no",
                ]
            )
        return out.getvalue(), len(products)

    async def sales(
        self, principal: Principal, workspace_id: uuid.UUID, starts: datetime, ends: datetime
    ) -> SalesReport:
        """What the leads won in the period bought, per product, biggest revenue first."""
        if ends <= starts:
            raise ValidationFailed("The period must end after it starts.", field="ends")
        async with self.db.transaction() as session:
            repo = ProductRepository.for_reader(
                session, principal, workspace_id, field="workspaceId"
            )
            rows = await repo.sales(starts, ends)
            # A product's row carries its name as the catalogue has it now, not as one
            # cart happened to snapshot it.
            products = await repo.get_many(r.product_id for r in rows if r.product_id)
        named = [
            SalesRow(
                **{
                    **row.__dict__,
                    "name": products[row.product_id].name,
                    "sku": products[row.product_id].sku,
                }
            )
            if row.product_id in products
            else row
            for row in rows
        ]
        named.sort(key=lambda r: (-r.revenue, r.name))
        return SalesReport(starts=starts, ends=ends, rows=named)


def _columns(spec: ProductSpec) -> dict[str, Any]:
    return dict(spec.__dict__)


def _spec_of(product: Product) -> ProductSpec:
    return ProductSpec(
        sku=product.sku,
        name=product.name,
        unit=product.unit,
        kind=product.kind,
        price=product.price,
        cost=product.cost,
        vat_rate=product.vat_rate,
        active=product.active,
    )


def _parse_csv(text: str) -> dict[str, ProductSpec]:
    try:
        # newline=None reads \r\n, \n and a bare \r (old spreadsheet exports) as line ends;
        # a semicolon is what a Russian Excel writes.
        body = text.lstrip("\ufeff")
        first_line = body.split("\n", 1)[0]
        delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
        reader = csv.DictReader(io.StringIO(body, newline=None), delimiter=delimiter)
        header = {(f or "").strip().casefold() for f in reader.fieldnames or []}
        if not {"sku", "name", "price"} <= header:
            raise ValidationFailed(
                "The header must name sku, name and price (and may name "
                "kind, unit, cost, vat, active).",
                field="csv",
            )
        specs: dict[str, ProductSpec] = {}
        for number, raw in enumerate(reader, start=2):
            if len(specs) >= MAX_IMPORT_ROWS:
                raise ValidationFailed(f"More than {MAX_IMPORT_ROWS} rows.", field="csv")
            row = {(k or "").strip().casefold(): (v or "") for k, v in raw.items()}
            spec = parse_product_row(row, number)
            if spec.sku in specs:
                raise ValidationFailed(
                    f"Row {number}: SKU {spec.sku} is already on an earlier row.", field="csv"
                )
            specs[spec.sku] = spec
    except csv.Error as exc:
        raise ValidationFailed(f"Not a CSV file: {exc}.", field="csv") from exc
    if not specs:
        raise ValidationFailed("The file has no rows.", field="csv")
    return specs
