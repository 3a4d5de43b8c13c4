"""The import_ad_spend mutation: spend entries from a CSV file."""

from __future__ import annotations

from embedcrm.graphql.analytics.inputs import ImportAdSpendInput, ImportAdSpendPayload
from embedcrm.graphql.analytics.types import AdSpend
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import user_errors_in, workspace_arg


@user_errors_in(ImportAdSpendPayload)
async def resolve(info: Info, input: ImportAdSpendInput) -> ImportAdSpendPayload:
    workspace = info.context.workspace_for(workspace_arg(input.workspace_id))
    return ImportAdSpendPayload(
        ad_spend=[
            AdSpend.of(r)
            for r in await info.context.services.analytics.import_spend_csv(
                info.context.principal, workspace, input.csv
            )
        ]
    )
