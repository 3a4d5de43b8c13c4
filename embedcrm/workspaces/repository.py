"""SQL for workspaces, sites, members and platform keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.kit.repository import WorkspaceRepository
from embedcrm.workspaces.models import (
    Member,
    PlatformKey,
    RevokedPanelToken,
    Role,
    Site,
    Workspace,
)


class WorkspaceDirectory:
    """The workspaces themselves: the one table above the tenant boundary, with platform keys."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, workspace_id: uuid.UUID) -> Workspace | None:
        return await self.session.get(Workspace, workspace_id)

    async def get_many(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, Workspace]:
        rows = await self.session.scalars(select(Workspace).where(Workspace.id.in_(ids)))
        return {row.id: row for row in rows}

    async def by_external_id(self, external_id: str) -> Workspace | None:
        result = await self.session.scalars(
            select(Workspace).where(Workspace.external_id == external_id)
        )
        return result.first()

    async def site_by_public_key(self, public_key: str) -> Site | None:
        result = await self.session.scalars(
            select(Site).where(Site.public_key == public_key, Site.deleted_at.is_(None))
        )
        return result.first()

    async def platform_key_by_hash(self, secret_hash: str, now: datetime) -> PlatformKey | None:
        """The key with this hash while it works: neither revoked nor past a rotation's expiry."""
        result = await self.session.scalars(
            select(PlatformKey).where(
                PlatformKey.secret_hash == secret_hash,
                PlatformKey.revoked_at.is_(None),
                or_(PlatformKey.expires_at.is_(None), PlatformKey.expires_at > now),
            )
        )
        return result.first()

    async def platform_key(self, key_id: uuid.UUID) -> PlatformKey | None:
        return await self.session.get(PlatformKey, key_id, with_for_update=True)

    async def platform_keys(self) -> list[PlatformKey]:
        return list(
            await self.session.scalars(
                select(PlatformKey).order_by(PlatformKey.created_at, PlatformKey.id)
            )
        )

    def add(self, row: Workspace | PlatformKey) -> None:
        self.session.add(row)


class SiteRepository(WorkspaceRepository[Site]):
    model = Site

    async def oldest_first(self) -> list[Site]:
        """Every site, deleted ones too: their submissions still need their settings."""
        return list(await self.session.scalars(self.select().order_by(Site.created_at)))

    async def live(self) -> list[Site]:
        return list(
            await self.session.scalars(
                self.select().where(Site.deleted_at.is_(None)).order_by(Site.created_at)
            )
        )

    async def live_one(self, site_id: uuid.UUID, *, lock: bool = False) -> Site | None:
        stmt = self.select().where(Site.id == site_id, Site.deleted_at.is_(None))
        if lock:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).first()

    async def by_external_id(self, external_id: str) -> Site | None:
        result = await self.session.scalars(self.select().where(Site.external_id == external_id))
        return result.first()


class MemberRepository(WorkspaceRepository[Member]):
    model = Member

    async def by_external_id(self, external_id: str) -> Member | None:
        result = await self.session.scalars(self.select().where(Member.external_id == external_id))
        return result.first()

    async def active_managers(self) -> list[Member]:
        """The active managers, oldest first: the order round-robin assignment takes turns in."""
        rows = await self.session.scalars(
            self.select()
            .where(Member.role == Role.MANAGER, Member.active.is_(True))
            .order_by(Member.created_at, Member.id)
        )
        return list(rows)

    async def listed(self, *, include_inactive: bool) -> list[Member]:
        stmt = self.select().order_by(Member.name, Member.id)
        if not include_inactive:
            stmt = stmt.where(Member.active.is_(True))
        return list(await self.session.scalars(stmt))


class RevokedPanelTokenRepository(WorkspaceRepository[RevokedPanelToken]):
    model = RevokedPanelToken

    async def forget_expired(self, now: datetime) -> None:
        """Revocations of tokens that have expired anyway guard nothing any more."""
        await self.session.execute(
            delete(RevokedPanelToken).where(
                RevokedPanelToken.workspace_id == self.workspace_id,
                RevokedPanelToken.expires_at <= now,
            )
        )

    async def of_member(self, member_id: uuid.UUID, now: datetime) -> set[uuid.UUID]:
        """The ids of this member's revoked tokens that would still be valid."""
        rows = await self.session.scalars(
            select(RevokedPanelToken.id).where(
                RevokedPanelToken.workspace_id == self.workspace_id,
                RevokedPanelToken.member_id == member_id,
                RevokedPanelToken.expires_at > now,
            )
        )
        return set(rows)
