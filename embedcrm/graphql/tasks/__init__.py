"""The GraphQL of tasks and the lists of them by due time."""
