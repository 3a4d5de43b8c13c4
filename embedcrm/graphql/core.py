"""The types every part of the schema shares: nodes, user errors, connections, deletions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar, cast

import strawberry

from embedcrm.graphql.ids import to_global_id
from embedcrm.kit.repository import count_limit

DEFAULT_COUNT_LIMIT = 10_000


@strawberry.interface(description="An object with a global id.")
class Node:
    id: strawberry.ID


@strawberry.type
class UserError:
    """A business error: the input was understood but cannot be applied."""

    field: str | None
    message: str
    code: str


@strawberry.type(
    description="Where a page lies (Relay): pass `endCursor` as `after` with `first` for the "
    "next page, `startCursor` as `before` with `last` for the previous one."
)
class PageInfo:
    has_previous_page: bool
    has_next_page: bool
    start_cursor: str | None
    end_cursor: str | None


NodeT = TypeVar("NodeT")


def edge_cursor(root: Any) -> str:
    """An edge's cursor, made when asked for: most lists read only their page's end cursor."""
    return cast(str, root._page.cursor(root._row))


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(resolver=edge_cursor)
    node: NodeT
    _row: strawberry.Private[Any]
    _page: strawberry.Private[Any]


@strawberry.type(
    description="A count that stopped at a limit: exact when `reachedLimit` is false; when it "
    "is true there are at least `count` (the limit) items, perhaps many more."
)
class BoundedCount:
    count: int
    reached_limit: bool


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    _count: strawberry.Private[Any]
    # Counts no further than its argument; lists without one clamp their exact count.
    _count_up_to: strawberry.Private[Callable[[int], Awaitable[int]] | None] = None

    # The count comes at once when a list loaded it ahead (a contact's leads on the contact
    # list), else from its statement; graphql-core awaits what is awaitable.
    @strawberry.field(description="The number of items matching the filter, over all pages.")
    def total_count(self) -> int:
        value = self._count()
        if isinstance(value, int):
            return value

        async def later() -> int:
            return int(await value)

        return cast(int, later())

    @strawberry.field(
        description="The number of items matching the filter, counted no further than `limit` "
        "(1 to 100000): the leads and contacts lists stop reading at the limit, so this stays "
        "cheap where `totalCount` would read every match. A client shows `count` with a plus "
        "when `reachedLimit` is true."
    )
    async def total_count_up_to(self, limit: int = DEFAULT_COUNT_LIMIT) -> BoundedCount:
        limit = count_limit(limit)
        if self._count_up_to is not None:
            counted = await self._count_up_to(limit)
        else:
            value = self._count()
            counted = min(value if isinstance(value, int) else int(await value), limit)
        return BoundedCount(count=counted, reached_limit=counted >= limit)


def node_id(type_name: str, row: Any) -> strawberry.ID:
    return strawberry.ID(to_global_id(type_name, row.workspace_id, row.id))


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CsvExport:
    csv: str
    row_count: int


@strawberry.input
class DeleteInput:
    id: strawberry.ID
