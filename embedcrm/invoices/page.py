"""The printable invoice: one self-contained HTML page in Russian or English, with the shop's
requisites, the lines, the VAT of each rate and the total."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from embedcrm.catalog.models import VatRate
from embedcrm.invoices.models import InvoiceStatus, VatMode
from embedcrm.invoices.service import PrintableInvoice

WORDS = {
    "ru": {
        "title": "Счёт № {number} от {date}",
        "draft": "Черновик счёта",
        "seller": "Поставщик",
        "buyer": "Покупатель",
        "inn": "ИНН",
        "kpp": "КПП",
        "ogrn": "ОГРН",
        "bank": "Банк получателя",
        "bik": "БИК",
        "account": "Сч. №",
        "corr": "Корр. сч. №",
        "no": "№",
        "item": "Товары (работы, услуги)",
        "qty": "Кол-во",
        "unit": "Ед.",
        "price": "Цена",
        "vat_rate": "НДС",
        "sum": "Сумма",
        "subtotal": "Итого без НДС",
        "vat_included": "В том числе НДС {rate}",
        "vat_on_top": "НДС {rate}",
        "no_vat": "Без налога (НДС)",
        "total": "Всего к оплате",
        "due": "Оплатить до {date}",
        "none": "без НДС",
        "cancelled": "Счёт аннулирован",
        "paid": "Оплачен",
        "lang": "ru",
    },
    "en": {
        "title": "Invoice No. {number} of {date}",
        "draft": "Draft invoice",
        "seller": "Seller",
        "buyer": "Buyer",
        "inn": "INN (tax id)",
        "kpp": "KPP",
        "ogrn": "OGRN",
        "bank": "Beneficiary bank",
        "bik": "BIC",
        "account": "Account No.",
        "corr": "Corr. account No.",
        "no": "No.",
        "item": "Goods (work, services)",
        "qty": "Qty",
        "unit": "Unit",
        "price": "Price",
        "vat_rate": "VAT",
        "sum": "Amount",
        "subtotal": "Subtotal excl. VAT",
        "vat_included": "Including VAT {rate}",
        "vat_on_top": "VAT {rate}",
        "no_vat": "No VAT",
        "total": "Total due",
        "due": "Due by {date}",
        "none": "no VAT",
        "cancelled": "Cancelled",
        "paid": "Paid",
        "lang": "en",
    },
}

STYLE = (
    "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#111}"
    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3rem .5rem}"
    ".num{text-align:right;white-space:nowrap}.totals td{border:none}"
    ".stamp{font-weight:bold;color:#a00}@media print{body{margin:0}}"
)


def _money(value: Decimal, language: str) -> str:
    """1 234,50 in Russian, 1,234.50 in English."""
    text = f"{value:,.2f}"
    if language == "ru":
        return text.replace(",", "\u00a0").replace(".", ",")
    return text


def _rate(rate: VatRate, words: dict[str, str]) -> str:
    return words["none"] if rate.percent is None else f"{rate.percent}\u00a0%"


def render_invoice(view: PrintableInvoice) -> str:
    invoice, words, lang = view.invoice, WORDS[view.language], view.language
    e = escape
    issued = invoice.issued_at.date().isoformat() if invoice.issued_at else ""
    heading = (
        words["title"].format(number=invoice.number, date=issued)
        if invoice.number is not None
        else words["draft"]
    )
    parts = [
        f'<!doctype html><html lang="{words["lang"]}"><head><meta charset="utf-8">',
        f"<title>{e(heading)}</title><style>{STYLE}</style></head><body>",
    ]
    seller = view.seller
    if seller is not None:
        bank_rows = [
            (words["bank"], seller.bank_name),
            (words["bik"], seller.bik),
            (words["account"], seller.bank_account),
            (words["corr"], seller.correspondent_account),
        ]
        parts.append('<table class="bank"><tbody>')
        parts += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in bank_rows if v]
        parts.append("</tbody></table>")
    parts.append(f"<h1>{e(heading)}</h1>")
    if invoice.status is InvoiceStatus.CANCELLED:
        parts.append(f'<p class="stamp">{e(words["cancelled"])}</p>')
    elif invoice.status is InvoiceStatus.PAID:
        parts.append(f'<p class="stamp">{e(words["paid"])}</p>')
    if seller is not None:
        ids = [f"{words['inn']} {seller.inn}"]
        if seller.kpp:
            ids.append(f"{words['kpp']} {seller.kpp}")
        if seller.ogrn:
            ids.append(f"{words['ogrn']} {seller.ogrn}")
        described = ", ".join(
            [seller.legal_name, *ids, *([seller.address] if seller.address else [])]
        )
    else:
        described = view.workspace_name
    parts.append(f"<p><strong>{e(words['seller'])}:</strong> {e(described)}</p>")
    buyer = invoice.buyer_name + (f", {invoice.buyer_details}" if invoice.buyer_details else "")
    parts.append(f"<p><strong>{e(words['buyer'])}:</strong> {e(buyer)}</p>")
    header = ("no", "item", "qty", "unit", "price", "vat_rate", "sum")
    parts.append("<table><thead><tr>")
    parts += [f"<th>{e(words[h])}</th>" for h in header]
    parts.append("</tr></thead><tbody>")
    for n, line in enumerate(view.lines, start=1):
        cells = [
            (str(n), "num"),
            (line.name, ""),
            (f"{line.quantity.normalize():f}", "num"),
            (line.unit, ""),
            (_money(line.unit_price, lang), "num"),
            (_rate(line.vat_rate, words), "num"),
            (_money(line.total if invoice.vat_mode is VatMode.INCLUDED else line.net, lang), "num"),
        ]
        parts.append("<tr>" + "".join(f'<td class="{c}">{e(v)}</td>' for v, c in cells) + "</tr>")
    parts.append('</tbody></table><table class="totals"><tbody>')
    currency = e(invoice.currency)
    totals = view.totals
    rows: list[tuple[str, Decimal]] = []
    if invoice.vat_mode is VatMode.ON_TOP:
        rows.append((words["subtotal"], totals.subtotal))
    key = "vat_included" if invoice.vat_mode is VatMode.INCLUDED else "vat_on_top"
    for rate in (VatRate.VAT_20, VatRate.VAT_10, VatRate.VAT_0):
        if rate in totals.vat_by_rate:
            rows.append((words[key].format(rate=_rate(rate, words)), totals.vat_by_rate[rate]))
    if not totals.vat_by_rate:
        parts.append(f'<tr><td class="num" colspan="2">{e(words["no_vat"])}</td></tr>')
    rows.append((words["total"], totals.total))
    parts += [
        f'<tr><td class="num">{e(label)}:</td><td class="num">{_money(v, lang)} {currency}</td></tr>'
        for label, v in rows
    ]
    parts.append("</tbody></table>")
    if invoice.due_on:
        parts.append(f"<p>{e(words['due'].format(date=invoice.due_on.isoformat()))}</p>")
    if invoice.note:
        parts.append(f"<p>{e(invoice.note)}</p>")
    parts.append("</body></html>")
    return "".join(parts)
