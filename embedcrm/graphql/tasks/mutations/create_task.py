"""The create_task mutation: a task or reminder; assigned to the caller unless told."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.support import as_payload, errors_payload, parse_id, scoped_id, workspace_arg
from embedcrm.graphql.tasks.inputs import CreateTaskInput, TaskPayload
from embedcrm.graphql.tasks.types import Task
from embedcrm.tasks import models as task_models


async def resolve(info: Info, input: CreateTaskInput) -> TaskPayload:
    ctx = info.context

    async def call() -> task_models.Task:
        owner = None
        if input.lead_id is not None:
            owner = parse_id(input.lead_id, "Lead", "leadId").workspace_id
        elif input.contact_id is not None:
            owner = parse_id(input.contact_id, "Contact", "contactId").workspace_id
        workspace = owner or ctx.workspace_for(workspace_arg(input.workspace_id))
        return await ctx.services.tasks.create(
            ctx.principal,
            workspace,
            title=input.title,
            kind=input.kind,
            due_at=input.due_at,
            assignee_id=scoped_id(input.assignee_id, "Member", "assigneeId", workspace),
            lead_id=scoped_id(input.lead_id, "Lead", "leadId", workspace),
            contact_id=scoped_id(input.contact_id, "Contact", "contactId", workspace),
        )

    return await as_payload(
        call, lambda t: TaskPayload(task=Task.of(t)), errors_payload(TaskPayload)
    )
