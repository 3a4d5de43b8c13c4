"""GraphQL inputs and payloads of the alerts to the shop."""

from __future__ import annotations

import strawberry

from embedcrm.alerts import models as alert_models
from embedcrm.graphql.alerts.types import AlertSettings, DigestMode
from embedcrm.graphql.core import UserError
from embedcrm.graphql.messages.types import MessageChannel


@strawberry.type
class AlertSettingsPayload:
    settings: AlertSettings | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateAlertSettingsInput:
    member_id: strawberry.ID | None = strawberry.field(
        default=None, description="An owner may set another member's; the caller's own if left out."
    )
    channels: list[MessageChannel]  # type: ignore[valid-type]
    phone: str | None = strawberry.field(default=None, description="Where SMS alerts go.")
    telegram_chat: str | None = strawberry.field(
        default=None, description="Where Telegram alerts go, as the host's gateway knows it."
    )
    quiet_from: str | None = strawberry.field(
        default=None, description="HH:MM in the workspace's timezone; 22:00 with quietTo 08:00."
    )
    quiet_to: str | None = None
    digest: DigestMode = alert_models.DigestMode.OFF  # type: ignore[valid-type]
