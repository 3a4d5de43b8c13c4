"""Invoices: drafts from a lead's cart or by hand, issuing with the next number, cancelling,
the shop's requisites, and the signed link to the printable page."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.catalog.models import VatRate
from embedcrm.catalog.repository import ProductRepository
from embedcrm.config import Settings
from embedcrm.contacts.service import get_contact, readable_contact
from embedcrm.db import Database, utcnow
from embedcrm.errors import Conflict, NotFound, ValidationFailed
from embedcrm.invoices.amounts import LineAmounts, Totals, line_amounts, totals
from embedcrm.invoices.events import emit_invoice_event, emit_payment_received
from embedcrm.invoices.models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentSource,
    Requisites,
    VatMode,
)
from embedcrm.invoices.repository import (
    BalanceRow,
    DebtRepository,
    DebtRow,
    InvoiceFilter,
    InvoiceLocks,
    InvoiceRepository,
    OverdueInvoiceScan,
    PaymentRepository,
    RequisitesRepository,
)
from embedcrm.kit.grouping import grouped
from embedcrm.kit.money import checked_amount
from embedcrm.kit.repository import Page, Window
from embedcrm.leads.moves import get_lead
from embedcrm.leads.service import items_of_leads
from embedcrm.workspaces.access import Actor, load_actor, viewer_of
from embedcrm.workspaces.models import Workspace
from embedcrm.workspaces.repository import WorkspaceDirectory

PRINT_LINK_SALT = "embedcrm.invoice-page.v1"
# A client may open an invoice long after it was sent; a year covers any due date in practice.
PRINT_LINK_MAX_AGE = 366 * 24 * 3600
MAX_LINES = 200
LANGUAGES = ("ru", "en")


@dataclass(frozen=True)
class LineSpec:
    name: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: VatRate
    unit: str = "шт"
    sku: str | None = None
    product_id: uuid.UUID | None = None
    # What one unit costs the shop, where known: the margin commission is counted on.
    unit_cost: Decimal | None = None


@dataclass(frozen=True)
class InvoiceDraft:
    """What a new invoice is made of. Without ``lines``, a lead's cart gives them; lines that
    name no product's VAT rate take ``default_vat_rate``."""

    vat_mode: VatMode = VatMode.INCLUDED
    default_vat_rate: VatRate = VatRate.NONE
    lead_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    lines: Sequence[LineSpec] | None = None
    buyer_name: str | None = None
    buyer_details: str | None = None
    currency: str | None = None
    due_on: date | None = None
    language: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class RequisitesSpec:
    legal_name: str
    inn: str
    kpp: str | None = None
    ogrn: str | None = None
    address: str | None = None
    bank_name: str | None = None
    bik: str | None = None
    bank_account: str | None = None
    correspondent_account: str | None = None


@dataclass(frozen=True)
class ReceivedPayment:
    """A payment to apply: by hand, or from a provider under its own payment id."""

    amount: Decimal
    paid_at: datetime
    source: PaymentSource = PaymentSource.MANUAL
    provider: str | None = None
    provider_payment_id: str | None = None
    note: str | None = None
    recorded_by_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Receivables:
    today: date
    rows: list[DebtRow]


@dataclass(frozen=True)
class Revenue:
    """Money of one period seen two ways: as received, and as won on leads."""

    starts: datetime
    ends: datetime
    by_paid_date: dict[str, Decimal]
    by_won_date: dict[str, Decimal]


