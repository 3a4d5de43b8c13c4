"""The bodies of the alerts query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

import uuid

import strawberry

from embedcrm.auth import PanelUser
from embedcrm.errors import ValidationFailed
from embedcrm.graphql.alerts.types import AlertSettings
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import parse_id


def member_of(info: Info, member_id: strawberry.ID | None) -> tuple[uuid.UUID, uuid.UUID]:
    """The workspace and member meant: the one named, or the calling panel member."""
    if member_id is not None:
        parsed = parse_id(member_id, "Member", "memberId")
        return parsed.workspace_id, parsed.row_id
    principal = info.context.principal
    if not isinstance(principal, PanelUser):
        raise ValidationFailed("memberId is required with a platform key.", field="memberId")
    return principal.workspace_id, principal.member_id


async def alert_settings(info: Info, member_id: strawberry.ID | None = None) -> AlertSettings:
    workspace, member = member_of(info, member_id)
    _, row = await info.context.services.alerts.settings(info.context.principal, workspace, member)
    return AlertSettings.of(workspace, member, row)
