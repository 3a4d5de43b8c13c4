"""Provisioning for the host: workspaces, sites, members, keys and panel tokens."""

from __future__ import annotations

import functools
import re
import secrets
import time
import uuid
import zoneinfo
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import (
    PanelTokens,
    PanelUser,
    Platform,
    Principal,
    TokenExpired,
    hash_platform_key,
    new_platform_key,
    normalize_components,
    platform_key_matches,
)
from embedcrm.db import Database, utcnow
from embedcrm.errors import Forbidden, NotFound, Unauthenticated, ValidationFailed
from embedcrm.workspaces.access import Actor, actor_of, load_actor
from embedcrm.workspaces.models import (
    Member,
    PlatformKey,
    RevokedPanelToken,
    Role,
    Site,
    Workspace,
)
from embedcrm.workspaces.repository import (
    MemberRepository,
    RevokedPanelTokenRepository,
    SiteRepository,
    WorkspaceDirectory,
)
from embedcrm.workspaces.words import DEFAULT_LANGUAGE, LANGUAGES

# A domain as a host would type it: a hostname, optionally with a port, or a *. wildcard.
_DOMAIN = re.compile(
    r"^(\*\.)?(?=.{1,253}(:|$))([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$"
)
MAX_DOMAINS = 50
# How long a verified platform key is trusted without asking the database again. A key revoked
# through this process stops at once; other processes (the CLI revokes from its own) notice
# within this time.
PLATFORM_KEY_CACHE_SECONDS = 5.0
# How long a process trusts what it read about a panel token's member: active, role, revoked
# sessions. A change made through this process applies at once; other processes notice within
# this time.
MEMBER_CACHE_SECONDS = 5.0
# How long a rotated platform key keeps working beside its successor, unless told otherwise.
DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)

# A step that sets up a new workspace's own rows (the default pipeline, in the workspace's
# language), run in the transaction that creates it. Domains above this one provide them
# through ``Services``, so workspaces never import them.
Provisioner = Callable[[AsyncSession, Workspace], Awaitable[object]]
# A BCP 47 tag as hosts send them: a language, an optional script, an optional region.
_LOCALE = re.compile(r"^([a-z]{2,3})(-[a-z]{4})?(-([a-z]{2}|\d{3}))?$", re.IGNORECASE)
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_FIRST_RESPONSE_MINUTES = 7 * 24 * 60


def normalise_domains(domains: Sequence[str]) -> list[str]:
    """Lower-case, trimmed, deduplicated; a pasted URL is reduced to its host[:port]."""
    cleaned: list[str] = []
    for raw in domains:
        domain = raw.strip().lower()
        domain = re.sub(r"^[a-z][a-z0-9+.-]*://", "", domain).split("/")[0].rstrip(".")
        if not _DOMAIN.match(domain):
            raise ValidationFailed(f"{raw!r} is not a domain.", field="domains")
        if domain not in cleaned:
            cleaned.append(domain)
    if len(cleaned) > MAX_DOMAINS:
        raise ValidationFailed(f"A site has at most {MAX_DOMAINS} domains.", field="domains")
    return cleaned


def normalise_locale(raw: str) -> str:
    """``en_us`` or ``EN-us`` as ``en-US``; anything that is not a BCP 47 tag is refused."""
    match = _LOCALE.match(raw.strip().replace("_", "-"))
    if not match:
        raise ValidationFailed(
            "A BCP 47 locale such as en-US or ru-RU is required.", field="locale"
        )
    language, script, _, region = match.groups()
    return "".join(
        (language.lower(), (script or "").title(), f"-{region.upper()}" if region else "")
    )


def language_of(locale: str) -> str:
    """The language the service writes in for a locale: its own if spoken, else English,
    the one a customer of any other language is likeliest to read."""
    language = locale.split("-")[0]
    return language if language in LANGUAGES else "en"


@functools.cache
def _iana_zones() -> frozenset[str]:
    # Looked up in the list rather than opened: ZoneInfo also opens files that are no zones
    # ("localtime") and fails with OS errors on a directory ("Europe") or an overlong name.
    # The system's tz directory also holds links that name no zone of their own.
    return frozenset(zoneinfo.available_timezones()) - {"localtime", "posixrules", "Factory"}


def check_timezone(name: str) -> str:
    name = name.strip()
    if name not in _iana_zones():
        raise ValidationFailed(
            f"{name[:80]!r} is not an IANA time zone such as Europe/Berlin.", field="timezone"
        )
    return name