async def apply_payment(
    session: AsyncSession, workspace_id: uuid.UUID, invoice_id: uuid.UUID, received: ReceivedPayment
) -> tuple[Payment, Invoice, bool]:
    """Apply one payment to one invoice, in the caller's transaction: (payment, invoice, new).

    The invoice is locked first, so concurrent payments add up one after the other; a
    provider's payment already applied (the same provider payment id) is answered as it was,
    so a repeated notification changes nothing.
    """
    invoice = await InvoiceLocks(session, workspace_id).locked(invoice_id)
    if invoice is None:
        raise NotFound("Nothing has this id.", field="invoiceId")
    payments = PaymentRepository(session, workspace_id)
    if received.provider and received.provider_payment_id:
        known = await payments.by_provider_id(received.provider, received.provider_payment_id)
        if known is not None:
            if known.invoice_id != invoice.id:
                raise Conflict("This payment was applied to another invoice.", field="invoiceId")
            return known, invoice, False
    if invoice.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID):
        raise Conflict(
            {
                InvoiceStatus.DRAFT: "A draft is issued before it is paid.",
                InvoiceStatus.PAID: "This invoice is already paid in full.",
                InvoiceStatus.CANCELLED: "This invoice is cancelled.",
            }.get(invoice.status, "This invoice takes no payment."),
            field="invoiceId",
        )
    amount = checked_amount(received.amount, "amount")
    outstanding = invoice.total - invoice.paid_total
    if amount <= 0:
        raise ValidationFailed("A payment is more than zero.", field="amount")
    if amount > outstanding:
        raise ValidationFailed(
            f"The invoice has {outstanding} {invoice.currency} left to pay.", field="amount"
        )
    now = utcnow()
    payment = payments.add(
        Payment(
            invoice_id=invoice.id,
            amount=amount,
            currency=invoice.currency,
            source=received.source,
            provider=received.provider,
            provider_payment_id=received.provider_payment_id,
            note=_text(received.note, "note", 2000),
            recorded_by_id=received.recorded_by_id,
            paid_at=received.paid_at,
            created_at=now,
        )
    )
    invoice.paid_total = invoice.paid_total + amount
    invoice.updated_at = now
    if invoice.paid_total == invoice.total:
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = received.paid_at
    else:
        invoice.status = InvoiceStatus.PARTLY_PAID
    await session.flush()
    await emit_payment_received(session, invoice, payment)
    if invoice.status is InvoiceStatus.PAID:
        await emit_invoice_event(session, invoice, "invoice.paid", now=now)
    return payment, invoice, True


@dataclass(frozen=True)
class PrintableInvoice:
    invoice: Invoice
    lines: list[InvoiceLine]
    totals: Totals
    seller: Requisites | None
    workspace_name: str
    language: str


@dataclass(frozen=True)
class InvoiceView:
    """An invoice with its lines, as the API answers it."""

    invoice: Invoice
    lines: list[InvoiceLine] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)


def _text(value: str | None, field_name: str, limit: int, *, required: bool = False) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationFailed(f"{field_name} is required.", field=field_name)
        return None
    if len(text) > limit:
        raise ValidationFailed(f"At most {limit} characters.", field=field_name)
    return text


def _digits(value: str | None, field_name: str, lengths: tuple[int, ...]) -> str | None:
    text = re.sub(r"\s", "", value or "")
    if not text:
        return None
    if not text.isdigit() or len(text) not in lengths:
        raise ValidationFailed(
            f"{' or '.join(map(str, lengths))} digits are required.", field=field_name
        )
    return text


