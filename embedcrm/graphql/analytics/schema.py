"""GraphQL for marketing analytics: reports the panel charts, ad spend, expected close dates.

``analytics(filter:)`` answers an object whose fields are the reports, so a panel asks for
exactly the charts it shows in one request, and each report runs only when asked for.
Money is a decimal string, ratios are fractions (0.25 = 25 %), durations are seconds.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from embedcrm.graphql.analytics import mutations
from embedcrm.graphql.analytics.inputs import AnalyticsFilter, scope_of
from embedcrm.graphql.analytics.types import AdSpend, Analytics
from embedcrm.graphql.context import Info
from embedcrm.graphql.permissions import OwnerOnly, WritersOnly
from embedcrm.graphql.support import workspace_arg


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(description="Reports over a period; a panel token sees its workspace only.")
    async def analytics(
        self, info: Info, filter: AnalyticsFilter, workspace_id: strawberry.ID | None = None
    ) -> Analytics:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        return Analytics(_workspace_id=workspace, scope_of=scope_of(filter, workspace))

    @strawberry.field(description="Spend entries overlapping the days, both included.")
    async def ad_spend(
        self,
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


@strawberry.type
class AnalyticsMutation:
    record_ad_spend = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.record_ad_spend.resolve,
        description="Spend on a campaign over days; spread evenly over them.",
    )

    import_ad_spend = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.import_ad_spend.resolve,
        description="Spend entries from a CSV file.",
    )

    delete_ad_spend = strawberry.mutation(
        permission_classes=[OwnerOnly], resolver=mutations.delete_ad_spend.resolve
    )

    set_lead_expected_close = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.set_lead_expected_close.resolve,
        description="When the lead is expected to close: places it in the forecast.",
    )


TYPES: list[Any] = [AdSpend]
