"""CommerceML 2, the XML 1C:Управление торговлей exchanges with sites: orders written for
1C, the status updates it sends back, and its catalogue (import.xml) and offers (offers.xml).

Only what the exchange needs is read; unknown elements are skipped. XML from 1C is parsed with
defusedxml, so no entity is expanded and nothing outside the document is fetched.
"""

from __future__ import annotations

# Building only: every document read from 1C goes through defusedxml.
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from embedcrm.catalog.models import Product, ProductKind, VatRate
from embedcrm.errors import BadRequest
from embedcrm.invoices.models import Invoice, InvoiceLine, InvoiceStatus, VatMode

SCHEMA_VERSION = "2.08"
PAID_ON = "Дата оплаты по 1С"
CANCELLED = "Отменен"
UNSET_DATES = {"", "0001-01-01", "0001-01-01T00:00:00"}
VAT_BY_TEXT = {
    "20": VatRate.VAT_20,
    "10": VatRate.VAT_10,
    "0": VatRate.VAT_0,
    "без налога": VatRate.NONE,
    "без ндс": VatRate.NONE,
}


@dataclass(frozen=True)
class OrderUpdate:
    """What 1C says of an order it took: paid on a date, or cancelled."""

    order_id: str
    paid: bool
    cancelled: bool


@dataclass(frozen=True)
class CatalogItem:
    external_id: str
    sku: str
    name: str
    unit: str
    kind: ProductKind
    vat_rate: VatRate


@dataclass(frozen=True)
class Offer:
    external_id: str
    sku: str | None
    price: Decimal


# ---- writing ---------------------------------------------------------------------------------


