"""The bodies of the analytics query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

from datetime import date

import strawberry

from embedcrm.graphql.analytics.inputs import AnalyticsFilter, scope_of
from embedcrm.graphql.analytics.types import AdSpend, Analytics
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import workspace_arg


async def analytics(
    info: Info, filter: AnalyticsFilter, workspace_id: strawberry.ID | None = None
) -> Analytics:
    workspace = info.context.workspace_for(workspace_arg(workspace_id))
    return Analytics(_workspace_id=workspace, scope_of=scope_of(filter, workspace))


async def ad_spend(
    info: Info,
    from_day: date,
    to_day: date,
    workspace_id: strawberry.ID | None = None,
) -> list[AdSpend]:
    workspace = info.context.workspace_for(workspace_arg(workspace_id))
    rows = await info.context.services.analytics.list_spend(
        info.context.principal, workspace, from_day, to_day
    )
    return [AdSpend.of(row) for row in rows]
