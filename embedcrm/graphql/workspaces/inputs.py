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
        description="ru or en: the language of the names the service writes (the default "
        "pipeline and its stages, titles of pushed leads, report labels); ru if omitted.",
    )
    locale: str | None = strawberry.field(
        default=None,
        description="The customer's BCP 47 locale (en-US, ru-RU); sets `language` when that is "
        "left out: its own language if it is ru or en, otherwise en.",
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
    external_id: str | None = strawberry.field(
        default=None,
        description="The host's own id of the site, unique in the workspace: calling again "
        "with it answers the same site.",
    )


@strawberry.type
class CreateSitePayload:
    site: Site | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateSiteInput:
    site_id: strawberry.ID
    name: str | None = None
    domains: list[str] | None = strawberry.field(
        default=None, description="The whole new list; the old one is replaced."
    )
    language: str | None = None
    phone_region: str | None = None


@strawberry.type
class UpdateSitePayload:
    site: Site | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class DeleteSiteInput:
    site_id: strawberry.ID


@strawberry.type
class DeleteSitePayload:
    deleted_site_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class WorkingHoursInput:
    weekday: int = strawberry.field(description="ISO weekday: 1 is Monday, 7 is Sunday.")
    opens: str = strawberry.field(description="HH:MM, such as 09:00.")
    closes: str = strawberry.field(description="HH:MM, after opens.")


@strawberry.input
class UpdateWorkspaceInput:
    workspace_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required with a platform key; a panel token's own otherwise."
    )
    name: str | None = None
    timezone: str | None = strawberry.field(
        default=None, description="An IANA time zone such as Europe/Berlin."
    )
    currency: str | None = None
    locale: str | None = strawberry.field(
        default=None,
        description="BCP 47 (en-US); sets `language` for the names written from now on.",
    )
    working_hours: list[WorkingHoursInput] | None = strawberry.field(
        default=None, description="The whole week; days left out are days off."
    )
    first_response_minutes: int | None = None


@strawberry.type
class UpdateWorkspacePayload:
    workspace: Workspace | None = None
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


@strawberry.input
class ChangeMemberRoleInput:
    member_id: strawberry.ID
    role: Role  # type: ignore[valid-type]


@strawberry.input
class RevokePanelTokenInput:
    token: str = strawberry.field(
        description="The panel token to stop, as issuePanelToken gave it."
    )


@strawberry.type
class RevokePanelTokenPayload:
    revoked: bool = strawberry.field(
        default=False,
        description="True once the token is revoked; false for a token that had expired already.",
    )
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def set_member_active(info: Info, input: MemberInput, *, active: bool) -> MemberPayload:
    gid = parse_global_id(input.member_id, expected="Member", field="memberId")
    member = await info.context.services.workspaces.set_member_active(
        info.context.principal, gid.workspace_id, gid.row_id, active
    )
    return MemberPayload(member=Member.of(member))
