"""Who is calling: the platform, a panel user, or an anonymous visitor; and the tokens we issue."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from embedcrm.errors import Unauthenticated, ValidationFailed
from embedcrm.workspaces.models import Role

PLATFORM_KEY_PREFIX = "ecp_"
PANEL_TOKEN_SALT = "embedcrm.panel-token.v1"  # noqa: S105 (a salt, not a secret)
# The parts of the owner's panel (docs/contract.md, "The owner's panel"), by their tag's suffix;
# a token may be narrowed to some of them (embedcrm.panel maps each to its API calls).
PANEL_COMPONENTS = ("inbox", "board", "lead", "tasks", "contacts", "reports", "settings")


@dataclass(frozen=True)
class Platform:
    """The host platform's backend: sees every workspace."""

    key_id: uuid.UUID

    def can_read(self, workspace_id: uuid.UUID) -> bool:
        return True


@dataclass(frozen=True)
class PanelUser:
    """A member working in the host's panel: one workspace, one role."""

    workspace_id: uuid.UUID
    member_id: uuid.UUID
    role: Role
    # The panel components the token may use (embedcrm.panel.COMPONENTS); None: all of the API.
    components: tuple[str, ...] | None = None
    # When the token stops working, as a Unix time; the live stream ends there.
    expires_at: float | None = field(default=None, compare=False)
    # The token's own id and when it was issued (Unix milliseconds), for revocation: one token
    # by its id, or every token of a member issued before a moment. None in older tokens.
    token_id: uuid.UUID | None = field(default=None, compare=False)
    issued_at_ms: int | None = field(default=None, compare=False)

    def can_read(self, workspace_id: uuid.UUID) -> bool:
        """The one scoping rule of reads: a member reads its own workspace and nothing else."""
        return workspace_id == self.workspace_id


Principal = Platform | PanelUser


class TokenExpired(Unauthenticated):
    """A panel token that was valid and has run out."""


def new_platform_key() -> tuple[str, str]:
    """A fresh platform key and the hash that is stored in its place."""
    key = PLATFORM_KEY_PREFIX + secrets.token_urlsafe(32)
    return key, hash_platform_key(key)


def hash_platform_key(key: str) -> str:
    # The key carries 256 random bits, so a fast unsalted hash is enough to make a stolen
    # table useless; a slow KDF would only slow every request down.
    return hashlib.sha256(key.encode()).hexdigest()


def platform_key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_platform_key(key), stored_hash)


class PanelTokens:
    """Panel tokens, signed with itsdangerous under their own salt.

    The serializer verifies with every key of ``EMBEDCRM_SECRET_KEYS`` and signs with the last,
    so keys rotate without logging anyone out. ``max_age`` is always checked, and the token's
    own expiry (shorter, chosen at issue) on top of it.
    """

    def __init__(
        self,
        secret_keys: Sequence[str],
        *,
        max_ttl_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._serializer = URLSafeTimedSerializer(list(secret_keys), salt=PANEL_TOKEN_SALT)
        self.max_ttl_seconds = max_ttl_seconds
        self._clock = clock

    def issue(self, user: PanelUser, *, ttl_seconds: int) -> tuple[str, datetime]:
        now = self._clock()
        expires = int(now) + ttl_seconds
        payload: dict[str, object] = {
            "w": str(user.workspace_id),
            "m": str(user.member_id),
            "r": user.role.value,
            "exp": expires,
            "i": uuid.uuid4().hex,
            "t": int(now * 1000),
        }
        if user.components is not None:
            payload["c"] = list(user.components)
        token = self._serializer.dumps(payload)
        return token, datetime.fromtimestamp(expires, UTC)

    def read(self, token: str) -> PanelUser:
        try:
            payload = self._serializer.loads(token, max_age=self.max_ttl_seconds)
        except SignatureExpired as exc:
            raise TokenExpired("The panel token has expired.") from exc
        except BadSignature as exc:
            raise Unauthenticated("The token is not valid.") from exc
        try:
            if int(payload["exp"]) < self._clock():
                raise TokenExpired("The panel token has expired.")
            return PanelUser(
                workspace_id=uuid.UUID(payload["w"]),
                member_id=uuid.UUID(payload["m"]),
                role=Role(payload["r"]),
                components=tuple(str(name) for name in payload["c"]) if "c" in payload else None,
                expires_at=float(payload["exp"]),
                token_id=uuid.UUID(hex=payload["i"]) if "i" in payload else None,
                issued_at_ms=int(payload["t"]) if "t" in payload else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise Unauthenticated("The token is not valid.") from exc


def normalize_components(names: Iterable[str] | None) -> tuple[str, ...] | None:
    """The components as a token carries them; None means every one (and the whole API)."""
    if names is None:
        return None
    chosen = tuple(dict.fromkeys(name.strip().lower() for name in names))
    unknown = [name for name in chosen if name not in PANEL_COMPONENTS]
    if unknown:
        raise ValidationFailed(
            f"Unknown components: {', '.join(unknown)}; known: {', '.join(PANEL_COMPONENTS)}.",
            field="components",
        )
    if not chosen:
        raise ValidationFailed("Name at least one component, or leave it out.", field="components")
    return chosen
