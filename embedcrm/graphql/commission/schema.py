"""GraphQL queries and mutations of commission and the staff's workload."""

from __future__ import annotations

from datetime import datetime

import strawberry

from embedcrm.graphql.commission import mutations
from embedcrm.graphql.commission.types import (
    CommissionAccrual,
    CommissionRule,
    MemberWorkload,
    member_gid,
)
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import CsvExport
from embedcrm.graphql.permissions import OwnerOnly
from embedcrm.graphql.support import scoped_id, workspace_arg


@strawberry.type
class CommissionQuery:
    @strawberry.field(description="Commission rules; a manager sees their own only.")
    async def commission_rules(
        self,
        info: Info,
        member_id: strawberry.ID | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> list[CommissionRule]:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        member = scoped_id(member_id, "Member", "memberId", workspace)
        rows = await ctx.services.commission.rules(ctx.principal, workspace, member)
        return [CommissionRule.of(row) for row in rows]

    @strawberry.field(
        description="Commission accrued on the payments received in [starts, ends), per "
        "manager; a manager sees their own only."
    )
    async def accrued_commission(
        self,
        info: Info,
        starts: datetime,
        ends: datetime,
        member_id: strawberry.ID | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> list[CommissionAccrual]:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        member = scoped_id(member_id, "Member", "memberId", workspace)
        rows = await ctx.services.commission.accrued(ctx.principal, workspace, starts, ends, member)
        out = []
        for row in rows:
            gid = member_gid(workspace, row.member_id)
            assert gid is not None
            out.append(
                CommissionAccrual(
                    member_id=gid,
                    name=row.name,
                    payments=row.payments,
                    paid=str(row.paid),
                    margin=str(row.margin),
                    commission=str(row.commission),
                )
            )
        return out

    @strawberry.field(description="The accrued commission as CSV.")
    async def accrued_commission_csv(
        self,
        info: Info,
        starts: datetime,
        ends: datetime,
        workspace_id: strawberry.ID | None = None,
    ) -> CsvExport:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        text, rows = await ctx.services.commission.accrued_csv(
            ctx.principal, workspace, starts, ends
        )
        return CsvExport(csv=text, row_count=rows)

    @strawberry.field(description="Open leads, open and overdue tasks per member, busiest first.")
    async def workload(
        self, info: Info, workspace_id: strawberry.ID | None = None
    ) -> list[MemberWorkload]:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        rows = await ctx.services.commission.workload(ctx.principal, workspace)
        return [
            MemberWorkload(
                member_id=member_gid(workspace, row.member_id),
                name=row.name,
                open_leads=row.open_leads,
                open_tasks=row.open_tasks,
                overdue_tasks=row.overdue_tasks,
            )
            for row in rows
        ]


@strawberry.type
class CommissionMutation:
    set_commission_rules = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.set_commission_rules.resolve,
        description="Replace a manager's commission rules (owner only).",
    )
