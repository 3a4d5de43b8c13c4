"""The change_member_role mutation (the platform or an OWNER); live tokens follow the new role."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import user_errors_in
from embedcrm.graphql.workspaces.inputs import ChangeMemberRoleInput, MemberPayload
from embedcrm.graphql.workspaces.types import Member


@user_errors_in(MemberPayload)
async def resolve(info: Info, input: ChangeMemberRoleInput) -> MemberPayload:
    member = parse_global_id(input.member_id, expected="Member", field="memberId")
    row = await info.context.services.workspaces.change_member_role(
        info.context.principal, member.workspace_id, member.row_id, input.role
    )
    return MemberPayload(member=Member.of(row))
