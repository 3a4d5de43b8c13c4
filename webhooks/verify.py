"""Verify an embedcrm webhook (Standard Webhooks) with the Python standard library alone.

Copy this file into your receiver. Pass the body exactly as received, before any JSON parsing:

    try:
        event = verify(secret, request.headers, raw_body)
    except WebhookVerificationError:
        return 400  # never 500: a bad signature is the sender's problem, not a crash

``secret`` is the endpoint secret (``whsec_…``). While a secret rotates, the
``webhook-signature`` header carries one entry per secret, so the old and the new one both verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(ValueError):
    """The webhook is not authentic, is too old or too new, or its headers are malformed."""


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            if not isinstance(value, str):
                raise WebhookVerificationError(f"invalid {name} header")
            return value
    raise WebhookVerificationError(f"missing {name} header")


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> dict[str, Any]:
    """Return the parsed event if ``body`` is authentic; raise WebhookVerificationError if not."""
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp").strip()
    signatures = _header(headers, "webhook-signature")

    # Seconds since 1970 fit in 12 digits for the next 30,000 years; a longer value would
    # overflow the float comparison below (or Python's limit on converting long digit strings).
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise WebhookVerificationError("invalid webhook-timestamp header")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        # Refusing old messages stops a captured delivery from being replayed later.
        raise WebhookVerificationError("webhook-timestamp outside the tolerance")

    try:
        key = base64.b64decode(secret.removeprefix("whsec_") + "==")
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError("the secret is not valid base64") from exc
    try:
        signed = f"{msg_id}.{timestamp}.".encode() + body
    except (UnicodeEncodeError, TypeError) as exc:
        raise WebhookVerificationError("invalid webhook-id header or body") from exc
    expected = hmac.new(key, signed, hashlib.sha256).digest()

    for entry in signatures.split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(expected, candidate):
            try:
                event = json.loads(body)
            except ValueError as exc:
                raise WebhookVerificationError("the body is not JSON") from exc
            if not isinstance(event, dict):
                raise WebhookVerificationError("the body is not a JSON object")
            return event
    raise WebhookVerificationError("no matching signature")
