"""The 1C exchange («обмен с сайтом»), as 1C:Управление торговлей speaks it to a site.

Each request is ``?type=…&mode=…``: ``checkauth`` (HTTP basic auth, answered ``success``, a
cookie name and its value), ``init`` (``zip=no``, ``file_limit``), then for ``type=sale``
``query`` (the orders as CommerceML), ``success`` (1C took them) and ``file`` (the documents
1C sends back: orders paid or cancelled); for ``type=catalog`` ``file`` (an upload, possibly in
parts) and ``import`` (the uploaded import.xml or offers.xml applied to the catalogue).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.catalog.models import Product
from embedcrm.catalog.repository import ProductRepository
from embedcrm.config import Settings
from embedcrm.db import Database, hold_sqlite_write_lock, utcnow
from embedcrm.errors import BadRequest, PayloadTooLarge, Unauthenticated, ValidationFailed
from embedcrm.exchange import commerceml
from embedcrm.exchange.models import ExchangeFile, OneCExchange
from embedcrm.exchange.repository import ExchangeRepository
from embedcrm.invoices.models import Invoice, InvoiceStatus, PaymentSource
from embedcrm.invoices.repository import InvoiceRepository
from embedcrm.invoices.service import ReceivedPayment, apply_payment
from embedcrm.kit.grouping import grouped
from embedcrm.kit.money import to_cents
from embedcrm.workspaces.access import load_actor

SESSION_SALT = "embedcrm.1c-exchange.v1"
SESSION_COOKIE = "embedcrm_1c"
SESSION_MAX_AGE = 3600
# What one upload may hold; 1C splits larger files into parts of at most this size.
FILE_LIMIT = 8 * 1024 * 1024
MAX_FILE = 64 * 1024 * 1024
PBKDF2_ITERATIONS = 200_000
SAFE_FILENAME = re.compile(r"^[\w.\-/]{1,200}$")


@dataclass(frozen=True)
class Answer:
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


def hash_password(password: str) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), PBKDF2_ITERATIONS)
    return f"pbkdf2_sha256${PBKDF2_ITERATIONS}${salt}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        _, iterations, salt, expected = stored.split("$")
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), expected)


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    login, sep, password = decoded.partition(":")
    return (login, password) if sep else None


def _text(answer: str) -> Answer:
    return Answer(answer.encode())


class OneCService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.public_url = settings.public_url.rstrip("/")
        self._sessions = URLSafeTimedSerializer(list(settings.secret_keys), salt=SESSION_SALT)

    # ---- set-up through the API ------------------------------------------------------------

    async def configure(
        self, principal: Principal, workspace_id: uuid.UUID, *, login: str, password: str
    ) -> OneCExchange:
        """The login and password the workspace's 1C exchanges with (OWNER)."""
        login = login.strip()
        if not 0 < len(login) <= 100 or ":" in login:
            raise ValidationFailed("A login of 1 to 100 characters, without ':'.", field="login")
        if not 8 <= len(password) <= 200:
            raise ValidationFailed("A password of 8 to 200 characters.", field="password")
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
            repo = ExchangeRepository(session, workspace_id)
            row = await repo.settings()
            if row is None:
                row = OneCExchange(login=login, password_hash=hash_password(password))
                repo.add(row)
            else:
                row.login, row.password_hash = login, hash_password(password)
            row.updated_at = utcnow()
            await session.flush()
            return row

    async def settings_of(
        self, principal: Principal, workspace_id: uuid.UUID
    ) -> OneCExchange | None:
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
            return await ExchangeRepository(session, workspace_id).settings()

    def exchange_url(self, workspace_id: uuid.UUID) -> str:
        return f"{self.public_url}/v1/workspaces/{workspace_id}/1c/exchange"

    # ---- the exchange ----------------------------------------------------------------------

    async def handle(
        self,
        workspace_id: uuid.UUID,
        *,
        exchange_type: str,
        mode: str,
        filename: str | None,
        authorization: str | None,
        session_cookie: str | None,
        body: bytes,
    ) -> Answer:
        if exchange_type not in ("sale", "catalog"):
            raise BadRequest("type is sale or catalog.", field="type")
        if mode == "checkauth":
            return _text(
                f"success\n{SESSION_COOKIE}\n{await self._check(workspace_id, authorization)}\n"
            )
        await self._session(workspace_id, authorization, session_cookie)
        if mode == "init":
            return _text(f"zip=no\nfile_limit={FILE_LIMIT}\n")
        if exchange_type == "sale" and mode == "query":
            return await self._query(workspace_id)
        if exchange_type == "sale" and mode == "success":
            await self._success(workspace_id)
            return _text("success\n")
        if exchange_type == "sale" and mode == "file":
            await self._order_updates(workspace_id, body)
            return _text("success\n")
        if exchange_type == "catalog" and mode == "file":
            await self._store(workspace_id, _filename(filename), body)
            return _text("success\n")
        if exchange_type == "catalog" and mode == "import":
            await self._import(workspace_id, _filename(filename))
            return _text("success\n")
        raise BadRequest(f"mode {mode!r} is not part of type={exchange_type}.", field="mode")

    async def _check(self, workspace_id: uuid.UUID, authorization: str | None) -> str:
        credentials = basic_credentials(authorization)
        async with self.db.transaction() as session:
            row = await ExchangeRepository(session, workspace_id).settings()
        if (
            row is None
            or credentials is None
            or not hmac.compare_digest(credentials[0], row.login)
            or not password_matches(credentials[1], row.password_hash)
        ):
            raise Unauthenticated("The 1C login or password is wrong.")
        return self._sessions.dumps(workspace_id.hex)

    async def _session(
        self, workspace_id: uuid.UUID, authorization: str | None, cookie: str | None
    ) -> None:
        """Every call after checkauth carries its cookie (or, failing that, basic auth)."""
        if cookie:
            try:
                if self._sessions.loads(cookie, max_age=SESSION_MAX_AGE) == workspace_id.hex:
                    return
            except (BadSignature, SignatureExpired):
                pass
        if authorization:
            await self._check(workspace_id, authorization)
            return
        raise Unauthenticated("Call checkauth first.")

    async def _query(self, workspace_id: uuid.UUID) -> Answer:
        now = utcnow()
        async with self.db.transaction() as session:
            await hold_sqlite_write_lock(session, OneCExchange)
            repo = ExchangeRepository(session, workspace_id)
            invoices = await repo.orders_to_send()
            lines = await InvoiceRepository(session, workspace_id).lines_of(
                [i.id for i in invoices]
            )
            products = await ProductRepository(session, workspace_id).get_many(
                line.product_id for line in lines if line.product_id
            )
            settings = await repo.settings()
            assert settings is not None
            settings.last_query_at = now
        by_invoice = grouped((i.id for i in invoices), lines, attrgetter("invoice_id"))
        document = commerceml.orders_document(
            [(i, by_invoice[i.id], products) for i in invoices], now
        )
        return Answer(document, "application/xml; charset=utf-8")

    async def _success(self, workspace_id: uuid.UUID) -> None:
        async with self.db.transaction() as session:
            repo = ExchangeRepository(session, workspace_id)
            settings = await repo.settings()
            if settings is not None and settings.last_query_at is not None:
                await repo.mark_taken(settings.last_query_at)

    async def _order_updates(self, workspace_id: uuid.UUID, body: bytes) -> None:
        """Orders 1C reports paid get the rest of their amount as one payment (once); those
        it reports cancelled are cancelled when nothing was paid on them."""
        for update in commerceml.order_updates(body):
            try:
                invoice_id = uuid.UUID(update.order_id)
            except ValueError:
                continue
            async with self.db.transaction() as session:
                await hold_sqlite_write_lock(session, Invoice)
                invoice = await InvoiceRepository(session, workspace_id).get(invoice_id)
                if invoice is None:
                    continue
                open_ = invoice.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)
                if update.paid and open_:
                    await apply_payment(
                        session,
                        workspace_id,
                        invoice.id,
                        ReceivedPayment(
                            amount=invoice.total - invoice.paid_total,
                            paid_at=utcnow(),
                            source=PaymentSource.PROVIDER,
                            provider="1c",
                            provider_payment_id=str(invoice.id),
                        ),
                    )
                elif update.cancelled and invoice.status is InvoiceStatus.ISSUED:
                    invoice.status = InvoiceStatus.CANCELLED
                    invoice.cancelled_at = invoice.updated_at = utcnow()

    async def _store(self, workspace_id: uuid.UUID, filename: str, body: bytes) -> None:
        if len(body) > FILE_LIMIT:
            raise PayloadTooLarge(f"A part is at most {FILE_LIMIT} bytes (file_limit).")
        async with self.db.transaction() as session:
            await hold_sqlite_write_lock(session, ExchangeFile)
            repo = ExchangeRepository(session, workspace_id)
            stored = await repo.file(filename)
            if stored is None:
                repo.add(ExchangeFile(filename=filename, content=body, updated_at=utcnow()))
                return
            # A later part of the same file: 1C sends a large file in pieces, in order.
            if len(stored.content) + len(body) > MAX_FILE:
                raise PayloadTooLarge("An exchange file is at most 64 MiB.")
            stored.content = stored.content + body
            stored.updated_at = utcnow()

    async def _import(self, workspace_id: uuid.UUID, filename: str) -> None:
        async with self.db.transaction() as session:
            await hold_sqlite_write_lock(session, Product)
            repo = ExchangeRepository(session, workspace_id)
            stored = await repo.file(filename)
            if stored is None:
                raise BadRequest("Upload the file (mode=file) before importing it.")
            content = stored.content
            await session.delete(stored)
            if "offers" in filename.lower():
                await self._apply_offers(session, workspace_id, content)
            else:
                await self._apply_catalog(session, workspace_id, content)

    async def _apply_catalog(
        self, session: AsyncSession, workspace_id: uuid.UUID, raw: bytes
    ) -> None:
        items = commerceml.catalog_items(raw)
        exchange = ExchangeRepository(session, workspace_id)
        products = ProductRepository(session, workspace_id)
        known = await exchange.products_by_external_id(i.external_id for i in items)
        by_sku = await products.by_skus(i.sku for i in items if i.external_id not in known)
        for item in items:
            product = known.get(item.external_id) or by_sku.get(item.sku)
            if product is None:
                product = products.add(
                    Product(
                        sku=item.sku,
                        name=item.name,
                        unit=item.unit,
                        kind=item.kind,
                        price=Decimal("0.00"),
                        vat_rate=item.vat_rate,
                        active=True,
                    )
                )
                by_sku[item.sku] = product
            product.external_id = item.external_id
            product.name, product.unit, product.kind = item.name, item.unit, item.kind
            product.vat_rate = item.vat_rate
            product.updated_at = utcnow()
        await session.flush()

    async def _apply_offers(
        self, session: AsyncSession, workspace_id: uuid.UUID, raw: bytes
    ) -> None:
        found = commerceml.offers(raw)
        known = await ExchangeRepository(session, workspace_id).products_by_external_id(
            o.external_id for o in found
        )
        for offer in found:
            product = known.get(offer.external_id)
            if product is not None:
                product.price = to_cents(offer.price)
                product.updated_at = utcnow()
        await session.flush()


def _filename(raw: str | None) -> str:
    name = (raw or "").strip()
    if not SAFE_FILENAME.match(name) or ".." in name:
        raise BadRequest("A file name such as import.xml is required.", field="filename")
    return name
