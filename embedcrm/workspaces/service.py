"""Provisioning for the host: workspaces, sites, members, keys and panel tokens."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import (
    PanelTokens,
    PanelUser,
    Platform,
    Principal,
    hash_platform_key,
    new_platform_key,
    normalize_components,
    platform_key_matches,
)
from embedcrm.db import Database
from embedcrm.errors import Forbidden, NotFound, Unauthenticated, ValidationFailed
from embedcrm.workspaces.access import Actor, actor_of, load_actor
from embedcrm.workspaces.models import Member, PlatformKey, Role, Site, Workspace
from embedcrm.workspaces.repository import MemberRepository, SiteRepository, WorkspaceDirectory
from embedcrm.workspaces.words import DEFAULT_LANGUAGE, LANGUAGES

# A domain as a host would type it: a hostname, optionally with a port, or a *. wildcard.
_DOMAIN = re.compile(
    r"^(\*\.)?(?=.{1,253}(:|$))([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$"
)
MAX_DOMAINS = 50
# How long a verified platform key is trusted without asking the database again; a revoked key
# stops working within this time.
PLATFORM_KEY_CACHE_SECONDS = 60.0
# How long a process trusts that a panel token's member is still active. Deactivation clears
# the entry in the process that did it; other processes notice within this time.
MEMBER_CACHE_SECONDS = 5.0

# A step that sets up a new workspace's own rows (the default pipeline), run in the transaction
# that creates it. Domains above this one provide them through ``Services``, so workspaces never
# import them.
Provisioner = Callable[[AsyncSession, uuid.UUID], Awaitable[object]]


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


class WorkspaceService:
    def __init__(
        self, db: Database, panel_tokens: PanelTokens, provisioners: Sequence[Provisioner] = ()
    ) -> None:
        self.db = db
        self.panel_tokens = panel_tokens
        self.provisioners = tuple(provisioners)
        # Known platform keys by hash, with when they were looked up: the host sends its key
        # on every call, and a database round trip per request would cost more than the call.
        self._platform_keys: dict[str, tuple[float, uuid.UUID]] = {}
        # Members seen active recently, by (workspace, member): when they were checked.
        self._active_members: dict[tuple[uuid.UUID, uuid.UUID], float] = {}

    async def authenticate(self, bearer: str) -> Principal:
        """The principal behind an ``Authorization: Bearer`` value."""
        if bearer.startswith("ecp_"):
            secret_hash = hash_platform_key(bearer)
            known = self._platform_keys.get(secret_hash)
            if known is not None and time.monotonic() - known[0] < PLATFORM_KEY_CACHE_SECONDS:
                return Platform(key_id=known[1])
            async with self.db.transaction() as session:
                key = await WorkspaceDirectory(session).platform_key_by_hash(secret_hash)
            if key is None or not platform_key_matches(bearer, key.secret_hash):
                raise Unauthenticated("The platform key is not valid.")
            if len(self._platform_keys) > 1000:
                self._platform_keys.clear()
            self._platform_keys[secret_hash] = (time.monotonic(), key.id)
            return Platform(key_id=key.id)
        user = self.panel_tokens.read(bearer)
        await self._require_active(user)
        return user

    async def _require_active(self, user: PanelUser) -> None:
        """A token speaks for its member only while the member is active."""
        key = (user.workspace_id, user.member_id)
        seen = self._active_members.get(key)
        if seen is not None and time.monotonic() - seen < MEMBER_CACHE_SECONDS:
            return
        async with self.db.transaction() as session:
            member = await MemberRepository(session, user.workspace_id).get(user.member_id)
        if member is None or not member.active:
            self._active_members.pop(key, None)
            raise Unauthenticated("This member was deactivated.")
        if len(self._active_members) > 10000:
            self._active_members.clear()
        self._active_members[key] = time.monotonic()

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
        self._active_members.pop((workspace_id, member_id), None)
        return member

    async def create_platform_key(self, name: str) -> str:
        key, secret_hash = new_platform_key()
        async with self.db.transaction() as session:
            WorkspaceDirectory(session).add(
                PlatformKey(name=name, prefix=key[:8], secret_hash=secret_hash)
            )
        return key

    async def create_workspace(
        self,
        principal: Principal,
        *,
        name: str,
        external_id: str | None,
        currency: str | None = None,
        language: str | None = None,
    ) -> Workspace:
        """Idempotent on ``external_id``: the same id always answers the same workspace.

        ``currency`` (of values given without one; RUB) and ``language`` (of the names the
        service writes; ru) are taken when the workspace is made.
        """
        require_platform(principal)
        name = name.strip()
        if not name or len(name) > 200:
            raise ValidationFailed("A name of 1 to 200 characters is required.", field="name")
        if external_id is not None and not 0 < len(external_id) <= 255:
            raise ValidationFailed("externalId is 1 to 255 characters.", field="externalId")
        if currency is not None:
            currency = currency.strip().upper()
            if not re.fullmatch(r"[A-Z]{3}", currency):
                raise ValidationFailed(
                    "An ISO 4217 code such as RUB is required.", field="currency"
                )
        if language is not None and language not in LANGUAGES:
            raise ValidationFailed("language is ru or en.", field="language")
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
                )
                WorkspaceDirectory(session).add(workspace)
                await session.flush()
                for provision in self.provisioners:
                    await provision(session, workspace.id)
            return workspace
        except IntegrityError:
            # Two concurrent calls with one external id: the other one won; answer its workspace.
            async with self.db.transaction() as session:
                existing = await WorkspaceDirectory(session).by_external_id(external_id or "")
            if existing is None:
                raise
            return existing

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
    ) -> Site:
        require_platform(principal)
        await self.get_workspace(principal, workspace_id)
        name = name.strip()
        if not name or len(name) > 200:
            raise ValidationFailed("A name of 1 to 200 characters is required.", field="name")
        if language not in {"ru", "en"}:
            raise ValidationFailed("language is ru or en.", field="language")
        if not re.fullmatch(r"[A-Z]{2}", phone_region):
            raise ValidationFailed("phoneRegion is a two-letter country code.", field="phoneRegion")
        site = Site(
            name=name,
            domains=normalise_domains(domains),
            public_key="pk_" + secrets.token_urlsafe(18),
            language=language,
            phone_region=phone_region,
        )
        async with self.db.transaction() as session:
            SiteRepository(session, workspace_id).add(site)
        return site

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
        token, expires_at = self.panel_tokens.issue(
            PanelUser(workspace_id=workspace_id, member_id=member.id, role=role, components=chosen),
            ttl_seconds=ttl_seconds,
        )
        return IssuedToken(token=token, expires_at=expires_at, member=member)

    async def list_members(self, workspace_id: uuid.UUID) -> list[Member]:
        async with self.db.transaction() as session:
            members = MemberRepository(session, workspace_id)
            stmt = members.select().where(Member.active.is_(True)).order_by(Member.name)
            return list(await session.scalars(stmt))

    async def list_sites(self, workspace_id: uuid.UUID) -> list[Site]:
        async with self.db.transaction() as session:
            return await SiteRepository(session, workspace_id).oldest_first()

    async def site_by_id(self, workspace_id: uuid.UUID, site_id: uuid.UUID) -> Site | None:
        async with self.db.transaction() as session:
            return await SiteRepository(session, workspace_id).get(site_id)

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
