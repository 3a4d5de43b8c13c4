"""GraphQL types of tasks and the lists of them by due time."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from embedcrm.db import utcnow
from embedcrm.graphql.contacts import types as contact_types
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, Node, node_id
from embedcrm.graphql.ids import to_global_id
from embedcrm.graphql.nodes import loads_visible
from embedcrm.graphql.support import connection
from embedcrm.graphql.workspaces.types import Member, load_member
from embedcrm.kit.repository import Window
from embedcrm.tasks import models as task_models
from embedcrm.tasks.repository import TaskFilter

if TYPE_CHECKING:
    from embedcrm.graphql.contacts.types import Contact


TaskKind = strawberry.enum(task_models.TaskKind, name="TaskKind")


@strawberry.type
class Task(Node):
    title: str
    kind: TaskKind  # type: ignore[valid-type]
    due_at: datetime | None
    done: bool
    done_at: datetime | None
    created_at: datetime
    _row: strawberry.Private[task_models.Task]

    @strawberry.field(description="Open and past its due time.")
    def overdue(self) -> bool:
        return (
            self._row.done_at is None
            and self._row.due_at is not None
            and self._row.due_at < utcnow()
        )

    @strawberry.field
    async def assignee(self, info: Info) -> Member | None:
        return await load_member(info, self._row.workspace_id, self._row.assignee_id)

    @strawberry.field
    async def contact(
        self, info: Info
    ) -> Annotated[Contact, strawberry.lazy("embedcrm.graphql.contacts.types")] | None:
        if self._row.contact_id is None:
            return None
        row = await info.context.loaders.contacts.load(
            (self._row.workspace_id, self._row.contact_id)
        )
        return contact_types.Contact.of(row) if row else None

    @strawberry.field
    def lead_id(self) -> strawberry.ID | None:
        row = self._row
        return (
            None
            if row.lead_id is None
            else strawberry.ID(to_global_id("Lead", row.workspace_id, row.lead_id))
        )

    @classmethod
    def of(cls, row: task_models.Task) -> Task:
        return cls(
            id=node_id("Task", row),
            title=row.title,
            kind=row.kind,
            due_at=row.due_at,
            done=row.done_at is not None,
            done_at=row.done_at,
            created_at=row.created_at,
            _row=row,
        )


async def tasks_of(
    info: Info,
    row: Any,
    *,
    lead: bool,
    window: Window,
) -> Connection[Task]:
    service = info.context.services.tasks
    task_filter = (
        TaskFilter(lead_id=row.id, open_only=False)
        if lead
        else TaskFilter(contact_id=row.id, open_only=False)
    )
    page = await service.page(
        info.context.principal,
        row.workspace_id,
        task_filter,
        window=window,
    )
    return connection(
        page, Task.of, lambda: service.count(info.context.principal, row.workspace_id, task_filter)
    )


loads_visible("Task", Task.of, lambda s: s.tasks.visible_task)
