"""SQL for workspaces, sites, members and platform keys."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.kit.repository import WorkspaceRepository
from embedcrm.workspaces.models import Member, PlatformKey, Role, Site, Workspace


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
        result = await self.session.scalars(select(Site).where(Site.public_key == public_key))
        return result.first()

    async def platform_key_by_hash(self, secret_hash: str) -> PlatformKey | None:
        result = await self.session.scalars(
            select(PlatformKey).where(
                PlatformKey.secret_hash == secret_hash, PlatformKey.revoked_at.is_(None)
            )
        )
        return result.first()

    def add(self, row: Workspace | PlatformKey) -> None:
        self.session.add(row)


class SiteRepository(WorkspaceRepository[Site]):
    model = Site

    async def oldest_first(self) -> list[Site]:
        return list(await self.session.scalars(self.select().order_by(Site.created_at)))


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
