"""GraphQL types of workspaces, their sites and members, panel tokens and CRM settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Node
from embedcrm.graphql.ids import GlobalId, to_global_id
from embedcrm.graphql.nodes import loads, loads_row
from embedcrm.workspaces import models as ws

Role = strawberry.enum(ws.Role, name="Role")


@strawberry.type(description="When the team works on one ISO weekday (1 is Monday).")
class WorkingHours:
    weekday: int
    opens: str = strawberry.field(description="HH:MM in the workspace's timezone.")
    closes: str = strawberry.field(description="HH:MM in the workspace's timezone.")


@strawberry.type
class Workspace(Node):
    name: str
    external_id: str | None
    timezone: str = strawberry.field(description="IANA time zone, such as Europe/Berlin.")
    currency: str = strawberry.field(description="ISO 4217 code of values given without one.")
    language: str = strawberry.field(description="ru or en: of the names the service writes.")
    locale: str | None = strawberry.field(
        description="The customer's BCP 47 locale as the host gave it; it sets `language`."
    )
    working_hours: list[WorkingHours] = strawberry.field(
        description="When the team works; empty until the host sets it."
    )
    first_response_minutes: int = strawberry.field(
        description="Minutes to answer a new lead before its first-response task is overdue."
    )
    created_at: datetime

    @classmethod
    def of(cls, row: ws.Workspace) -> Workspace:
        return cls(
            id=strawberry.ID(to_global_id("Workspace", row.id, row.id)),
            name=row.name,
            external_id=row.external_id,
            timezone=row.timezone,
            currency=row.currency,
            language=row.language,
            locale=row.locale,
            working_hours=[WorkingHours(**day) for day in row.working_hours or ()],
            first_response_minutes=row.first_response_minutes,
            created_at=row.created_at,
        )


@strawberry.type
class Site(Node):
    name: str
    external_id: str | None = strawberry.field(
        description="The host's own id of the site: createSite with it answers this site."
    )
    public_key: str
    domains: list[str]
    language: str
    phone_region: str
    created_at: datetime
    _widget_src: strawberry.Private[str]
    _widget_integrity: strawberry.Private[str]

    @strawberry.field(
        description="The one line the host puts into every page of this site. It names the "
        "widget's versioned path, whose bytes never change, so its SRI hash always holds."
    )
    def embed_snippet(self) -> str:
        return (
            f'<script src="{self._widget_src}" data-site="{self.public_key}" '
            f'integrity="{self._widget_integrity}" crossorigin="anonymous" async></script>'
        )

    @classmethod
    def of(cls, row: ws.Site, *, widget_src: str, widget_integrity: str) -> Site:
        return cls(
            id=strawberry.ID(to_global_id("Site", row.workspace_id, row.id)),
            name=row.name,
            external_id=row.external_id,
            public_key=row.public_key,
            domains=list(row.domains),
            language=row.language,
            phone_region=row.phone_region,
            created_at=row.created_at,
            _widget_src=widget_src,
            _widget_integrity=widget_integrity,
        )


@strawberry.type
class Member(Node):
    external_id: str
    name: str
    email: str | None
    role: Role  # type: ignore[valid-type]
    active: bool = strawberry.field(
        description="False once deactivated: their tokens stop working, nothing new is "
        "assigned to them, and what they did stays."
    )

    @classmethod
    def of(cls, row: ws.Member | ws.MemberRecord) -> Member:
        return cls(
            id=strawberry.ID(to_global_id("Member", row.workspace_id, row.id)),
            external_id=row.external_id,
            name=row.name,
            email=row.email,
            role=row.role,
            active=row.active,
        )


def site_type(info: Info, row: Any) -> Site:
    widget = info.context.services.widget
    return Site.of(
        row,
        widget_src=f"{info.context.settings.public_url}/widget/{widget.version}.js",
        widget_integrity=widget.integrity,
    )


async def load_member(info: Info, workspace_id: Any, member_id: Any) -> Member | None:
    if member_id is None:
        return None
    row = await info.context.loaders.members.load((workspace_id, member_id))
    return Member.of(row) if row else None


@loads_row("Member", Member.of)
async def _member(info: Info, gid: GlobalId) -> ws.Member | None:
    return await info.context.loaders.members.load((gid.workspace_id, gid.row_id))


@loads("Site")
async def _site(info: Info, gid: GlobalId) -> Site | None:
    site = await info.context.services.workspaces.site_by_id(gid.workspace_id, gid.row_id)
    return site_type(info, site) if site else None


@loads_row("Workspace", Workspace.of)
async def _workspace(info: Info, gid: GlobalId) -> ws.Workspace | None:
    # A workspace's id names it twice; any other row id names nothing.
    if gid.row_id != gid.workspace_id:
        return None
    return await info.context.services.workspaces.get_workspace(
        info.context.principal, gid.workspace_id
    )