def _add(parent: ET.Element, tag: str, text: Any = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = str(text)
    return element


def _requisite(parent: ET.Element, name: str, value: Any) -> None:
    item = _add(parent, "ЗначениеРеквизита")
    _add(item, "Наименование", name)
    _add(item, "Значение", value)


def _rate_text(rate: VatRate) -> str:
    return "Без налога" if rate.percent is None else str(rate.percent)


def orders_document(
    orders: Sequence[tuple[Invoice, Sequence[InvoiceLine], dict[Any, Product]]], now: datetime
) -> bytes:
    """The orders for 1C's `query`: one «Документ» per invoice, «Заказ товара»."""
    root = ET.Element(
        "КоммерческаяИнформация",
        {"ВерсияСхемы": SCHEMA_VERSION, "ДатаФормирования": now.strftime("%Y-%m-%dT%H:%M:%S")},
    )
    for invoice, lines, products in orders:
        document = _add(root, "Документ")
        made = invoice.issued_at or invoice.created_at
        _add(document, "Ид", invoice.id)
        _add(document, "Номер", invoice.number)
        _add(document, "Дата", made.date().isoformat())
        _add(document, "ХозОперация", "Заказ товара")
        _add(document, "Роль", "Продавец")
        _add(document, "Валюта", invoice.currency)
        _add(document, "Курс", 1)
        _add(document, "Сумма", invoice.total)
        parties = _add(document, "Контрагенты")
        party = _add(parties, "Контрагент")
        _add(party, "Ид", invoice.contact_id or f"buyer-{invoice.id}")
        _add(party, "Наименование", invoice.buyer_name)
        _add(party, "ПолноеНаименование", invoice.buyer_details or invoice.buyer_name)
        _add(party, "Роль", "Покупатель")
        _add(document, "Время", made.strftime("%H:%M:%S"))
        if invoice.note:
            _add(document, "Комментарий", invoice.note)
        if invoice.vat_total:
            taxes = _add(_add(document, "Налоги"), "Налог")
            _add(taxes, "Наименование", "НДС")
            _add(taxes, "УчтеноВСумме", str(invoice.vat_mode is VatMode.INCLUDED).lower())
            _add(taxes, "Сумма", invoice.vat_total)
        goods = _add(document, "Товары")
        for line in lines:
            product = products.get(line.product_id) if line.product_id else None
            item = _add(goods, "Товар")
            _add(
                item,
                "Ид",
                (product.external_id or product.id) if product else (line.sku or line.id),
            )
            if line.sku:
                _add(item, "Артикул", line.sku)
            _add(item, "Наименование", line.name)
            _add(item, "БазоваяЕдиница", line.unit)
            _add(item, "ЦенаЗаЕдиницу", line.unit_price)
            _add(item, "Количество", f"{line.quantity.normalize():f}")
            _add(item, "Сумма", line.total)
            rates = _add(_add(item, "СтавкиНалогов"), "СтавкаНалога")
            _add(rates, "Наименование", "НДС")
            _add(rates, "Ставка", _rate_text(line.vat_rate))
            kind = "Услуга" if product and product.kind is ProductKind.SERVICE else "Товар"
            values = _add(item, "ЗначенияРеквизитов")
            _requisite(values, "ВидНоменклатуры", kind)
            _requisite(values, "ТипНоменклатуры", kind)
        values = _add(document, "ЗначенияРеквизитов")
        _requisite(values, "Заказ оплачен", str(invoice.status is InvoiceStatus.PAID).lower())
        _requisite(values, CANCELLED, str(invoice.status is InvoiceStatus.CANCELLED).lower())
        _requisite(values, "Статус заказа", invoice.status.value)
    body: bytes = ET.tostring(root, encoding="unicode").encode()
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


# ---- reading ---------------------------------------------------------------------------------


def _parse(raw: bytes) -> Any:
    try:
        return SafeET.fromstring(raw)
    except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
        raise BadRequest(f"Not a CommerceML document: {exc}.") from exc


def _text(element: Any, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _requisites(element: Any) -> dict[str, str]:
    return {
        _text(item, "Наименование"): _text(item, "Значение")
        for item in element.iterfind("ЗначенияРеквизитов/ЗначениеРеквизита")
    }


def order_updates(raw: bytes) -> list[OrderUpdate]:
    """The documents 1C sends back (`type=sale&mode=file`): which orders it saw paid or
    cancelled."""
    root = _parse(raw)
    updates = []
    for document in root.iter("Документ"):
        values = _requisites(document)
        updates.append(
            OrderUpdate(
                order_id=_text(document, "Ид"),
                paid=values.get(PAID_ON, "") not in UNSET_DATES,
                cancelled=values.get(CANCELLED, "").lower() == "true",
            )
        )
    return updates


def _vat(element: Any) -> VatRate:
    text = _text(element, "СтавкиНалогов/СтавкаНалога/Ставка").casefold().rstrip("%")
    return VAT_BY_TEXT.get(text, VatRate.NONE)


def catalog_items(raw: bytes) -> list[CatalogItem]:
    """The products of import.xml («Каталог/Товары/Товар»). A product without «Артикул» is
    known by its «Ид» as its SKU."""
    root = _parse(raw)
    items = []
    for product in root.iter("Товар"):
        external_id = _text(product, "Ид")
        name = _text(product, "Наименование")
        if not external_id or not name:
            continue
        kinds = {v.casefold() for v in _requisites(product).values()}
        items.append(
            CatalogItem(
                external_id=external_id[:100],
                sku=(_text(product, "Артикул") or external_id)[:100],
                name=name[:300],
                unit=(_text(product, "БазоваяЕдиница") or "шт")[:20],
                kind=ProductKind.SERVICE if "услуга" in kinds else ProductKind.PRODUCT,
                vat_rate=_vat(product),
            )
        )
    return items


def offers(raw: bytes) -> list[Offer]:
    """The prices of offers.xml («ПакетПредложений/Предложения/Предложение»): the first price
    of each offer; an offer's «Ид» is its product's, or ``product#characteristic``."""
    root = _parse(raw)
    found = []
    for offer in root.iter("Предложение"):
        external_id = _text(offer, "Ид").split("#", 1)[0]
        price_text = _text(offer, "Цены/Цена/ЦенаЗаЕдиницу").replace(",", ".")
        try:
            price = Decimal(price_text)
        except InvalidOperation:
            continue
        if external_id and price.is_finite() and 0 <= price < Decimal("1e12"):
            found.append(
                Offer(external_id=external_id, sku=_text(offer, "Артикул") or None, price=price)
            )
    return found