def check_currency(raw: str) -> str:
    currency = raw.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValidationFailed("An ISO 4217 code such as RUB is required.", field="currency")
    return currency


def check_name(raw: str) -> str:
    name = raw.strip()
    if not name or len(name) > 200:
        raise ValidationFailed("A name of 1 to 200 characters is required.", field="name")
    return name


def check_external_id(external_id: str | None) -> str | None:
    if external_id is not None and not 0 < len(external_id) <= 255:
        raise ValidationFailed("externalId is 1 to 255 characters.", field="externalId")
    return external_id


@dataclass(frozen=True)
class WorkingHours:
    """One day's hours: ISO weekday (1 is Monday), opening and closing time as HH:MM."""

    weekday: int
    opens: str
    closes: str


def check_working_hours(days: Sequence[WorkingHours]) -> list[dict[str, Any]]:
    seen: set[int] = set()
    checked: list[dict[str, Any]] = []
    for i, day in enumerate(days):
        field = f"workingHours[{i}]"
        if not 1 <= day.weekday <= 7:
            raise ValidationFailed("weekday is 1 (Monday) to 7 (Sunday).", field=field)
        if day.weekday in seen:
            raise ValidationFailed("Each weekday appears once.", field=field)
        if not (_CLOCK_TIME.match(day.opens) and _CLOCK_TIME.match(day.closes)):
            raise ValidationFailed("opens and closes are times such as 09:00.", field=field)
        if day.opens >= day.closes:
            raise ValidationFailed("A day closes after it opens.", field=field)
        seen.add(day.weekday)
        checked.append({"weekday": day.weekday, "opens": day.opens, "closes": day.closes})
    return sorted(checked, key=lambda d: d["weekday"])


def require_workspace_access(principal: Principal, workspace_id: uuid.UUID) -> None:
    """A panel user reaches its own workspace only; others look the same as missing ones."""
    if not principal.can_read(workspace_id):
        raise NotFound("No such workspace.", field="workspaceId")


def require_platform(principal: Principal) -> Platform:
    if not isinstance(principal, Platform):
        raise Forbidden("Only the platform can do this.")
    return principal


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    member: Member


@dataclass(frozen=True)
class RotatedKey:
    key: str
    new_key: PlatformKey
    old_key: PlatformKey


