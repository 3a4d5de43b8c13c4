"""GraphQL queries and mutations of tasks and the lists of them by due time."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.permissions import WritersOnly
from embedcrm.graphql.tasks import mutations, resolvers


@strawberry.type
class TaskQuery:
    tasks = strawberry.field(
        resolver=resolvers.tasks,
        description="Tasks by due time: mine, a member's, or the overdue ones.",
    )


@strawberry.type
class TaskMutation:
    create_task = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.create_task.resolve,
        description="A task or reminder; assigned to the caller unless told.",
    )

    update_task = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.update_task.resolve,
        description="Change a task, or mark it done (done: true) or open again.",
    )

    delete_task = strawberry.mutation(
        permission_classes=[WritersOnly], resolver=mutations.delete_task.resolve
    )
