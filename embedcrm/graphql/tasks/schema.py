"""GraphQL queries and mutations of tasks and the lists of them by due time."""

from __future__ import annotations

from typing import Any

import strawberry

from embedcrm.auth import PanelUser
from embedcrm.errors import NotFound
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, DeleteInput, DeletePayload
from embedcrm.graphql.support import (
    DEFAULT_PAGE_SIZE,
    UNSET,
    as_payload,
    errors_payload,
    given,
    parse_id,
    required_id,
    scoped_id,
    workspace_arg,
)
from embedcrm.graphql.tasks.inputs import CreateTaskInput, TaskFilter, TaskPayload, UpdateTaskInput
from embedcrm.graphql.tasks.types import Task, due_connection
from embedcrm.tasks import models as task_models
from embedcrm.tasks.repository import TaskFilter as TaskFilterQuery


@strawberry.type
class TaskQuery:
    @strawberry.field(description="Tasks by due time: mine, a member's, or the overdue ones.")
    async def tasks(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: TaskFilter | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> Connection[Task]:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        f = filter or TaskFilter()
        assignee = scoped_id(f.assignee_id, "Member", "filter.assigneeId", workspace)
        if f.mine:
            if not isinstance(ctx.principal, PanelUser):
                raise NotFound("Only a panel member has tasks of their own.", field="filter.mine")
            assignee = ctx.principal.member_id
        query = TaskFilterQuery(
            assignee_id=assignee, open_only=not f.include_done, overdue_only=f.overdue
        )
        service = ctx.services.tasks
        page = await service.page(ctx.principal, workspace, query, first=first, after=after)
        return due_connection(page, lambda: service.count(ctx.principal, workspace, query))


@strawberry.type
class TaskMutation:
    @strawberry.mutation(description="A task or reminder; assigned to the caller unless told.")
    async def create_task(self, info: Info, input: CreateTaskInput) -> TaskPayload:
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

    @strawberry.mutation(description="Change a task, or mark it done (done: true) or open again.")
    async def update_task(self, info: Info, input: UpdateTaskInput) -> TaskPayload:
        ctx = info.context

        async def call() -> task_models.Task:
            gid = parse_id(input.id, "Task")
            assignee: Any = input.assignee_id
            if assignee not in (UNSET, None):
                assignee = required_id(assignee, "Member", "assigneeId", gid.workspace_id)
            changes = given(
                title=input.title, due_at=input.due_at, assignee_id=assignee, done=input.done
            )
            return await ctx.services.tasks.update(
                ctx.principal, gid.workspace_id, gid.row_id, changes
            )

        return await as_payload(
            call, lambda t: TaskPayload(task=Task.of(t)), errors_payload(TaskPayload)
        )

    @strawberry.mutation
    async def delete_task(self, info: Info, input: DeleteInput) -> DeletePayload:
        ctx = info.context

        async def call() -> strawberry.ID:
            gid = parse_id(input.id, "Task")
            await ctx.services.tasks.delete(ctx.principal, gid.workspace_id, gid.row_id)
            return input.id

        return await as_payload(
            call, lambda i: DeletePayload(deleted_id=i), errors_payload(DeletePayload)
        )
