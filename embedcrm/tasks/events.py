"""Events about tasks, written to the outbox in the transaction of the change."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.events import Event
from embedcrm.events.catalog import TaskPayload
from embedcrm.kit.events import scope_data
from embedcrm.tasks.models import Task
from embedcrm.webhooks.outbox import OutboxRepository


def task_payload(task: Task) -> TaskPayload:
    return {
        "id": str(task.id),
        "title": task.title,
        "kind": task.kind.value,
        "due_at": task.due_at,
        "done": task.done_at is not None,
        "lead_id": str(task.lead_id) if task.lead_id else None,
        "contact_id": str(task.contact_id) if task.contact_id else None,
        "assignee_id": str(task.assignee_id) if task.assignee_id else None,
    }


def emit_task_event(
    session: AsyncSession,
    task: Task,
    event_type: str,
    *,
    now: datetime,
    site_id: uuid.UUID | None = None,
) -> None:
    OutboxRepository(session, task.workspace_id).record(
        Event(
            type=event_type,
            occurred_at=now,
            data={**scope_data(task.workspace_id, site_id), "task": task_payload(task)},
        )
    )
