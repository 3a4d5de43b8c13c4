"""Standard Webhooks signatures (https://www.standardwebhooks.com).

A message is signed as ``HMAC-SHA256(key, f"{msg_id}.{timestamp}.".encode() + body)`` where
``body`` is the exact byte string sent. While a secret rotates, the ``webhook-signature`` header
carries one ``v1,`` entry per secret, space-separated, so receivers holding either secret verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _secrets
from collections.abc import Mapping, Sequence

__all__ = [
    "SECRET_PREFIX",
    "WebhookVerificationError",
    "generate_secret",
    "new_message_id",
    "sign",
    "signature_header",
    "verify",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format marker of every secret, not a secret
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 300

# 32 bytes sits in the middle of the 24–64 byte range the reference libraries accept.
_SECRET_BYTES = 32
_MESSAGE_ID_BYTES = 18


class WebhookVerificationError(ValueError):
    """A webhook could not be verified: headers missing or malformed, stale, or unsigned."""


def generate_secret() -> str:
    """Return a new endpoint secret: ``whsec_`` followed by base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(_SECRET_BYTES)).decode("ascii")


def new_message_id() -> str:
    """Return a new ``webhook-id``: ``msg_`` and a random URL-safe id that contains no ``.``.

    The id is part of the signed content ``{id}.{timestamp}.{body}``, so a dot in it would make
    the boundaries ambiguous; ``token_urlsafe`` only yields ``[A-Za-z0-9_-]``.
    """
    return "msg_" + _secrets.token_urlsafe(_MESSAGE_ID_BYTES)


def _secret_key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        # Tolerate unpadded secrets the way the reference libraries do; extra "=" is ignored.
        key = base64.b64decode(encoded + "==", validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("webhook secret is not valid base64") from exc
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def _digest(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``v1,<base64 signature>`` entry for one message signed with ``secret``.

    ``timestamp`` is the attempt time in Unix seconds and ``body`` the exact bytes sent.
    """
    digest = _digest(_secret_key(secret), msg_id, str(int(timestamp)), body)
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` header value: one space-separated entry per secret.

    Pass two secrets while a secret rotates so that receivers holding either one verify.
    """
    if not secrets:
        raise ValueError("at least one secret is required to sign a webhook")
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            if not isinstance(value, str):
                raise WebhookVerificationError(f"invalid {name} header")
            return value
    raise WebhookVerificationError(f"missing {name} header")


def verify(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Check that ``body`` was signed by one of ``secrets`` within ``tolerance`` seconds of ``now``.

    Header names are matched case-insensitively. Every problem with the input, including
    malformed signature entries, raises :class:`WebhookVerificationError` and nothing else, so a
    receiver can answer 400 without a catch-all.
    """
    msg_id = _header(headers, "webhook-id")
    raw_timestamp = _header(headers, "webhook-timestamp")
    raw_signature = _header(headers, "webhook-signature")
    if not msg_id or not raw_signature:
        raise WebhookVerificationError("empty webhook-id or webhook-signature header")
    try:
        msg_id.encode()
    except UnicodeEncodeError as exc:
        raise WebhookVerificationError("invalid webhook-id header") from exc

    # int() alone would accept "+1", " 1" or "1_000"; the header is plain decimal digits.
    stripped = raw_timestamp.strip()
    if not stripped.isascii() or not stripped.isdigit() or len(stripped) > 12:
        raise WebhookVerificationError("invalid webhook-timestamp header")
    timestamp = int(stripped)
    if timestamp < now - tolerance:
        raise WebhookVerificationError("message timestamp too old")
    if timestamp > now + tolerance:
        raise WebhookVerificationError("message timestamp too new")

    candidates: list[bytes] = []
    malformed = False
    for entry in raw_signature.split():
        version, sep, encoded = entry.partition(",")
        if not sep:
            malformed = True
            continue
        if version != SIGNATURE_VERSION:
            # Unknown versions are skipped so that future schemes can be sent side by side.
            continue
        try:
            candidates.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            malformed = True
    if not candidates:
        reason = "malformed" if malformed else "no v1 entry in"
        raise WebhookVerificationError(f"{reason} webhook-signature header")

    for secret in secrets:
        try:
            key = _secret_key(secret)
        except ValueError:
            continue
        # The signed content uses the header text as sent, not a re-formatted number.
        expected = _digest(key, msg_id, stripped, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            return
    raise WebhookVerificationError("no matching signature found")
