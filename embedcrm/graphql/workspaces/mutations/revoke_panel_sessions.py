"""The revoke_panel_sessions mutation: every panel token a member holds stops working."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import user_errors_in
from embedcrm.graphql.workspaces.inputs import MemberInput, MemberPayload
from embedcrm.graphql.workspaces.types import Member


@user_errors_in(MemberPayload)
async def resolve(info: Info, input: MemberInput) -> MemberPayload:
    member = parse_global_id(input.member_id, expected="Member", field="memberId")
    row = await info.context.services.workspaces.revoke_panel_sessions(
        info.context.principal, member.workspace_id, member.row_id
    )
    return MemberPayload(member=Member.of(row))
