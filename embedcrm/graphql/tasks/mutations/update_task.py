"""The update_task mutation: change a task, or mark it done (done: true) or open again."""

from __future__ import annotations

from typing import Any

from embedcrm.graphql.context import Info
from embedcrm.graphql.support import (
    UNSET,
    given,
    parse_id,
    required_id,
    user_errors_in,
)
from embedcrm.graphql.tasks.inputs import TaskPayload, UpdateTaskInput
from embedcrm.graphql.tasks.types import Task


@user_errors_in(TaskPayload)
async def resolve(info: Info, input: UpdateTaskInput) -> TaskPayload:
    ctx = info.context
    gid = parse_id(input.id, "Task")
    assignee: Any = input.assignee_id
    if assignee not in (UNSET, None):
        assignee = required_id(assignee, "Member", "assigneeId", gid.workspace_id)
    changes = given(title=input.title, due_at=input.due_at, assignee_id=assignee, done=input.done)
    return TaskPayload(
        task=Task.of(
            await ctx.services.tasks.update(ctx.principal, gid.workspace_id, gid.row_id, changes)
        )
    )