def inn_is_valid(inn: str) -> bool:
    """The check digits of a Russian INN: one for an organisation's 10, two for a person's 12."""

    def check(digits: str, weights: Sequence[int]) -> int:
        return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10

    if len(inn) == 10:
        return check(inn, (2, 4, 10, 3, 5, 9, 4, 6, 8)) == int(inn[9])
    if len(inn) == 12:
        first = check(inn, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
        second = check(inn, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
        return first == int(inn[10]) and second == int(inn[11])
    return False


def checked_requisites(spec: RequisitesSpec) -> dict[str, Any]:
    inn = _digits(spec.inn, "inn", (10, 12))
    if inn is None or not inn_is_valid(inn):
        raise ValidationFailed("Not a valid INN (its check digits do not match).", field="inn")
    kpp = re.sub(r"\s", "", spec.kpp or "").upper() or None
    if kpp is not None and not re.fullmatch(r"\d{4}[0-9A-Z]{2}\d{3}", kpp):
        raise ValidationFailed("A KPP is 9 characters.", field="kpp")
    return {
        "legal_name": _text(spec.legal_name, "legalName", 300, required=True),
        "inn": inn,
        "kpp": kpp,
        "ogrn": _digits(spec.ogrn, "ogrn", (13, 15)),
        "address": _text(spec.address, "address", 1000),
        "bank_name": _text(spec.bank_name, "bankName", 300),
        "bik": _digits(spec.bik, "bik", (9,)),
        "bank_account": _digits(spec.bank_account, "bankAccount", (20,)),
        "correspondent_account": _digits(spec.correspondent_account, "correspondentAccount", (20,)),
    }


def _checked_lines(lines: Sequence[LineSpec]) -> list[LineSpec]:
    if not lines:
        raise ValidationFailed("An invoice needs at least one line.", field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"An invoice holds at most {MAX_LINES} lines.", field="lines")
    checked = []
    for i, line in enumerate(lines):
        name = _text(line.name, f"lines[{i}].name", 300, required=True)
        unit = _text(line.unit, f"lines[{i}].unit", 20) or "шт"
        q = line.quantity
        if not q.is_finite() or q <= 0 or q >= Decimal("1e9"):
            raise ValidationFailed("A positive quantity is required.", field=f"lines[{i}].quantity")
        price = checked_amount(line.unit_price, f"lines[{i}].unitPrice")
        cost = (
            None
            if line.unit_cost is None
            else checked_amount(line.unit_cost, f"lines[{i}].unitCost")
        )
        if line.sku is not None and len(line.sku) > 100:
            raise ValidationFailed("A SKU is at most 100 characters.", field=f"lines[{i}].sku")
        checked.append(
            replace(
                line,
                name=name or "",
                unit=unit,
                quantity=q.quantize(Decimal("0.001")),
                unit_price=price,
                unit_cost=cost,
            )
        )
    return checked


def _language(value: str | None, workspace: Workspace) -> str:
    language = (value or workspace.language or "ru").strip().lower()
    if language not in LANGUAGES:
        raise ValidationFailed("The language is ru or en.", field="language")
    return language


def _currency(value: str | None, fallback: str) -> str:
    currency = (value or fallback).strip().upper()
    if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        raise ValidationFailed("An ISO 4217 code such as RUB is required.", field="currency")
    return currency


async def _with_product_costs(
    session: AsyncSession, workspace_id: uuid.UUID, lines: Sequence[LineSpec]
) -> list[LineSpec]:
    """Lines that name a product but no cost take the product's cost as a snapshot; a
    product the workspace does not have is refused."""
    wanted = [line.product_id for line in lines if line.product_id]
    products = await ProductRepository(session, workspace_id).get_many(wanted)
    out = []
    for i, line in enumerate(lines):
        product = products.get(line.product_id) if line.product_id else None
        if line.product_id and product is None:
            raise NotFound("Nothing has this id.", field=f"lines[{i}].productId")
        if product is not None and line.unit_cost is None:
            line = replace(line, unit_cost=product.cost)
        out.append(line)
    return out


async def move_contact_invoices(
    session: AsyncSession, workspace_id: uuid.UUID, source: uuid.UUID, target: uuid.UUID
) -> list[str]:
    """A contact merge: the merged contact's invoices go to the kept one; answers their ids."""
    repo = InvoiceRepository(session, workspace_id)
    ids = [i.id for i in await repo.of_person(source, [])]
    await repo.set_contact(ids, target)
    return [str(i) for i in ids]


async def give_back_invoices(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    invoice_ids: Sequence[uuid.UUID],
    contact_id: uuid.UUID,
) -> None:
    """An undone merge: the invoices it moved go back to the restored contact."""
    await InvoiceRepository(session, workspace_id).set_contact(invoice_ids, contact_id)


def days_late(due_on: date | None, today: date) -> int:
    return max((today - due_on).days, 0) if due_on else 0


def require_invoice_writer(actor: Actor, invoice: Invoice, lead_assignee: uuid.UUID | None) -> None:
    """Owners work every invoice; a manager those of their leads and those made by hand."""
    actor.require_writer()
    if invoice.lead_id is not None:
        actor.require_assigned(lead_assignee, "lead")


class InvoiceService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.public_url = settings.public_url.rstrip("/")
        self._links = URLSafeTimedSerializer(list(settings.secret_keys), salt=PRINT_LINK_SALT)

    # ---- requisites ------------------------------------------------------------------------

    async def set_requisites(
        self, principal: Principal, workspace_id: uuid.UUID, spec: RequisitesSpec
    ) -> Requisites:
        values = checked_requisites(spec)
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
            repo = RequisitesRepository(session, workspace_id)
            row = await repo.get()
            if row is None:
                row = repo.add(Requisites(**values))
            else:
                for key, value in values.items():
                    setattr(row, key, value)
            row.updated_at = utcnow()
            await session.flush()
            return row

    async def requisites(self, principal: Principal, workspace_id: uuid.UUID) -> Requisites | None:
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
            return await RequisitesRepository(session, workspace_id).get()

    # ---- drafts ----------------------------------------------------------------------------

    async def create(
        self, principal: Principal, workspace_id: uuid.UUID, draft: InvoiceDraft
    ) -> InvoiceView:
        given_lines = None if draft.lines is None else _checked_lines(draft.lines)
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="workspaceId")
            actor.require_writer()
            workspace = await WorkspaceDirectory(session).get(workspace_id)
            assert workspace is not None
            contact_id, currency, lines = draft.contact_id, draft.currency, given_lines
            if draft.lead_id is not None:
                lead = await get_lead(session, workspace_id, draft.lead_id)
                actor.require_assigned(lead.assignee_id, "lead")
                contact_id = contact_id or lead.contact_id
                currency = currency or lead.currency
                if lines is None:
                    lines = await self._cart_lines(session, workspace_id, lead.id, draft)
            if lines is None:
                raise ValidationFailed(
                    "Give the lines, or a lead whose cart gives them.", field="lines"
                )
            buyer = draft.buyer_name
            if contact_id is not None:
                contact = await get_contact(session, workspace_id, contact_id)
                buyer = buyer or contact.company or contact.name or contact.email or contact.phone
            now = utcnow()
            repo = InvoiceRepository(session, workspace_id)
            invoice = repo.add(
                Invoice(
                    status=InvoiceStatus.DRAFT,
                    lead_id=draft.lead_id,
                    contact_id=contact_id,
                    buyer_name=_text(buyer, "buyerName", 300, required=True),
                    buyer_details=_text(draft.buyer_details, "buyerDetails", 2000),
                    currency=_currency(currency, workspace.currency),
                    vat_mode=draft.vat_mode,
                    language=_language(draft.language, workspace),
                    note=_text(draft.note, "note", 2000),
                    due_on=draft.due_on,
                    subtotal=Decimal(0),
                    vat_total=Decimal(0),
                    total=Decimal(0),
                    paid_total=Decimal(0),
                    created_at=now,
                    updated_at=now,
                )
            )
            await session.flush()
            lines = await _with_product_costs(session, workspace_id, lines)
            written = self._write_lines(repo, invoice, lines, now)
            await session.flush()
            return InvoiceView(invoice, written)

    async def _cart_lines(
        self,
        session: AsyncSession,
        workspace_id: uuid.UUID,
        lead_id: uuid.UUID,
        draft: InvoiceDraft,
    ) -> list[LineSpec]:
        items = await items_of_leads(session, workspace_id, [lead_id])
        if not items:
            raise ValidationFailed("The lead's cart is empty: give the lines.", field="lines")
        products = await ProductRepository(session, workspace_id).get_many(
            i.product_id for i in items if i.product_id
        )
        lines = []
        for item in items:
            product = products.get(item.product_id) if item.product_id else None
            lines.append(
                LineSpec(
                    name=item.product,
                    sku=item.sku,
                    quantity=item.quantity,
                    unit_price=item.unit_price,
                    unit_cost=item.unit_cost,
                    unit=product.unit if product else "шт",
                    vat_rate=product.vat_rate if product else draft.default_vat_rate,
                    product_id=item.product_id,
                )
            )
        return _checked_lines(lines)

    def _write_lines(
        self, repo: InvoiceRepository, invoice: Invoice, lines: Sequence[LineSpec], now: datetime
    ) -> list[InvoiceLine]:
        written = []
        computed = []
        for position, spec in enumerate(lines):
            amounts = line_amounts(spec.quantity, spec.unit_price, spec.vat_rate, invoice.vat_mode)
            computed.append((spec.vat_rate, amounts))
            written.append(
                repo.add_line(
                    InvoiceLine(
                        invoice_id=invoice.id,
                        position=position,
                        product_id=spec.product_id,
                        name=spec.name,
                        sku=spec.sku,
                        unit=spec.unit,
                        quantity=spec.quantity,
                        unit_price=spec.unit_price,
                        unit_cost=spec.unit_cost,
                        vat_rate=spec.vat_rate,
                        net=amounts.net,
                        vat=amounts.vat,
                        total=amounts.total,
                        created_at=now,
                    )
                )
            )
        summed = totals(computed)
        invoice.subtotal, invoice.vat_total, invoice.total = (
            summed.subtotal,
            summed.vat_total,
            summed.total,
        )
        return written

    async def update_draft(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        invoice_id: uuid.UUID,
        changes: Mapping[str, Any],
    ) -> InvoiceView:
        """Change a draft; an issued invoice is fixed (cancel it and make another)."""
        lines = changes.get("lines")
        checked = None if lines is None else _checked_lines(lines)
        async with self.db.transaction() as session:
            _, invoice, repo = await self._writable(session, principal, workspace_id, invoice_id)
            if invoice.status is not InvoiceStatus.DRAFT:
                raise Conflict("Only a draft can be changed.", field="id")
            now = utcnow()
            for key, value in changes.items():
                if key == "buyer_name":
                    invoice.buyer_name = _text(value, "buyerName", 300, required=True) or ""
                elif key == "buyer_details":
                    invoice.buyer_details = _text(value, "buyerDetails", 2000)
                elif key == "note":
                    invoice.note = _text(value, "note", 2000)
                elif key == "due_on":
                    invoice.due_on = value
                elif key == "currency":
                    invoice.currency = _currency(value, invoice.currency)
                elif key == "language":
                    workspace = await WorkspaceDirectory(session).get(workspace_id)
                    assert workspace is not None
                    invoice.language = _language(value, workspace)
                elif key == "vat_mode":
                    if value is None:
                        raise ValidationFailed("This field cannot be cleared.", field="vatMode")
                    invoice.vat_mode = value
                elif key != "lines":
                    raise ValidationFailed("This field cannot be changed.", field=key)
            if checked is None and "vat_mode" in changes:
                # The same lines under the other mode: recompute from what they hold.
                current = await repo.lines_of([invoice.id])
                checked = [
                    LineSpec(
                        name=line.name,
                        sku=line.sku,
                        unit=line.unit,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        vat_rate=line.vat_rate,
                        product_id=line.product_id,
                        unit_cost=line.unit_cost,
                    )
                    for line in current
                ]
            written = None
            if checked is not None:
                await repo.clear_lines(invoice.id)
                checked = await _with_product_costs(session, workspace_id, checked)
                written = self._write_lines(repo, invoice, checked, now)
            invoice.updated_at = now
            await session.flush()
            return InvoiceView(invoice, written or await repo.lines_of([invoice.id]))

    async def _writable(
        self,
        session: AsyncSession,
        principal: Principal,
        workspace_id: uuid.UUID,
        invoice_id: uuid.UUID,
    ) -> tuple[Actor, Invoice, InvoiceRepository]:
        actor = await load_actor(session, principal, workspace_id)
        repo = InvoiceRepository(session, workspace_id)
        invoice = await repo.get(invoice_id)
        if invoice is None:
            raise NotFound("Nothing has this id.", field="id")
        assignee = None
        if invoice.lead_id is not None:
            assignee = (await get_lead(session, workspace_id, invoice.lead_id)).assignee_id
        require_invoice_writer(actor, invoice, assignee)
        return actor, invoice, repo

    # ---- issuing and cancelling ------------------------------------------------------------

    async def issue(
        self, principal: Principal, workspace_id: uuid.UUID, invoice_id: uuid.UUID
    ) -> InvoiceView:
        """Give a draft the workspace's next number and fix it: `invoice.issued`."""
        if not principal.can_read(workspace_id):
            # Before the number is taken, so another workspace's counter is never written (and
            # row-level security, which would refuse that write, is not what answers).
            raise NotFound("Nothing has this id.", field="id")
        async with self.db.transaction() as session:
            repo = InvoiceRepository(session, workspace_id)
            # The number is taken first: on SQLite that takes the write lock before any read,
            # so two issuers never read the same draft as still a draft.
            number = await repo.next_number()
            _, invoice, repo = await self._writable(session, principal, workspace_id, invoice_id)
            if invoice.status is not InvoiceStatus.DRAFT:
                raise Conflict("This invoice is already issued.", field="id")
            if invoice.total <= 0:
                raise ValidationFailed("An invoice of nothing cannot be issued.", field="lines")
            now = utcnow()
            invoice.number = number
            invoice.status = InvoiceStatus.ISSUED
            invoice.issued_at = now
            invoice.updated_at = now
            await session.flush()
            await emit_invoice_event(session, invoice, "invoice.issued", now=now)
            return InvoiceView(invoice, await repo.lines_of([invoice.id]))

    async def cancel(
        self, principal: Principal, workspace_id: uuid.UUID, invoice_id: uuid.UUID
    ) -> InvoiceView:
        """Cancel a draft or an unpaid invoice; it keeps its number, so the numbering has no
        gaps."""
        async with self.db.transaction() as session:
            _, invoice, repo = await self._writable(session, principal, workspace_id, invoice_id)
            if invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.ISSUED):
                # A payment received stays on the books: refund it, then cancel.
                raise Conflict("Only a draft or an unpaid invoice can be cancelled.", field="id")
            now = utcnow()
            invoice.status = InvoiceStatus.CANCELLED
            invoice.cancelled_at = now
            invoice.updated_at = now
            await session.flush()
            return InvoiceView(invoice, await repo.lines_of([invoice.id]))

    # ---- payments and debts ----------------------------------------------------------------

    async def record_payment(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        invoice_id: uuid.UUID,
        *,
        amount: Decimal,
        paid_at: datetime | None,
        note: str | None,
    ) -> tuple[Payment, Invoice]:
        """A payment recorded by hand: `payment.received`, and `invoice.paid` when it pays the
        invoice in full. More than is left to pay is refused."""
        now = utcnow()
        if paid_at is not None and paid_at > now:
            raise ValidationFailed("A payment cannot be received in the future.", field="paidAt")
        async with self.db.transaction() as session:
            # The write lock (SQLite) before any read: apply_payment locks the invoice.
            await InvoiceLocks(session, workspace_id).locked(invoice_id)
            actor, _, _ = await self._writable(session, principal, workspace_id, invoice_id)
            payment, invoice, _ = await apply_payment(
                session,
                workspace_id,
                invoice_id,
                ReceivedPayment(
                    amount=amount,
                    paid_at=paid_at or now,
                    note=note,
                    recorded_by_id=actor.member_id,
                ),
            )
            return payment, invoice

    async def payments_of(
        self, workspace_id: uuid.UUID, invoice_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Payment]]:
        """The payments of invoices the caller has already read, grouped by invoice."""
        async with self.db.transaction() as session:
            rows = await PaymentRepository(session, workspace_id).of_invoices(invoice_ids)
        return grouped(invoice_ids, rows, attrgetter("invoice_id"))

    async def receivables(
        self, principal: Principal, workspace_id: uuid.UUID, today: date | None = None
    ) -> Receivables:
        """Who owes what on the issued invoices, per client and currency, the most overdue
        first. An invoice is overdue once its due date (UTC) has passed."""
        today = today or utcnow().date()
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            rows = await DebtRepository(session, workspace_id).receivables(viewer, today)
        rows.sort(key=lambda r: (r.oldest_due_on or date.max, -r.outstanding, r.buyer_name))
        return Receivables(today=today, rows=rows)

    async def receivables_csv(
        self, principal: Principal, workspace_id: uuid.UUID, today: date | None = None
    ) -> tuple[str, int]:
        report = await self.receivables(principal, workspace_id, today)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "client",
                "currency",
                "invoices",
                "outstanding",
                "overdue",
                "oldest_due_on",
                "days_late",
            ]
        )
        for row in report.rows:
            writer.writerow(
                [
                    row.buyer_name,
                    row.currency,
                    row.invoices,
                    row.outstanding,
                    row.overdue,
                    row.oldest_due_on.isoformat() if row.oldest_due_on else "",
                    days_late(row.oldest_due_on, report.today),
                ]
            )
        return out.getvalue(), len(report.rows)

    async def balance(
        self, principal: Principal, workspace_id: uuid.UUID, contact_id: uuid.UUID
    ) -> list[BalanceRow]:
        """A client's invoiced, paid, outstanding and overdue amounts, per currency."""
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="contactId")
            await readable_contact(session, actor, contact_id)
            return await DebtRepository(session, workspace_id).balance(contact_id, utcnow().date())

    async def revenue(
        self, principal: Principal, workspace_id: uuid.UUID, starts: datetime, ends: datetime
    ) -> Revenue:
        """The payments received in the period beside the values of the leads won in it."""
        if ends <= starts:
            raise ValidationFailed("The period must end after it starts.", field="ends")
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            paid = await PaymentRepository(session, workspace_id).received_between(
                viewer, starts, ends
            )
            won = await DebtRepository(session, workspace_id).won_values(viewer, starts, ends)
        return Revenue(starts=starts, ends=ends, by_paid_date=paid, by_won_date=won)

    async def emit_overdue(self, *, now: datetime | None = None, limit: int = 500) -> int:
        """The worker's job: `invoice.overdue` once for each unpaid invoice past its due date."""
        now = now or utcnow()
        async with self.db.transaction() as session:
            invoices = await OverdueInvoiceScan(session).claim(now.date(), limit)
            for invoice in invoices:
                invoice.overdue_notified_at = now
                await emit_invoice_event(session, invoice, "invoice.overdue", now=now)
            await session.flush()
            return len(invoices)

    # ---- reading ---------------------------------------------------------------------------

    async def page(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        invoice_filter: InvoiceFilter,
        *,
        window: Window,
    ) -> Page[Invoice]:
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            repo = InvoiceRepository(session, workspace_id)
            return await repo.page_matching(viewer, invoice_filter, window=window)

    async def count(
        self, principal: Principal, workspace_id: uuid.UUID, invoice_filter: InvoiceFilter
    ) -> int:
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            repo = InvoiceRepository(session, workspace_id)
            return await repo.count(repo.matching(viewer, invoice_filter))

    async def get_many(
        self, principal: Principal, workspace_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Invoice]:
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id)
            repo = InvoiceRepository(session, workspace_id)
            return await repo.readable_many(viewer, ids)

    async def visible_payment(
        self, principal: Principal, workspace_id: uuid.UUID, payment_id: uuid.UUID
    ) -> Payment | None:
        """A payment, if the caller reads its invoice."""
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id)
            payment = await PaymentRepository(session, workspace_id).get(payment_id)
            if payment is None:
                return None
            invoices = InvoiceRepository(session, workspace_id)
            readable = await invoices.readable_many(viewer, [payment.invoice_id])
            return payment if readable else None

    async def lines_of(
        self, workspace_id: uuid.UUID, invoice_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[InvoiceLine]]:
        """The lines of invoices the caller has already read, grouped by invoice."""
        async with self.db.transaction() as session:
            rows = await InvoiceRepository(session, workspace_id).lines_of(invoice_ids)
        return grouped(invoice_ids, rows, attrgetter("invoice_id"))

    async def export_csv(
        self, principal: Principal, workspace_id: uuid.UUID, invoice_filter: InvoiceFilter
    ) -> tuple[str, int]:
        async with self.db.reading() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            repo = InvoiceRepository(session, workspace_id)
            invoices = await repo.all_matching(viewer, invoice_filter)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "number",
                "status",
                "buyer",
                "currency",
                "subtotal",
                "vat",
                "total",
                "issued_at",
                "due_on",
            ]
        )
        for inv in invoices:
            writer.writerow(
                [
                    "" if inv.number is None else inv.number,
                    inv.status.value,
                    inv.buyer_name,
                    inv.currency,
                    inv.subtotal,
                    inv.vat_total,
                    inv.total,
                    inv.issued_at.isoformat() if inv.issued_at else "",
                    inv.due_on.isoformat() if inv.due_on else "",
                ]
            )
        return out.getvalue(), len(invoices)

    # ---- the printable page ----------------------------------------------------------------

    def print_url(self, invoice: Invoice) -> str:
        """The signed link to the printable page, for the client; it names nothing guessable."""
        token = self._links.dumps([invoice.workspace_id.hex, invoice.id.hex])
        return f"{self.public_url}/v1/invoices/{token}"

    async def printable(self, token: str, language: str | None) -> PrintableInvoice:
        try:
            workspace_hex, invoice_hex = self._links.loads(token, max_age=PRINT_LINK_MAX_AGE)
            workspace_id, invoice_id = uuid.UUID(hex=workspace_hex), uuid.UUID(hex=invoice_hex)
        except (BadSignature, SignatureExpired, ValueError, TypeError) as exc:
            raise NotFound("This invoice link is not valid or has expired.") from exc
        async with self.db.transaction() as session:
            repo = InvoiceRepository(session, workspace_id)
            invoice = await repo.get(invoice_id)
            workspace = await WorkspaceDirectory(session).get(workspace_id)
            if invoice is None or workspace is None:
                raise NotFound("This invoice link is not valid or has expired.")
            lines = await repo.lines_of([invoice.id])
            seller = await RequisitesRepository(session, workspace_id).get()
        chosen = language if language in LANGUAGES else invoice.language
        summed = totals(
            (line.vat_rate, LineAmounts(net=line.net, vat=line.vat, total=line.total))
            for line in lines
        )
        return PrintableInvoice(
            invoice=invoice,
            lines=lines,
            totals=summed,
            seller=seller,
            workspace_name=workspace.name,
            language=chosen,
        )
