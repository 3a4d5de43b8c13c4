"""The bodies of the pipelines query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.pipelines.types import Pipeline, pipeline_type
from embedcrm.graphql.support import workspace_arg


async def pipelines(info: Info, workspace_id: strawberry.ID | None = None) -> list[Pipeline]:
    workspace = info.context.workspace_for(workspace_arg(workspace_id))
    rows = await info.context.services.pipelines.pipelines(workspace)
    return [pipeline_type(p, stages) for p, stages in rows]
