"""GraphQL types of the alerts to the shop."""

from __future__ import annotations

import uuid

import strawberry

from embedcrm.alerts import models as alert_models
from embedcrm.graphql.ids import to_global_id
from embedcrm.graphql.messages.types import MessageChannel
from embedcrm.messages.models import MessageChannel as Channel
from embedcrm.messages.quiet import format_time_of_day

DigestMode = strawberry.enum(
    alert_models.DigestMode,
    name="DigestMode",
    description="OFF: each alert at once; HOURLY or DAILY: gathered into one message.",
)


@strawberry.type
class AlertSettings:
    member_id: strawberry.ID
    channels: list[MessageChannel]  # type: ignore[valid-type]
    phone: str | None
    telegram_chat: str | None
    quiet_from: str | None = strawberry.field(
        description="Start of the quiet hours, HH:MM in the workspace's timezone."
    )
    quiet_to: str | None
    digest: DigestMode  # type: ignore[valid-type]

    @classmethod
    def of(
        cls, workspace_id: uuid.UUID, member_id: uuid.UUID, row: alert_models.AlertSettings | None
    ) -> AlertSettings:
        member = strawberry.ID(to_global_id("Member", workspace_id, member_id))
        if row is None:
            # What a member who chose nothing gets.
            return cls(
                member_id=member,
                channels=[Channel.EMAIL],
                phone=None,
                telegram_chat=None,
                quiet_from=None,
                quiet_to=None,
                digest=alert_models.DigestMode.OFF,
            )
        return cls(
            member_id=member,
            channels=[Channel(name) for name in row.channels],
            phone=row.phone,
            telegram_chat=row.telegram_chat,
            quiet_from=format_time_of_day(row.quiet_start),
            quiet_to=format_time_of_day(row.quiet_end),
            digest=row.digest,
        )
