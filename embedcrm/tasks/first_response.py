"""A lead's first-response task closes by itself once the lead is answered or closed.

Answered means a call, an e-mail, a message or a meeting logged on the lead, or on its contact
(which answers every open lead of that contact); a note is internal and answers nobody. A lead
won or lost before an answer closes its task too, marked so that it does not count as an
answer, and reopening such a lead reopens the task.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.leads.models import ActivityKind, Lead, LeadStatus
from embedcrm.tasks.events import emit_task_event
from embedcrm.tasks.models import TaskDoneReason
from embedcrm.tasks.repository import TaskRepository

ANSWER_KINDS = frozenset(
    {ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MESSAGE, ActivityKind.MEETING}
)


async def close_answered(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    lead_ids: Iterable[uuid.UUID],
    *,
    answered_at: datetime,
    now: datetime,
) -> set[uuid.UUID]:
    """Close the open first-response tasks of leads just answered; the leads whose task closed.

    The task is done when the answer happened, which a call logged afterwards gives.
    """
    tasks = await TaskRepository(session, workspace_id).first_response_of(lead_ids)
    for task in tasks:
        task.done_at = answered_at
        task.done_reason = TaskDoneReason.ANSWERED
    await session.flush()
    for task in tasks:
        await emit_task_event(session, task, "task.completed", now=now)
    return {task.lead_id for task in tasks if task.lead_id is not None}


async def follow_lead_status(session: AsyncSession, lead: Lead, *, now: datetime) -> None:
    """After the lead's status changed: close its open first-response task when it is won or
    lost; reopen the one its closing closed when it is open again."""
    tasks = TaskRepository(session, lead.workspace_id)
    if lead.status is LeadStatus.OPEN:
        for task in await tasks.first_response_of(
            [lead.id], done_reason=TaskDoneReason.LEAD_CLOSED
        ):
            task.done_at = None
            task.done_reason = None
        await session.flush()
        return
    closing = await tasks.first_response_of([lead.id])
    for task in closing:
        task.done_at = now
        task.done_reason = TaskDoneReason.LEAD_CLOSED
    await session.flush()
    for task in closing:
        await emit_task_event(session, task, "task.completed", now=now, site_id=lead.site_id)
