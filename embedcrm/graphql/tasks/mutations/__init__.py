"""The mutations of tasks, one module each."""

from embedcrm.graphql.tasks.mutations import create_task, delete_task, update_task

__all__ = [
    "create_task",
    "delete_task",
    "update_task",
]
