"""The record_ad_spend mutation: spend on a campaign over days; spread evenly over them."""

from __future__ import annotations

from decimal import Decimal

from embedcrm.analytics import service as an
from embedcrm.graphql.analytics.inputs import RecordAdSpendInput, RecordAdSpendPayload
from embedcrm.graphql.analytics.types import AdSpend
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import user_errors_in, workspace_arg


@user_errors_in(RecordAdSpendPayload)
async def resolve(info: Info, input: RecordAdSpendInput) -> RecordAdSpendPayload:
    workspace = info.context.workspace_for(workspace_arg(input.workspace_id))
    try:
        amount = Decimal(input.amount)
    except ArithmeticError:
        amount = Decimal("NaN")
    new = an.NewSpend(
        source=input.source,
        campaign=input.campaign or "",
        starts_on=input.starts_on,
        ends_on=input.ends_on,
        amount=amount,
        currency=input.currency,
    )
    return RecordAdSpendPayload(
        ad_spend=AdSpend.of(
            await info.context.services.analytics.record_spend(
                info.context.principal, workspace, new
            )
        )
    )
