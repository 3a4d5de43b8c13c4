"""The deactivate_member mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.support import user_errors_in
from embedcrm.graphql.workspaces.inputs import MemberInput, MemberPayload, set_member_active


@user_errors_in(MemberPayload)
async def resolve(info: Info, input: MemberInput) -> MemberPayload:
    return await set_member_active(info, input, active=False)
