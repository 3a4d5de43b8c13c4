"""The delete_ad_spend mutation."""

from __future__ import annotations

from embedcrm.graphql.analytics.inputs import DeleteAdSpendInput, DeleteAdSpendPayload
from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import user_errors_in


@user_errors_in(DeleteAdSpendPayload)
async def resolve(info: Info, input: DeleteAdSpendInput) -> DeleteAdSpendPayload:
    gid = parse_global_id(input.id, expected="AdSpend")
    workspace = info.context.workspace_for(gid.workspace_id)
    await info.context.services.analytics.delete_spend(
        info.context.principal, workspace, gid.row_id
    )
    return DeleteAdSpendPayload(deleted_id=input.id)
