"""Alerts' SQL: the events they come from, the members they go to, and the pending ones."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.alerts.models import Alert, AlertSettings
from embedcrm.kit.grouping import grouped
from embedcrm.workspaces.models import Member, Role, Workspace


class AlertStore:
    """Alerts across workspaces, as the scan and the flush read and write them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def workspaces(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Workspace]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = await self.session.scalars(select(Workspace).where(Workspace.id.in_(wanted)))
        return {row.id: row for row in rows}

    async def active_members(
        self, keys: Iterable[tuple[uuid.UUID, uuid.UUID]]
    ) -> dict[tuple[uuid.UUID, uuid.UUID], Member]:
        wanted = list(set(keys))
        if not wanted:
            return {}
        rows = await self.session.scalars(
            select(Member).where(
                tuple_(Member.workspace_id, Member.id).in_(wanted), Member.active.is_(True)
            )
        )
        return {(row.workspace_id, row.id): row for row in rows}

    async def owners(self, workspace_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Member]]:
        wanted = list(set(workspace_ids))
        if not wanted:
            return {}
        rows = await self.session.scalars(
            select(Member)
            .where(
                Member.workspace_id.in_(wanted),
                Member.role == Role.OWNER,
                Member.active.is_(True),
            )
            .order_by(Member.created_at, Member.id)
        )
        return grouped(wanted, rows, attrgetter("workspace_id"))

    async def settings(
        self, keys: Iterable[tuple[uuid.UUID, uuid.UUID]]
    ) -> dict[tuple[uuid.UUID, uuid.UUID], AlertSettings]:
        wanted = list(set(keys))
        if not wanted:
            return {}
        rows = await self.session.scalars(
            select(AlertSettings).where(
                tuple_(AlertSettings.workspace_id, AlertSettings.member_id).in_(wanted)
            )
        )
        return {(row.workspace_id, row.member_id): row for row in rows}

    async def add_once(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert alerts, skipping those already made for the same event and member."""
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        await self.session.execute(
            insert(Alert)
            .values(list(rows))
            .on_conflict_do_nothing(index_elements=["workspace_id", "member_id", "dedupe_key"])
        )

    async def due_recipients(self, now: datetime, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
        rows = await self.session.execute(
            select(Alert.workspace_id, Alert.member_id)
            .where(Alert.sent_at.is_(None), Alert.due_at <= now)
            .group_by(Alert.workspace_id, Alert.member_id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in rows]

    async def due_of(
        self, workspace_id: uuid.UUID, member_id: uuid.UUID, now: datetime
    ) -> list[Alert]:
        """The member's due alerts, locked: a second flush skips them."""
        stmt = (
            select(Alert)
            .where(
                Alert.workspace_id == workspace_id,
                Alert.member_id == member_id,
                Alert.sent_at.is_(None),
                Alert.due_at <= now,
            )
            .order_by(Alert.created_at, Alert.id)
            .with_for_update(skip_locked=True)
        )
        return list(await self.session.scalars(stmt))


class AlertSettingsRepository:
    """One workspace's alert settings."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def get(self, member_id: uuid.UUID) -> AlertSettings | None:
        found: AlertSettings | None = await self.session.get(
            AlertSettings, (self.workspace_id, member_id)
        )
        return found

    def add(self, settings: AlertSettings) -> AlertSettings:
        settings.workspace_id = self.workspace_id
        self.session.add(settings)
        return settings

    async def pending(self, member_id: uuid.UUID) -> list[Alert]:
        stmt = (
            select(Alert)
            .where(
                Alert.workspace_id == self.workspace_id,
                Alert.member_id == member_id,
                Alert.sent_at.is_(None),
            )
            .order_by(Alert.due_at, Alert.id)
            .limit(100)
        )
        return list(await self.session.scalars(stmt))
