"""Keeping bots out without teaching them: form tokens, a honeypot, and the time a form took."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadData, BadPayload, SignatureExpired, URLSafeTimedSerializer

from embedcrm.errors import Forbidden

FORM_TOKEN_SALT = "embedcrm.form-token.v1"  # noqa: S105 (a salt, not a secret)
# The name of the hidden input the widget adds to every form (the config's honeypot_field).
HONEYPOT_FIELD = "website"
# Tokens whose signature was checked, kept per process: a token serves a visitor's few
# submissions, and checking its HMAC again each time was a tenth of accepting one. Only the
# signature's verdict and what the token says are kept (the secret keys are fixed for the
# process's life); age, site and origin are checked on every use.
VERIFIED_TOKENS = 4096


class FormTokenRefused(Forbidden):
    code = "form_token_refused"


@dataclass(frozen=True)
class FormToken:
    site_id: uuid.UUID
    origin: str | None
    issued_at: float


class FormTokens:
    """Tokens the config route hands to the widget: bound to one site (and origin), expiring."""

    def __init__(
        self,
        secret_keys: Sequence[str],
        *,
        max_age_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._serializer = URLSafeTimedSerializer(list(secret_keys), salt=FORM_TOKEN_SALT)
        self.max_age_seconds = max_age_seconds
        self._clock = clock
        # token -> (what it says, when it was signed), most recently used last.
        self._verified: OrderedDict[str, tuple[FormToken, float]] = OrderedDict()

    def issue(self, site_id: uuid.UUID, origin: str | None) -> str:
        # The nonce keeps two page views of the same millisecond apart: each token's uses are
        # counted on their own (form_token_max_uses), so one visitor's can't use up another's.
        return self._serializer.dumps(
            {
                "s": site_id.hex,
                "o": origin,
                "t": round(self._clock(), 3),
                "n": secrets.token_urlsafe(6),
            }
        )

    def _signed(self, token: str) -> FormToken:
        """What the token says, if its signature holds and it is not older than the maximum."""
        known = self._verified.get(token)
        if known is not None:
            issued, signed_at = known
            if time.time() - signed_at > self.max_age_seconds:
                raise SignatureExpired("expired")
            self._verified.move_to_end(token)
            return issued
        payload: Any
        payload, signed = self._serializer.loads(
            token, max_age=self.max_age_seconds, return_timestamp=True
        )
        assert isinstance(signed, datetime)
        try:
            issued = FormToken(
                site_id=uuid.UUID(hex=payload["s"]),
                origin=payload["o"],
                issued_at=float(payload["t"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BadPayload("not a form token") from exc
        self._verified[token] = (issued, signed.timestamp())
        if len(self._verified) > VERIFIED_TOKENS:
            self._verified.popitem(last=False)
        return issued

    def read(self, token: str, *, site_id: uuid.UUID, origin: str | None) -> FormToken:
        try:
            issued = self._signed(token)
        except SignatureExpired as exc:
            raise FormTokenRefused("The form has expired; reload the page.") from exc
        except BadData as exc:  # a bad signature, or a signed payload that is no form token's
            raise FormTokenRefused("The form token is not valid.") from exc
        if self._clock() - issued.issued_at > self.max_age_seconds:
            raise FormTokenRefused("The form has expired; reload the page.")
        if issued.site_id != site_id:
            raise FormTokenRefused("The form token belongs to another site.")
        # A token issued without an Origin (the config fetched by a script, not a page) is good
        # for no origin at all: otherwise one token fetched by curl would work from anywhere.
        if issued.origin != origin:
            raise FormTokenRefused("The form token belongs to another origin.")
        return issued

    def now(self) -> float:
        return self._clock()


def token_key(token: str) -> str:
    """The key a token's uses are counted under (a hash: the token itself is not stored)."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def quarantine_reason(
    body: dict[str, Any],
    token: FormToken | None,
    *,
    now: float,
    min_fill_seconds: float,
    honeypot_sent: bool = True,
) -> str | None:
    """Why a submission looks like a bot's, or None. Bots are told "accepted" all the same.

    The honeypot is the top-level ``honeypot`` the widget sends; a body without that key (a
    direct or form-encoded post) is checked for the honeypot input among its fields too, which
    is where a bot that posts the page's form as it found it puts it.
    """
    if body.get("honeypot"):
        return "honeypot"
    if not honeypot_sent and body.get("fields", {}).get(HONEYPOT_FIELD):
        return "honeypot"
    if token is not None and now - token.issued_at < min_fill_seconds:
        return "too_fast"
    filled_ms = body.get("filled_ms")
    if isinstance(filled_ms, int) and filled_ms < min_fill_seconds * 1000:
        return "too_fast"
    return None
