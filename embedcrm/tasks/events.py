"""Events about tasks, written to the outbox in the transaction of the change."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.events import Event
from embedcrm.events.catalog import TaskPayload
from embedcrm.ids import optional_global_id, to_global_id
from embedcrm.tasks.models import Task
from embedcrm.webhooks.outbox import OutboxRepository


def task_payload(task: Task) -> TaskPayload:
    ws = task.workspace_id
    return {
        "id": to_global_id("Task", ws, task.id),
        "title": task.title,
        "kind": task.kind.value,
        "due_at": task.due_at,
        "done": task.done_at is not None,
        "lead_id": optional_global_id("Lead", ws, task.lead_id),
        "contact_id": optional_global_id("Contact", ws, task.contact_id),
        "assignee_id": optional_global_id("Member", ws, task.assignee_id),
    }


async def emit_task_event(
    session: AsyncSession,
    task: Task,
    event_type: str,
    *,
    now: datetime,
    site_id: uuid.UUID | None = None,
) -> None:
    outbox = OutboxRepository(session, task.workspace_id)
    outbox.record(
        Event(
            type=event_type,
            occurred_at=now,
            data={**await outbox.scope(site_id), "task": task_payload(task)},
        )
    )
