"""SQL of tasks, bound to one workspace; the worker's overdue scan says in its name that it is not."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.db import hold_sqlite_write_lock
from embedcrm.errors import BadRequest
from embedcrm.kit.repository import Page, Viewer, Window, WorkspaceRepository, keyset_page
from embedcrm.leads.ownership import own_lead_ids
from embedcrm.tasks.models import Task, TaskDoneReason, TaskKind


@dataclass(frozen=True)
class TaskFilter:
    assignee_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    open_only: bool = True
    overdue_only: bool = False


class TaskRepository(WorkspaceRepository[Task]):
    model = Task

    def own_rows(self, stmt: Select[Task], member_id: uuid.UUID) -> Select[Task]:
        """A manager's tasks: given to them, made by them, or about a lead they see."""
        return stmt.where(
            or_(
                Task.assignee_id == member_id,
                Task.created_by_id == member_id,
                Task.lead_id.in_(own_lead_ids(self.workspace_id, member_id)),
            )
        )

    async def open_due_between(
        self, start: datetime, end: datetime, kinds: Iterable[TaskKind], limit: int
    ) -> list[Task]:
        """Open tasks of ``kinds`` about a lead or a contact due after ``start``, up to ``end``."""
        stmt = (
            self.select()
            .where(
                Task.kind.in_(list(kinds)),
                Task.done_at.is_(None),
                Task.due_at > start,
                Task.due_at <= end,
                or_(Task.contact_id.is_not(None), Task.lead_id.is_not(None)),
            )
            .order_by(Task.due_at, Task.id)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))

    async def first_response_of(
        self, lead_ids: Iterable[uuid.UUID], *, done_reason: TaskDoneReason | None = None
    ) -> list[Task]:
        """The first-response tasks of these leads: the open ones, or those closed for
        ``done_reason``."""
        stmt = self.select().where(
            Task.kind == TaskKind.FIRST_RESPONSE, Task.lead_id.in_(list(lead_ids))
        )
        if done_reason is None:
            stmt = stmt.where(Task.done_at.is_(None))
        else:
            stmt = stmt.where(Task.done_at.is_not(None), Task.done_reason == done_reason)
        return list(await self.session.scalars(stmt))

    async def of_contact(self, contact_id: uuid.UUID) -> list[Task]:
        return list(await self.session.scalars(self.select().where(Task.contact_id == contact_id)))

    async def erase_person(self, contact_id: uuid.UUID, lead_ids: Sequence[uuid.UUID]) -> None:
        """Delete the tasks about this contact or its leads."""
        await self.session.execute(
            delete(Task).where(
                Task.workspace_id == self.workspace_id,
                or_(Task.contact_id == contact_id, Task.lead_id.in_(list(lead_ids))),
            )
        )

    def matching(self, viewer: Viewer, task_filter: TaskFilter, *, now: datetime) -> Select[Task]:
        stmt = self.readable(viewer)
        if task_filter.assignee_id is not None:
            stmt = stmt.where(Task.assignee_id == task_filter.assignee_id)
        if task_filter.lead_id is not None:
            stmt = stmt.where(Task.lead_id == task_filter.lead_id)
        if task_filter.contact_id is not None:
            stmt = stmt.where(Task.contact_id == task_filter.contact_id)
        if task_filter.open_only or task_filter.overdue_only:
            stmt = stmt.where(Task.done_at.is_(None))
        if task_filter.overdue_only:
            stmt = stmt.where(Task.due_at < now)
        return stmt

    async def page_matching(
        self,
        viewer: Viewer,
        task_filter: TaskFilter,
        *,
        now: datetime,
        window: Window,
    ) -> Page[Task]:
        """By due time, soonest first; the tasks of one lead or contact newest first."""
        stmt = self.matching(viewer, task_filter, now=now)
        if task_filter.lead_id or task_filter.contact_id:
            return await self.newest_first(stmt, window=window)
        return await self.by_due(stmt, window=window)

    async def count_matching(
        self, viewer: Viewer, task_filter: TaskFilter, *, now: datetime
    ) -> int:
        stmt = self.matching(viewer, task_filter, now=now)
        if not (task_filter.lead_id or task_filter.contact_id):
            stmt = stmt.where(Task.due_at.is_not(None))
        return await self.count(stmt)

    async def by_due(
        self,
        stmt: Select[Task],
        *,
        window: Window,
    ) -> Page[Task]:
        """Tasks by due time, ascending, by keyset on (due_at, id) either way."""
        return await keyset_page(
            self.session,
            stmt.where(Task.due_at.is_not(None)),
            (Task.due_at, Task.id),
            descending=False,
            window=window,
            decode=decode_due_cursor,
            encode=encode_due_cursor,
        )


def encode_due_cursor(task: Task) -> str:
    assert task.due_at is not None
    raw = f"{task.due_at.isoformat()}|{task.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_due_cursor(cursor: str, field: str = "after") -> tuple[datetime, uuid.UUID]:
    try:
        due, task_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(due), uuid.UUID(task_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The cursor is not valid.", field=field) from exc


class OverdueScan:
    """The worker's scan across every workspace for tasks that just became overdue.

    Above the tenant boundary on purpose, like WorkspaceDirectory: one worker serves them all.
    ``FOR UPDATE SKIP LOCKED`` lets several workers share the scan on PostgreSQL.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, now: datetime, limit: int) -> list[Task]:
        # SQLite: the database's write lock first, so two processes never notify one task twice.
        await hold_sqlite_write_lock(self.session, Task)
        stmt = (
            select(Task)
            .where(Task.overdue_notified_at.is_(None), Task.done_at.is_(None), Task.due_at < now)
            .order_by(Task.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(await self.session.scalars(stmt))
