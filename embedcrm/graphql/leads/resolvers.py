"""The bodies of the leads query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

from collections.abc import Awaitable

import strawberry

from embedcrm.graphql.batching import selected_at, selected_under
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, CsvExport
from embedcrm.graphql.leads.inputs import LeadFilter, lead_spec
from embedcrm.graphql.leads.types import (
    Lead,
    LeadSort,
    load_relations_of,
    prime_page_relations,
)
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, connection, scoped_id, workspace_arg
from embedcrm.kit.repository import Window
from embedcrm.leads.models import PageRelations


async def leads(
    info: Info,
    first: int | None = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: LeadFilter | None = None,
    workspace_id: strawberry.ID | None = None,
    segment_id: strawberry.ID | None = None,
    sort: LeadSort = LeadSort.NEWEST,  # type: ignore[valid-type]
) -> Connection[Lead]:
    workspace = info.context.workspace_for(workspace_arg(workspace_id))
    spec = lead_spec(filter, workspace)
    segment = scoped_id(segment_id, "Segment", "segmentId", workspace)
    lists, principal = info.context.services.lists, info.context.principal
    asked = selected_at(info.selected_fields, "edges", "node")
    names = {field.name for field in asked}
    relations = PageRelations(
        contact="contact" in names, stage="stage" in names, assignee="assignee" in names
    )
    page, total = await lists.leads_page_and_total(
        principal,
        workspace,
        spec,
        segment_id=segment,
        window=Window(first, after, last, before),
        sort=sort,
        relations=relations,
        total="totalCount" in selected_under(info.selected_fields),
    )
    prime_page_relations(info, page.rows, relations)
    await load_relations_of(info, page.rows, asked, primed=relations)

    def count() -> int | Awaitable[int]:
        if total is not None:
            return total
        return lists.count_leads(principal, workspace, spec, segment_id=segment)

    return connection(
        page,
        Lead.of,
        count,
        lambda limit: lists.count_leads(
            principal, workspace, spec, segment_id=segment, up_to=limit
        ),
    )


async def leads_csv(
    info: Info,
    filter: LeadFilter | None = None,
    segment_id: strawberry.ID | None = None,
    workspace_id: strawberry.ID | None = None,
) -> CsvExport:
    workspace = info.context.workspace_for(workspace_arg(workspace_id))
    segment = scoped_id(segment_id, "Segment", "segmentId", workspace)
    text, rows = await info.context.services.lists.export_csv(
        info.context.principal, workspace, lead_spec(filter, workspace), segment_id=segment
    )
    return CsvExport(csv=text, row_count=rows)