@dataclass(frozen=True)
class MemberState:
    """What a process last read about a panel token's member, and when."""

    checked_at: float
    active: bool
    role: Role
    sessions_revoked_at_ms: int | None
    revoked_tokens: frozenset[uuid.UUID]

    def refuses(self, user: PanelUser) -> str | None:
        if not self.active:
            return "This member was deactivated."
        if user.token_id is not None and user.token_id in self.revoked_tokens:
            return "This panel token was revoked."
        if self.sessions_revoked_at_ms is not None and (
            user.issued_at_ms is None or user.issued_at_ms <= self.sessions_revoked_at_ms
        ):
            return "This member's panel sessions were revoked."
        return None


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class WorkspaceService:
    def __init__(
        self, db: Database, panel_tokens: PanelTokens, provisioners: Sequence[Provisioner] = ()
    ) -> None:
        self.db = db
        self.panel_tokens = panel_tokens
        self.provisioners = tuple(provisioners)
        # Known platform keys by hash: when they were looked up, their id and the moment a
        # rotation ends them. The host sends its key on every call, and a database round trip
        # per request would cost more than the call.
        self._platform_keys: dict[str, tuple[float, uuid.UUID, datetime | None]] = {}
        # What was read recently about panel tokens' members, by (workspace, member).
        self._members: dict[tuple[uuid.UUID, uuid.UUID], MemberState] = {}
        # Called with a site's public key after it changes, so caches of it can forget it.
        self.site_listeners: list[Callable[[str], None]] = []

    async def authenticate(self, bearer: str) -> Principal:
        """The principal behind an ``Authorization: Bearer`` value."""
        if bearer.startswith("ecp_"):
            secret_hash = hash_platform_key(bearer)
            known = self._platform_keys.get(secret_hash)
            if (
                known is not None
                and time.monotonic() - known[0] < PLATFORM_KEY_CACHE_SECONDS
                and (known[2] is None or known[2] > utcnow())
            ):
                return Platform(key_id=known[1])
            async with self.db.transaction() as session:
                key = await WorkspaceDirectory(session).platform_key_by_hash(secret_hash, utcnow())
            if key is None or not platform_key_matches(bearer, key.secret_hash):
                self._platform_keys.pop(secret_hash, None)
                raise Unauthenticated("The platform key is not valid.")
            if len(self._platform_keys) > 1000:
                self._platform_keys.clear()
            self._platform_keys[secret_hash] = (time.monotonic(), key.id, key.expires_at)
            return Platform(key_id=key.id)
        user = self.panel_tokens.read(bearer)
        return await self._require_live_session(user)

    async def _require_live_session(self, user: PanelUser) -> PanelUser:
        """A token speaks for its member while the member is active and the token (or all of
        the member's sessions) was not revoked, with the member's current role."""
        key = (user.workspace_id, user.member_id)
        state = self._members.get(key)
        if state is None or time.monotonic() - state.checked_at >= MEMBER_CACHE_SECONDS:
            state = await self._read_member_state(user.workspace_id, user.member_id)
            if len(self._members) > 10000:
                self._members.clear()
            self._members[key] = state
        refusal = state.refuses(user)
        if refusal is not None:
            raise Unauthenticated(refusal)
        # A role changed since the token was issued applies to it at once: a demoted owner
        # must not keep an owner's reach for the rest of the token's life.
        return user if user.role is state.role else replace(user, role=state.role)

    async def _read_member_state(
        self, workspace_id: uuid.UUID, member_id: uuid.UUID
    ) -> MemberState:
        async with self.db.transaction() as session:
            member = await MemberRepository(session, workspace_id).get(member_id)
            revoked = (
                await RevokedPanelTokenRepository(session, workspace_id).of_member(
                    member_id, utcnow()
                )
                if member is not None
                else set()
            )
        return MemberState(
            checked_at=time.monotonic(),
            active=member is not None and member.active,
            role=member.role if member is not None else Role.VIEWER,
            sessions_revoked_at_ms=(
                _ms(member.sessions_revoked_at)
                if member is not None and member.sessions_revoked_at is not None
                else None
            ),
            revoked_tokens=frozenset(revoked),
        )

    def _forget_member(self, workspace_id: uuid.UUID, member_id: uuid.UUID) -> None:
        self._members.pop((workspace_id, member_id), None)

    def _forget_site(self, site: Site) -> None:
        for listener in self.site_listeners:
            listener(site.public_key)

    async def set_member_active(
        self, principal: Principal, workspace_id: uuid.UUID, member_id: uuid.UUID, active: bool
    ) -> Member:
        """Deactivate a member who left (or bring one back): the platform or an OWNER.

        A deactivated member keeps everything they did and everything assigned to them (an
        owner reassigns it); their tokens stop working and nothing new is assigned to them.
        """
        require_workspace_access(principal, workspace_id)
        if isinstance(principal, PanelUser):
            if principal.role is not Role.OWNER:
                raise Forbidden("Only an owner can change this.")
            if principal.member_id == member_id and not active:
                raise ValidationFailed("An owner cannot deactivate themselves.", field="memberId")
        async with self.db.transaction() as session:
            member = await MemberRepository(session, workspace_id).get(member_id)
            if member is None:
                raise NotFound("No such member.", field="memberId")
            member.active = active
            await session.flush()
        self._forget_member(workspace_id, member_id)
        return member

    async def change_member_role(
        self, principal: Principal, workspace_id: uuid.UUID, member_id: uuid.UUID, role: Role
    ) -> Member:
        """The platform or an OWNER changes a member's role; their live tokens follow at once
        in this process, and within MEMBER_CACHE_SECONDS in others."""
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="memberId")
            if actor.member_id == member_id and role is not Role.OWNER:
                raise ValidationFailed(
                    "An owner cannot take their own owner role away; another owner or the "
                    "platform can.",
                    field="memberId",
                )
            member = await MemberRepository(session, workspace_id).get(member_id)
            if member is None:
                raise NotFound("No such member.", field="memberId")
            member.role = role
            await session.flush()
        self._forget_member(workspace_id, member_id)
        return member

    async def revoke_panel_token(self, principal: Principal, token: str) -> PanelUser | None:
        """Revoke one panel token before its expiry (the platform only). Answers the session it
        was, or None for a token that has expired already and needs no revoking."""
        try:
            user = self.panel_tokens.read(token)
        except TokenExpired:
            return None
        except Unauthenticated as exc:
            raise ValidationFailed(
                "This is not a panel token of this service.", field="token"
            ) from exc
        if user.token_id is None or user.expires_at is None:
            raise ValidationFailed(
                "This token predates revocation by id; revoke the member's sessions instead.",
                field="token",
            )
        require_workspace_access(principal, user.workspace_id)
        expires_at = datetime.fromtimestamp(user.expires_at, UTC)
        try:
            async with self.db.transaction() as session:
                revoked = RevokedPanelTokenRepository(session, user.workspace_id)
                await revoked.forget_expired(utcnow())
                if await revoked.get(user.token_id) is None:
                    revoked.add(
                        RevokedPanelToken(
                            id=user.token_id, member_id=user.member_id, expires_at=expires_at
                        )
                    )
        except IntegrityError:
            # The same token revoked twice at once: the other call did it.
            pass
        self._forget_member(user.workspace_id, user.member_id)
        return user

    async def revoke_panel_sessions(
        self, principal: Principal, workspace_id: uuid.UUID, member_id: uuid.UUID
    ) -> Member:
        """Every panel token of the member issued until now stops working (platform or OWNER);
        tokens minted afterwards work."""
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="memberId")
            member = await MemberRepository(session, workspace_id).get(member_id)
            if member is None:
                raise NotFound("No such member.", field="memberId")
            member.sessions_revoked_at = utcnow()
            await session.flush()
        self._forget_member(workspace_id, member_id)
        return member

    async def create_platform_key(self, name: str) -> str:
        key, secret_hash = new_platform_key()
        async with self.db.transaction() as session:
            WorkspaceDirectory(session).add(
                PlatformKey(name=name, prefix=key[:8], secret_hash=secret_hash)
            )
        return key

    async def list_platform_keys(self) -> list[PlatformKey]:
        async with self.db.transaction() as session:
            return await WorkspaceDirectory(session).platform_keys()

    async def revoke_platform_key(self, key_id: uuid.UUID) -> PlatformKey:
        """Revoke a key at once; revoking a revoked key changes nothing."""
        async with self.db.transaction() as session:
            key = await WorkspaceDirectory(session).platform_key(key_id)
            if key is None:
                raise NotFound("No platform key has this id.", field="id")
            if key.revoked_at is None:
                key.revoked_at = utcnow()
        self._platform_keys.clear()
        return key

    async def rotate_platform_key(
        self, key_id: uuid.UUID, overlap: timedelta = DEFAULT_ROTATION_OVERLAP
    ) -> RotatedKey:
        """A new key under the same name; the old one keeps working for ``overlap`` more, so
        the host can deploy the new one first."""
        if overlap < timedelta(0):
            raise ValidationFailed("The overlap cannot be negative.", field="overlap")
        key, secret_hash = new_platform_key()
        async with self.db.transaction() as session:
            directory = WorkspaceDirectory(session)
            old = await directory.platform_key(key_id)
            now = utcnow()
            if old is None:
                raise NotFound("No platform key has this id.", field="id")
            if old.revoked_at is not None or (old.expires_at is not None and old.expires_at <= now):
                raise ValidationFailed("This key no longer works; create a new one.", field="id")
            ends = now + overlap
            # Rotating twice never lengthens the old key's life.
            old.expires_at = ends if old.expires_at is None else min(old.expires_at, ends)
            new = PlatformKey(name=old.name, prefix=key[:8], secret_hash=secret_hash)
            directory.add(new)
            await session.flush()
        self._platform_keys.clear()
        return RotatedKey(key=key, new_key=new, old_key=old)

    async def create_workspace(
        self,
        principal: Principal,
        *,
        name: str,
        external_id: str | None,
        currency: str | None = None,
        language: str | None = None,
        locale: str | None = None,
    ) -> Workspace:
        """Idempotent on ``external_id``: the same id always answers the same workspace.

        ``currency`` (of values given without one; RUB) and ``language`` (of the names the
        service writes, the default pipeline's among them; ru) are taken when the workspace is
        made. ``locale`` sets the language when ``language`` is left out.
        """
        require_platform(principal)
        name = check_name(name)
        check_external_id(external_id)
        if currency is not None:
            currency = check_currency(currency)
        if language is not None and language not in LANGUAGES:
            raise ValidationFailed("language is ru or en.", field="language")
        if locale is not None:
            locale = normalise_locale(locale)
            language = language or language_of(locale)
        if external_id:
            async with self.db.transaction() as session:
                existing = await WorkspaceDirectory(session).by_external_id(external_id)
            if existing:
                return existing
        try:
            async with self.db.transaction() as session:
                workspace = Workspace(
                    id=uuid.uuid4(),
                    name=name,
                    external_id=external_id,
                    currency=currency or "RUB",
                    language=language or DEFAULT_LANGUAGE,
                    locale=locale,
                )
                WorkspaceDirectory(session).add(workspace)
                await session.flush()
                for provision in self.provisioners:
                    await provision(session, workspace)
            return workspace
        except IntegrityError:
            # Two concurrent calls with one external id: the other one won; answer its workspace.
            async with self.db.transaction() as session:
                existing = await WorkspaceDirectory(session).by_external_id(external_id or "")
            if existing is None:
                raise
            return existing

    async def update_workspace(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        name: str | None = None,
        timezone: str | None = None,
        currency: str | None = None,
        locale: str | None = None,
        working_hours: Sequence[WorkingHours] | None = None,
        first_response_minutes: int | None = None,
    ) -> Workspace:
        """Change what is given and keep the rest (the platform or an OWNER). A new locale
        changes the language of the names written from now on; what exists keeps its name."""
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = check_name(name)
        if timezone is not None:
            changes["timezone"] = check_timezone(timezone)
        if currency is not None:
            changes["currency"] = check_currency(currency)
        if locale is not None:
            changes["locale"] = normalise_locale(locale)
            changes["language"] = language_of(changes["locale"])
        if working_hours is not None:
            changes["working_hours"] = check_working_hours(working_hours)
        if first_response_minutes is not None:
            if not 1 <= first_response_minutes <= MAX_FIRST_RESPONSE_MINUTES:
                raise ValidationFailed(
                    f"firstResponseMinutes is 1 to {MAX_FIRST_RESPONSE_MINUTES}.",
                    field="firstResponseMinutes",
                )
            changes["first_response_minutes"] = first_response_minutes
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
            workspace = await WorkspaceDirectory(session).get(workspace_id)
            if workspace is None:  # pragma: no cover - load_actor found it in this transaction
                raise NotFound("No such workspace.", field="workspaceId")
            for key, value in changes.items():
                setattr(workspace, key, value)
            await session.flush()
            return workspace

    async def get_workspace(self, principal: Principal, workspace_id: uuid.UUID) -> Workspace:
        require_workspace_access(principal, workspace_id)
        async with self.db.transaction() as session:
            workspace = await WorkspaceDirectory(session).get(workspace_id)
        if workspace is None:
            raise NotFound("No such workspace.", field="workspaceId")
        return workspace

    async def create_site(
        self,
        principal: Principal,
        *,
        workspace_id: uuid.UUID,
        name: str,
        domains: Sequence[str],
        language: str = "ru",
        phone_region: str = "RU",
        external_id: str | None = None,
    ) -> Site:
        """Idempotent on ``external_id`` within the workspace: a retried call, even one running
        at the same time as the first, answers the same site (the unique key decides)."""
        require_platform(principal)
        await self.get_workspace(principal, workspace_id)
        name = check_name(name)
        check_external_id(external_id)
        _check_site_language(language)
        _check_phone_region(phone_region)
        site = Site(
            name=name,
            domains=normalise_domains(domains),
            public_key="pk_" + secrets.token_urlsafe(18),
            language=language,
            phone_region=phone_region,
            external_id=external_id,
        )
        if external_id is not None:
            async with self.db.transaction() as session:
                existing = await SiteRepository(session, workspace_id).by_external_id(external_id)
            if existing is not None:
                return existing
        try:
            async with self.db.transaction() as session:
                SiteRepository(session, workspace_id).add(site)
        except IntegrityError:
            if external_id is None:
                raise
            async with self.db.transaction() as session:
                existing = await SiteRepository(session, workspace_id).by_external_id(external_id)
            if existing is None:
                raise
            return existing
        return site

    async def update_site(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        site_id: uuid.UUID,
        *,
        name: str | None = None,
        domains: Sequence[str] | None = None,
        language: str | None = None,
        phone_region: str | None = None,
    ) -> Site:
        """Change what is given (the platform only); the public key and embed snippet stay."""
        require_workspace_access(principal, workspace_id)
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = check_name(name)
        if domains is not None:
            changes["domains"] = normalise_domains(domains)
        if language is not None:
            changes["language"] = _check_site_language(language)
        if phone_region is not None:
            changes["phone_region"] = _check_phone_region(phone_region)
        async with self.db.transaction() as session:
            site = await SiteRepository(session, workspace_id).live_one(site_id, lock=True)
            if site is None:
                raise NotFound("No such site.", field="siteId")
            for key, value in changes.items():
                setattr(site, key, value)
            await session.flush()
        self._forget_site(site)
        return site

    async def delete_site(
        self, principal: Principal, workspace_id: uuid.UUID, site_id: uuid.UUID
    ) -> uuid.UUID:
        """The site stops answering visitors and leaves the lists (the platform only). Its
        submissions and leads stay, still naming it; its external id is free for a new site.
        Deleting a deleted site again answers the same."""
        require_workspace_access(principal, workspace_id)
        async with self.db.transaction() as session:
            site = await SiteRepository(session, workspace_id).get(site_id)
            if site is None:
                raise NotFound("No such site.", field="siteId")
            if site.deleted_at is None:
                site.deleted_at = utcnow()
                site.external_id = None
        self._forget_site(site)
        return site_id

    async def issue_panel_token(
        self,
        principal: Principal,
        *,
        workspace_id: uuid.UUID,
        member_external_id: str,
        member_name: str,
        member_email: str | None,
        role: Role,
        ttl_seconds: int,
        components: Sequence[str] | None = None,
    ) -> IssuedToken:
        """Mint a panel token, making or updating the member it speaks for.

        ``components`` narrows the token to those parts of the owner's panel (and the API
        calls they make); without it the token reaches all of the API its role allows.
        """
        require_platform(principal)
        chosen = normalize_components(components)
        await self.get_workspace(principal, workspace_id)
        if not 60 <= ttl_seconds <= self.panel_tokens.max_ttl_seconds:
            raise ValidationFailed(
                f"ttlSeconds is between 60 and {self.panel_tokens.max_ttl_seconds}.",
                field="ttlSeconds",
            )
        if not 0 < len(member_external_id) <= 255:
            raise ValidationFailed("member.externalId is required.", field="member.externalId")
        async with self.db.transaction() as session:
            members = MemberRepository(session, workspace_id)
            member = await members.by_external_id(member_external_id)
            if member is None:
                member = members.add(Member(external_id=member_external_id, role=role))
            elif not member.active:
                # Minting does not undo a deactivation: reactivateMember does, on purpose.
                raise Forbidden(
                    "This member was deactivated; reactivate them first.",
                    field="member.externalId",
                )
            member.name = member_name
            member.email = member_email
            member.role = role
            await session.flush()
        # The role may have changed: this process must not answer the new token with the one
        # it read before.
        self._forget_member(workspace_id, member.id)
        token, expires_at = self.panel_tokens.issue(
            PanelUser(workspace_id=workspace_id, member_id=member.id, role=role, components=chosen),
            ttl_seconds=ttl_seconds,
        )
        return IssuedToken(token=token, expires_at=expires_at, member=member)

    async def list_members(
        self, workspace_id: uuid.UUID, *, include_inactive: bool = False
    ) -> list[Member]:
        async with self.db.transaction() as session:
            return await MemberRepository(session, workspace_id).listed(
                include_inactive=include_inactive
            )

    async def list_sites(self, workspace_id: uuid.UUID) -> list[Site]:
        async with self.db.transaction() as session:
            return await SiteRepository(session, workspace_id).live()

    async def site_by_id(self, workspace_id: uuid.UUID, site_id: uuid.UUID) -> Site | None:
        async with self.db.transaction() as session:
            return await SiteRepository(session, workspace_id).live_one(site_id)

    async def workspace_by_external_id(self, external_id: str) -> Workspace | None:
        async with self.db.transaction() as session:
            return await WorkspaceDirectory(session).by_external_id(external_id)

    async def members_by_id(
        self, workspace_id: uuid.UUID, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, Member]:
        async with self.db.transaction() as session:
            return await MemberRepository(session, workspace_id).get_many(ids)

    async def actor(self, principal: Principal) -> Actor:
        async with self.db.transaction() as session:
            return await actor_of(session, principal)

    async def set_managers_edit_all(
        self, principal: Principal, workspace_id: uuid.UUID, allowed: bool
    ) -> bool:
        from embedcrm.workspaces.repository import WorkspaceDirectory

        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
            workspace = await WorkspaceDirectory(session).get(workspace_id)
            assert workspace is not None
            workspace.managers_edit_all = allowed
            return allowed


def _check_site_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValidationFailed("language is ru or en.", field="language")
    return language


def _check_phone_region(phone_region: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", phone_region):
        raise ValidationFailed("phoneRegion is a two-letter country code.", field="phoneRegion")
    return phone_region
