"""The bodies of the fields query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection
from embedcrm.graphql.fields.types import CustomField, Segment, Tag
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, connection, workspace_arg
from embedcrm.kit.repository import Window


async def custom_fields(info: Info, workspace_id: strawberry.ID | None = None) -> list[CustomField]:
    workspace = info.context.workspace_for(workspace_arg(workspace_id))
    rows = await info.context.services.fields.list(info.context.principal, workspace)
    return [CustomField.of(r) for r in rows]


async def tags(info: Info, workspace_id: strawberry.ID | None = None) -> list[Tag]:
    workspace = info.context.workspace_for(workspace_arg(workspace_id))
    rows = await info.context.services.tags.tags(info.context.principal, workspace)
    return [Tag.of(r) for r in rows]


async def segments(
    info: Info,
    first: int | None = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    workspace_id: strawberry.ID | None = None,
) -> Connection[Segment]:
    workspace = info.context.workspace_for(workspace_arg(workspace_id))
    service = info.context.services.segments
    page = await service.page(
        info.context.principal, workspace, window=Window(first, after, last, before)
    )
    return connection(
        page, Segment.of, lambda: service.count_all(info.context.principal, workspace)
    )
