"""Payment providers' notifications, each marking an invoice paid exactly once.

Robokassa posts to the ResultURL ``OutSum``, ``InvId`` (the invoice's number) and
``SignatureValue``, an MD5 over ``OutSum:InvId:Password2`` (then each ``Shp_`` parameter as
``:key=value``, sorted), and expects ``OK<InvId>`` back. YooKassa posts a ``payment.succeeded``
notification; nothing in it is believed until the payment, fetched back from YooKassa's API with
the shop's credentials, says the same. Either may repeat its notification: the provider's payment
id is unique per workspace, so the repeat finds the payment already applied and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx

from embedcrm.auth import Principal
from embedcrm.db import Database, hold_sqlite_write_lock, utcnow
from embedcrm.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from embedcrm.invoices.models import Invoice, PaymentProvider, PaymentSource, ProviderName
from embedcrm.invoices.repository import InvoiceLocks, InvoiceRepository, ProviderRepository
from embedcrm.invoices.service import ReceivedPayment, apply_payment
from embedcrm.kit.sealed import SecretBox
from embedcrm.workspaces.access import load_actor

log = logging.getLogger("embedcrm.payments")


@dataclass(frozen=True)
class Applied:
    invoice: Invoice
    # False when the provider repeated a notification already applied.
    new: bool


def robokassa_signature(
    out_sum: str, inv_id: str, password: str, extra: Mapping[str, str] | None = None
) -> str:
    """Robokassa's ResultURL signature: MD5 of ``OutSum:InvId:Password2[:Shp_k=v…]``, the
    ``Shp_`` parameters sorted by name, in lower-case hex."""
    parts = [out_sum, inv_id, password]
    parts += [f"{key}={value}" for key, value in sorted((extra or {}).items())]
    # MD5 is what the provider's protocol signs with; it is compared, never used to store.
    return hashlib.md5(":".join(parts).encode(), usedforsecurity=False).hexdigest()


def _decimal(raw: Any, field: str) -> Decimal:
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise BadRequest("Not an amount.", field=field) from exc
    if not value.is_finite():
        raise BadRequest("Not an amount.", field=field)
    return value


class ProviderService:
    def __init__(
        self,
        db: Database,
        client: httpx.AsyncClient,
        *,
        yookassa_api_url: str,
        box: SecretBox,
    ) -> None:
        self.db = db
        self.client = client
        self.yookassa_api_url = yookassa_api_url.rstrip("/")
        # The providers' secrets are kept sealed; each check opens one when it needs it.
        self.box = box

    async def configure(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        provider: ProviderName,
        *,
        account: str,
        secret: str,
    ) -> PaymentProvider:
        """Set a workspace's account with a provider (OWNER); the secret is never shown again."""
        account, secret = account.strip(), secret.strip()
        if not 0 < len(account) <= 100:
            raise ValidationFailed(
                "An account of 1 to 100 characters is required.", field="account"
            )
        if not 0 < len(secret) <= 200:
            raise ValidationFailed("A secret of 1 to 200 characters is required.", field="secret")
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
            repo = ProviderRepository(session, workspace_id)
            row = await repo.get(provider)
            sealed = self.box.seal(secret)
            if row is None:
                row = repo.add(PaymentProvider(provider=provider, account=account, secret=sealed))
            else:
                row.account, row.secret = account, sealed
            row.updated_at = utcnow()
            await session.flush()
            return row

    async def configured(
        self, principal: Principal, workspace_id: uuid.UUID
    ) -> list[PaymentProvider]:
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
            return await ProviderRepository(session, workspace_id).all()

    async def robokassa_result(self, workspace_id: uuid.UUID, fields: Mapping[str, str]) -> str:
        """A ResultURL call: check the signature, apply the payment once, answer ``OK<InvId>``."""
        out_sum, inv_id = fields.get("OutSum", ""), fields.get("InvId", "")
        signature = fields.get("SignatureValue", "")
        if not (out_sum and inv_id.isdigit() and signature):
            raise BadRequest("OutSum, InvId and SignatureValue are required.")
        extra = {k: v for k, v in fields.items() if k.lower().startswith("shp_")}
        amount = _decimal(out_sum, "OutSum")
        async with self.db.transaction() as session:
            # The write lock (SQLite) before any read; apply_payment locks the invoice row.
            await hold_sqlite_write_lock(session, Invoice)
            repo = ProviderRepository(session, workspace_id)
            config = await repo.get(ProviderName.ROBOKASSA)
            if config is None:
                raise NotFound("Robokassa is not set up for this workspace.")
            expected = robokassa_signature(out_sum, inv_id, self.box.open(config.secret), extra)
            if not hmac.compare_digest(expected, signature.strip().lower()):
                raise Forbidden("The signature does not match.")
            invoice = await repo.invoice_by_number(int(inv_id))
            if invoice is None:
                raise NotFound("No invoice has this number.", field="InvId")
            _, invoice, new = await apply_payment(
                session,
                workspace_id,
                invoice.id,
                ReceivedPayment(
                    amount=amount,
                    paid_at=utcnow(),
                    source=PaymentSource.PROVIDER,
                    provider="robokassa",
                    provider_payment_id=inv_id,
                ),
            )
        if not new:
            log.info("robokassa repeated the result of invoice %s; already applied", inv_id)
        return f"OK{inv_id}"

    async def yookassa_notification(
        self, workspace_id: uuid.UUID, body: Mapping[str, Any]
    ) -> Applied | None:
        """A notification: a ``payment.succeeded`` is applied once the payment, fetched back
        from YooKassa, confirms it; other events are acknowledged and ignored."""
        if body.get("event") != "payment.succeeded":
            return None
        notified = body.get("object")
        payment_id = notified.get("id") if isinstance(notified, Mapping) else None
        if not isinstance(payment_id, str) or not 0 < len(payment_id) <= 100:
            raise BadRequest("The notification names no payment.", field="object.id")
        async with self.db.transaction() as session:
            config = await ProviderRepository(session, workspace_id).get(ProviderName.YOOKASSA)
            if config is None:
                raise NotFound("YooKassa is not set up for this workspace.")
            account, secret = config.account, self.box.open(config.secret)
        # Outside any transaction: the provider's answer is the only thing believed.
        payment = await self._fetch_yookassa_payment(payment_id, account, secret)
        if payment.get("status") != "succeeded" or payment.get("paid") is not True:
            raise Conflict("YooKassa does not report this payment as succeeded.")
        metadata = payment.get("metadata") or {}
        amount_doc = payment.get("amount") or {}
        try:
            invoice_id = uuid.UUID(str(metadata.get("invoice_id")))
        except ValueError as exc:
            raise BadRequest("The payment names no invoice (metadata.invoice_id).") from exc
        amount = _decimal(amount_doc.get("value"), "amount.value")
        paid_at = _timestamp(payment.get("captured_at")) or utcnow()
        async with self.db.transaction() as session:
            await InvoiceLocks(session, workspace_id).locked(invoice_id)
            invoice = await InvoiceRepository(session, workspace_id).get(invoice_id)
            if invoice is None:
                raise NotFound("No invoice has this id.", field="metadata.invoice_id")
            if amount_doc.get("currency") != invoice.currency:
                raise Conflict("The payment's currency is not the invoice's.")
            _, invoice, new = await apply_payment(
                session,
                workspace_id,
                invoice_id,
                ReceivedPayment(
                    amount=amount,
                    paid_at=paid_at,
                    source=PaymentSource.PROVIDER,
                    provider="yookassa",
                    provider_payment_id=payment_id,
                ),
            )
            return Applied(invoice=invoice, new=new)

    async def _fetch_yookassa_payment(
        self, payment_id: str, account: str, secret: str
    ) -> Mapping[str, Any]:
        url = f"{self.yookassa_api_url}/payments/{quote(payment_id, safe='')}"
        try:
            response = await self.client.get(url, auth=(account, secret))
        except httpx.HTTPError as exc:
            log.warning("yookassa unreachable: %s", exc)
            raise ServiceUnavailable(
                "YooKassa cannot be reached; retry later.", retry_after=60
            ) from exc
        if response.status_code == 404:
            raise NotFound("YooKassa knows no such payment.", field="object.id")
        if response.status_code in (401, 403):
            raise Forbidden("YooKassa refused the shop's credentials.")
        if response.status_code != 200:
            raise ServiceUnavailable(
                f"YooKassa answered {response.status_code}; retry later.", retry_after=60
            )
        try:
            document = response.json()
        except ValueError as exc:
            raise ServiceUnavailable(
                "YooKassa answered no JSON; retry later.", retry_after=60
            ) from exc
        if not isinstance(document, Mapping) or document.get("id") != payment_id:
            raise Conflict("YooKassa answered about another payment.")
        return document


def _timestamp(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None
