"""The revoke_panel_token mutation: one panel token stops working before its expiry."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.support import user_errors_in
from embedcrm.graphql.workspaces.inputs import RevokePanelTokenInput, RevokePanelTokenPayload
from embedcrm.graphql.workspaces.types import load_member


@user_errors_in(RevokePanelTokenPayload)
async def resolve(info: Info, input: RevokePanelTokenInput) -> RevokePanelTokenPayload:
    session = await info.context.services.workspaces.revoke_panel_token(
        info.context.principal, input.token
    )
    if session is None:
        return RevokePanelTokenPayload(revoked=False)
    return RevokePanelTokenPayload(
        revoked=True, member=await load_member(info, session.workspace_id, session.member_id)
    )
