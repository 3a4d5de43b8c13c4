"""The bodies of the tasks query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

import strawberry

from embedcrm.auth import PanelUser
from embedcrm.errors import NotFound
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, connection, scoped_id, workspace_arg
from embedcrm.graphql.tasks.inputs import TaskFilter
from embedcrm.graphql.tasks.types import Task
from embedcrm.kit.repository import Window
from embedcrm.tasks.repository import TaskFilter as TaskFilterQuery


async def tasks(
    info: Info,
    first: int | None = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
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
    page = await service.page(
        ctx.principal, workspace, query, window=Window(first, after, last, before)
    )
    return connection(page, Task.of, lambda: service.count(ctx.principal, workspace, query))
