"""What the owner's panel reads beyond the CRM's lists: the workspace's members, its own script
tag, and the board's counts and sums per stage."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id, to_global_id
from embedcrm.graphql.support import workspace_arg
from embedcrm.graphql.workspaces.types import Member
from embedcrm.panel import board_totals


@strawberry.type(description="A sum of lead values in one currency, as a decimal string.")
class MoneySum:
    currency: str | None
    amount: str


@strawberry.type(description="How many leads stand at a stage and what their values add up to.")
class StageTotal:
    stage_id: strawberry.ID
    count: int
    sums: list[MoneySum]


@strawberry.type(description="A script tag's src and integrity, for the host's admin page.")
class PanelScript:
    src: str
    integrity: str


@strawberry.type
class PanelQuery:
    @strawberry.field(
        description="The owner's panel script to embed: its versioned URL and SRI hash."
    )
    def panel_script(self, info: Info) -> PanelScript:
        services = info.context.services
        return PanelScript(
            src=f"{services.settings.public_url}/panel/{services.panel.version}.js",
            integrity=services.panel.integrity,
        )

    @strawberry.field(
        description="The workspace's members by name, with their role: the active ones, or "
        "all with includeInactive."
    )
    async def members(
        self,
        info: Info,
        workspace_id: strawberry.ID | None = None,
        include_inactive: bool = False,
    ) -> list[Member]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        rows = await info.context.services.workspaces.list_members(
            workspace, include_inactive=include_inactive
        )
        return [Member.of(row) for row in rows]

    @strawberry.field(description="Leads and their value per stage of a pipeline (the board).")
    async def board_totals(self, info: Info, pipeline_id: strawberry.ID) -> list[StageTotal]:
        pipeline = parse_global_id(pipeline_id, expected="Pipeline", field="pipelineId")
        workspace = info.context.workspace_for(pipeline.workspace_id)
        rows = await board_totals(
            info.context.services.db, info.context.principal, workspace, pipeline.row_id
        )
        return [
            StageTotal(
                stage_id=strawberry.ID(to_global_id("Stage", workspace, row.stage_id)),
                count=row.count,
                sums=[MoneySum(currency=c, amount=str(a)) for c, a in row.sums],
            )
            for row in rows
        ]
