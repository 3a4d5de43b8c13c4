"""Tasks and reminders: due time, assignee, lead or contact; "my tasks", overdue, once-only alerts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.contacts.service import readable_contact
from embedcrm.db import Database, utcnow
from embedcrm.errors import NotFound, ValidationFailed
from embedcrm.kit.repository import Page, Window
from embedcrm.leads.moves import get_lead, refresh_first_response
from embedcrm.tasks.events import emit_task_event
from embedcrm.tasks.models import Task, TaskKind
from embedcrm.tasks.repository import OverdueScan, TaskFilter, TaskRepository
from embedcrm.workspaces.access import Actor, get_member, load_actor, readable_row, viewer_of


async def writable_task(session: AsyncSession, actor: Actor, task_id: uuid.UUID) -> Task:
    """A task the actor may change: a manager changes the tasks they see (given to them, made
    by them, or about a lead they see); another one answers like a missing task."""
    task = await TaskRepository(session, actor.workspace_id).get_readable(actor, task_id)
    if task is None:
        raise NotFound("Nothing has this id.", field="id")
    return task


def add_task(session: AsyncSession, workspace_id: uuid.UUID, task: Task) -> Task:
    """Add a task in the caller's transaction, as making a lead adds its first-response task."""
    return TaskRepository(session, workspace_id).add(task)


class TaskService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        title: str,
        kind: TaskKind,
        due_at: datetime,
        assignee_id: uuid.UUID | None,
        lead_id: uuid.UUID | None,
        contact_id: uuid.UUID | None,
    ) -> Task:
        title = title.strip()
        if not 0 < len(title) <= 300:
            raise ValidationFailed("A title of 1 to 300 characters is required.", field="title")
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="workspaceId")
            site_id = None
            if lead_id is not None:
                lead = await get_lead(session, workspace_id, lead_id)
                actor.require_assigned(lead.assignee_id, "lead")
                contact_id = contact_id or lead.contact_id
                site_id = lead.site_id
            if contact_id is not None:
                await readable_contact(session, actor, contact_id)
            if assignee_id is not None:
                await get_member(session, workspace_id, assignee_id, "assigneeId")
            else:
                assignee_id = actor.member_id
            if (
                not actor.is_owner
                and not actor.managers_edit_all
                and assignee_id != actor.member_id
            ):
                actor.require_assigned(None, "task")
            now = utcnow()
            task = TaskRepository(session, workspace_id).add(
                Task(
                    kind=kind,
                    title=title,
                    lead_id=lead_id,
                    contact_id=contact_id,
                    assignee_id=assignee_id,
                    created_by_id=actor.member_id,
                    due_at=due_at,
                    created_at=now,
                )
            )
            await session.flush()
            await emit_task_event(session, task, "task.created", now=now, site_id=site_id)
            return task

    async def update(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        task_id: uuid.UUID,
        changes: Mapping[str, Any],
    ) -> Task:
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id)
            task = await writable_task(session, actor, task_id)
            now = utcnow()
            for key, value in changes.items():
                if key == "title":
                    if not value or not 0 < len(value.strip()) <= 300:
                        raise ValidationFailed(
                            "A title of 1 to 300 characters is required.", field="title"
                        )
                    task.title = value.strip()
                elif key == "due_at":
                    if value is None:
                        raise ValidationFailed("A reminder needs its due time.", field="dueAt")
                    task.due_at = value
                    # A new due time deserves a new alert when it passes too.
                    task.overdue_notified_at = None
                elif key == "assignee_id":
                    if value is not None:
                        await get_member(session, workspace_id, value, "assigneeId")
                    task.assignee_id = value
                elif key == "done":
                    was_done = task.done_at is not None
                    task.done_at = now if value else None
                    task.done_reason = None
                    if value and not was_done:
                        await session.flush()
                        await emit_task_event(session, task, "task.completed", now=now)
                    if bool(value) != was_done and task.lead_id is not None:
                        await session.flush()
                        await refresh_first_response(session, workspace_id, task.lead_id)
                else:
                    raise ValidationFailed("This field cannot be changed.", field=key)
            await session.flush()
            return task

    async def delete(
        self, principal: Principal, workspace_id: uuid.UUID, task_id: uuid.UUID
    ) -> None:
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id)
            task = await writable_task(session, actor, task_id)
            await session.delete(task)
            if task.lead_id is not None and task.done_at is not None:
                await session.flush()
                await refresh_first_response(session, workspace_id, task.lead_id)

    async def page(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        task_filter: TaskFilter,
        *,
        window: Window,
    ) -> Page[Task]:
        """Tasks by due time, soonest first (those of a lead or contact: newest first)."""
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            tasks = TaskRepository(session, workspace_id)
            return await tasks.page_matching(viewer, task_filter, now=utcnow(), window=window)

    async def visible_task(
        self, principal: Principal, workspace_id: uuid.UUID, task_id: uuid.UUID
    ) -> Task | None:
        """The task, if ``principal`` may see it (TaskRepository.own_rows for a MANAGER)."""
        return await readable_row(self.db, principal, TaskRepository, workspace_id, task_id)

    async def count(
        self, principal: Principal, workspace_id: uuid.UUID, task_filter: TaskFilter
    ) -> int:
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            tasks = TaskRepository(session, workspace_id)
            return await tasks.count_matching(viewer, task_filter, now=utcnow())

    async def emit_overdue(self, *, now: datetime | None = None, limit: int = 500) -> int:
        """The worker's job: `task.overdue` once for each task that passed its due time."""
        now = now or utcnow()
        async with self.db.transaction() as session:
            tasks = await OverdueScan(session).claim(now, limit)
            for task in tasks:
                task.overdue_notified_at = now
                await emit_task_event(session, task, "task.overdue", now=now)
            await session.flush()
            return len(tasks)


# What other domains do to a contact's tasks inside their own transaction.


async def open_tasks_due_between(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    start: datetime,
    end: datetime,
    *,
    limit: int = 500,
) -> list[Task]:
    """What reminders to clients look for: the open appointments (meetings and calls) about a
    client due in this window; the shop's own to-dos are not the client's business."""
    return await TaskRepository(session, workspace_id).open_due_between(
        start, end, (TaskKind.MEETING, TaskKind.CALL), limit
    )


async def tasks_of_contact(
    session: AsyncSession, workspace_id: uuid.UUID, contact_id: uuid.UUID
) -> list[Task]:
    return await TaskRepository(session, workspace_id).of_contact(contact_id)


async def erase_person_tasks(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    contact_id: uuid.UUID,
    lead_ids: Sequence[uuid.UUID],
) -> None:
    await TaskRepository(session, workspace_id).erase_person(contact_id, lead_ids)


async def move_contact_tasks(
    session: AsyncSession, workspace_id: uuid.UUID, source: uuid.UUID, target: uuid.UUID
) -> list[str]:
    """Give ``target`` the tasks of ``source``; answers the ids moved."""
    return await TaskRepository(session, workspace_id).move_contact(source, target)


async def give_back_tasks(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    task_ids: Sequence[uuid.UUID],
    contact_id: uuid.UUID,
) -> None:
    """Undo of ``move_contact_tasks``, for the tasks that still exist."""
    tasks = TaskRepository(session, workspace_id)
    for task_id in task_ids:
        task = await tasks.get(task_id)
        if task is not None:
            task.contact_id = contact_id
