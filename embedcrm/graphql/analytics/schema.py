"""GraphQL for marketing analytics: reports the panel charts, ad spend, expected close dates.

``analytics(filter:)`` answers an object whose fields are the reports, so a panel asks for
exactly the charts it shows in one request, and each report runs only when asked for.
Money is a decimal string, ratios are fractions (0.25 = 25 %), durations are seconds.
"""

from __future__ import annotations

from typing import Any

import strawberry

from embedcrm.graphql.analytics import mutations, resolvers
from embedcrm.graphql.analytics.types import AdSpend
from embedcrm.graphql.permissions import OwnerOnly, WritersOnly


@strawberry.type
class AnalyticsQuery:
    analytics = strawberry.field(
        resolver=resolvers.analytics,
        description="Reports over a period; a panel token sees its workspace only.",
    )

    ad_spend = strawberry.field(
        resolver=resolvers.ad_spend,
        description="Spend entries overlapping the days, both included.",
    )


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
