"""Helpers every part of the schema shares: payloads with userErrors, connections, ids."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any, ParamSpec, TypeVar

import strawberry

from embedcrm.errors import EmbedCRMError, RetryLater, ValidationFailed
from embedcrm.graphql.core import Connection, Edge, PageInfo, UserError
from embedcrm.graphql.ids import GlobalId, parse_global_id
from embedcrm.kit.repository import NOWHERE, Page

T = TypeVar("T")
P = ParamSpec("P")

DEFAULT_PAGE_SIZE = 50


def user_errors(exc: EmbedCRMError) -> list[UserError]:
    if exc.fields:
        return [UserError(field=f, message=m, code=exc.code) for f, m in exc.fields.items()]
    return [UserError(field=None, message=exc.message, code=exc.code)]


def user_errors_in(
    payload: Callable[..., T],
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """A mutation's resolver whose expected errors become ``userErrors`` of ``payload``:
    the resolver raises, as services do, and the client reads the error as data."""

    def wrap(resolve: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(resolve)
        async def resolver(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return await resolve(*args, **kwargs)
            except RetryLater:
                # Not the caller's mistake: it stays an error, so the request answers 503 (or
                # 429) with Retry-After.
                raise
            except EmbedCRMError as exc:
                return payload(user_errors=user_errors(exc))

        return resolver

    return wrap


def optional_id(value: strawberry.ID | None, expected: str, field: str) -> GlobalId | None:
    return None if value is None else parse_global_id(value, expected=expected, field=field)


def connection(
    page: Page[Any],
    convert: Callable[[Any], T],
    count: Callable[[], int | Awaitable[int]],
    count_up_to: Callable[[int], Awaitable[int]] | None = None,
) -> Connection[T]:
    return Connection(
        edges=[Edge(node=convert(row), _row=row, _page=page) for row in page.rows],
        page_info=page_info(page),
        _count=count,
        _count_up_to=count_up_to,
    )


def page_info(page: Page[Any]) -> PageInfo:
    """Relay's PageInfo. The direction read is exact (one row more was asked for); the other
    is true when the request came from a cursor, whose own row lies that way."""
    return PageInfo(
        has_previous_page=page.has_previous,
        has_next_page=page.has_next,
        start_cursor=page.start_cursor,
        end_cursor=page.end_cursor,
    )


def workspace_arg(value: strawberry.ID | None) -> uuid.UUID | None:
    parsed = optional_id(value, "Workspace", "workspaceId")
    return parsed.row_id if parsed else None


def scoped_id(
    raw: strawberry.ID | None, type_name: str, field: str, workspace_id: uuid.UUID
) -> uuid.UUID | None:
    if raw is None:
        return None
    parsed = parse_global_id(raw, expected=type_name, field=field)
    return parsed.row_id if parsed.workspace_id == workspace_id else NOWHERE


def required_id(
    raw: strawberry.ID, type_name: str, field: str, workspace_id: uuid.UUID
) -> uuid.UUID:
    found = scoped_id(raw, type_name, field, workspace_id)
    assert found is not None
    return found


UNSET: Any = strawberry.UNSET


def parse_id(raw: strawberry.ID, type_name: str, field: str = "id") -> GlobalId:
    return parse_global_id(raw, expected=type_name, field=field)


def given(**values: Any) -> dict[str, Any]:
    """Only the fields the client sent: an omitted field is left alone, a null one is cleared."""
    return {k: v for k, v in values.items() if v is not UNSET}


def parse_decimal(raw: str, field: str) -> Decimal:
    try:
        return Decimal(raw.replace(" ", "").replace(",", "."))
    except InvalidOperation as exc:
        raise ValidationFailed("Not a number.", field=field) from exc


def errors_payload(payload: type[T]) -> Callable[[list[UserError]], T]:
    return lambda errors: payload(user_errors=errors)  # type: ignore[call-arg]


def same_workspace(
    raw: list[strawberry.ID], type_name: str, field: str
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    if not raw:
        raise ValidationFailed("Name at least one.", field=field)
    gids = [parse_id(r, type_name, f"{field}[{i}]") for i, r in enumerate(raw)]
    workspace = gids[0].workspace_id
    return workspace, [g.row_id if g.workspace_id == workspace else NOWHERE for g in gids]
