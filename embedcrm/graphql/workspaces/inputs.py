"""GraphQL inputs and payloads of workspaces, their sites and members, panel tokens and CRM settings."""

from __future__ import annotations

from datetime import datetime

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import UserError
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.workspaces.types import Member, Role, Site, Workspace


@strawberry.input
class CreateWorkspaceInput:
    name: str
    external_id: str | None = strawberry.field(
        default=None,
        description="The host's own id: calling again with it answers the same workspace.",
    )
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217 code of values given without one; RUB if omitted."
    )
    language: str | None = strawberry.field(
        default=None,
        description="ru or en: the language of the names the service writes (titles of pushed "
        "leads, report labels); ru if omitted.",
    )


@strawberry.type
class CreateWorkspacePayload:
    workspace: Workspace | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateSiteInput:
    workspace_id: strawberry.ID
    name: str
    domains: list[str]
    language: str = "ru"
    phone_region: str = strawberry.field(
        default="RU", description="Country whose local phone format visitors use."
    )


@strawberry.type
class CreateSitePayload:
    site: Site | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class PanelMemberInput:
    external_id: str
    name: str = ""
    email: str | None = None


@strawberry.input
class IssuePanelTokenInput:
    workspace_id: strawberry.ID
    member: PanelMemberInput
    role: Role  # type: ignore[valid-type]
    ttl_seconds: int = 900
    components: list[str] | None = strawberry.field(
        default=None,
        description=(
            "Narrow the token to these panel components: inbox, board, lead, tasks, contacts, "
            "reports, settings. Left out, the token reaches all the API its role allows."
        ),
    )


@strawberry.type
class IssuePanelTokenPayload:
    token: str | None = None
    expires_at: datetime | None = None
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CrmSettingsPayload:
    managers_can_edit_all: bool | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateCrmSettingsInput:
    managers_can_edit_all: bool
    workspace_id: strawberry.ID | None = None


@strawberry.input
class MemberInput:
    member_id: strawberry.ID


@strawberry.type
class MemberPayload:
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def set_member_active(info: Info, input: MemberInput, *, active: bool) -> MemberPayload:
    gid = parse_global_id(input.member_id, expected="Member", field="memberId")
    member = await info.context.services.workspaces.set_member_active(
        info.context.principal, gid.workspace_id, gid.row_id, active
    )
    return MemberPayload(member=Member.of(member))
