"""The create_task mutation: a task or reminder; assigned to the caller unless told."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.support import (
    parse_id,
    scoped_id,
    user_errors_in,
    workspace_arg,
)
from embedcrm.graphql.tasks.inputs import CreateTaskInput, TaskPayload
from embedcrm.graphql.tasks.types import Task


@user_errors_in(TaskPayload)
async def resolve(info: Info, input: CreateTaskInput) -> TaskPayload:
    ctx = info.context
    owner = None
    if input.lead_id is not None:
        owner = parse_id(input.lead_id, "Lead", "leadId").workspace_id
    elif input.contact_id is not None:
        owner = parse_id(input.contact_id, "Contact", "contactId").workspace_id
    workspace = owner or ctx.workspace_for(workspace_arg(input.workspace_id))
    return TaskPayload(
        task=Task.of(
            await ctx.services.tasks.create(
                ctx.principal,
                workspace,
                title=input.title,
                kind=input.kind,
                due_at=input.due_at,
                assignee_id=scoped_id(input.assignee_id, "Member", "assigneeId", workspace),
                lead_id=scoped_id(input.lead_id, "Lead", "leadId", workspace),
                contact_id=scoped_id(input.contact_id, "Contact", "contactId", workspace),
            )
        )
    )
