"""Helpers every part of the schema shares: payloads with userErrors, connections, ids."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from embedcrm.errors import EmbedCRMError, RetryLater
from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import GlobalId, parse_global_id
from embedcrm.graphql.types import Connection, Edge, PageInfo, Site, UserError
from embedcrm.kit.repository import Page, encode_cursor

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_PAGE_SIZE = 50


def user_errors(exc: EmbedCRMError) -> list[UserError]:
    if exc.fields:
        return [UserError(field=f, message=m, code=exc.code) for f, m in exc.fields.items()]
    return [UserError(field=None, message=exc.message, code=exc.code)]


def optional_id(value: strawberry.ID | None, expected: str, field: str) -> GlobalId | None:
    return None if value is None else parse_global_id(value, expected=expected, field=field)


def connection(
    page: Page[Any], convert: Callable[[Any], T], count: Callable[[], Awaitable[int]]
) -> Connection[T]:
    return Connection(
        edges=[Edge(cursor=encode_cursor(row), node=convert(row)) for row in page.rows],
        page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        _count=count,
    )


def site_type(info: Info, row: Any) -> Site:
    widget = info.context.services.widget
    return Site.of(
        row,
        widget_src=f"{info.context.settings.public_url}/widget/{widget.version}.js",
        widget_integrity=widget.integrity,
    )


async def as_payload(
    call: Callable[[], Awaitable[R]], build: Callable[[R], T], empty: Callable[[list[UserError]], T]
) -> T:
    """Run one service call; an expected error becomes ``userErrors`` instead of an exception.

    "Retry later" is not the caller's mistake: it stays an error, so that the request answers
    503 (or 429) with Retry-After.
    """
    try:
        result = await call()
    except RetryLater:
        raise
    except EmbedCRMError as exc:
        return empty(user_errors(exc))
    return build(result)


def workspace_arg(value: strawberry.ID | None) -> uuid.UUID | None:
    parsed = optional_id(value, "Workspace", "workspaceId")
    return parsed.row_id if parsed else None
