"""The set_lead_expected_close mutation."""

from __future__ import annotations

from embedcrm.graphql.analytics.inputs import SetLeadExpectedCloseInput, SetLeadExpectedClosePayload
from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import user_errors_in


@user_errors_in(SetLeadExpectedClosePayload)
async def resolve(info: Info, input: SetLeadExpectedCloseInput) -> SetLeadExpectedClosePayload:
    gid = parse_global_id(input.lead_id, expected="Lead", field="leadId")
    workspace = info.context.workspace_for(gid.workspace_id)
    return SetLeadExpectedClosePayload(
        lead_id=input.lead_id,
        expected_close_at=await info.context.services.analytics.set_expected_close(
            info.context.principal, workspace, gid.row_id, input.expected_close_at
        ),
    )
