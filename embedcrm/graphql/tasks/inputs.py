"""GraphQL inputs and payloads of tasks and the lists of them by due time."""

from __future__ import annotations

from datetime import datetime

import strawberry

from embedcrm.graphql.core import UserError
from embedcrm.graphql.support import UNSET
from embedcrm.graphql.tasks.types import Task, TaskKind
from embedcrm.tasks import models as task_models


@strawberry.type
class TaskPayload:
    task: Task | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateTaskInput:
    title: str
    due_at: datetime
    kind: TaskKind = task_models.TaskKind.TODO  # type: ignore[valid-type]
    assignee_id: strawberry.ID | None = None
    lead_id: strawberry.ID | None = None
    contact_id: strawberry.ID | None = None
    workspace_id: strawberry.ID | None = None


@strawberry.input
class UpdateTaskInput:
    id: strawberry.ID
    title: str | None = UNSET
    due_at: datetime | None = UNSET
    assignee_id: strawberry.ID | None = UNSET
    done: bool | None = UNSET


@strawberry.input
class TaskFilter:
    mine: bool = strawberry.field(default=False, description="Assigned to the caller.")
    assignee_id: strawberry.ID | None = None
    overdue: bool = False
    include_done: bool = False
