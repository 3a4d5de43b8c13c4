"""Alerts to the shop: a new lead, a lead unanswered past the first-response time and an overdue
task tell the assigned member, or the owners when nobody is assigned.

``scan`` reads those events from the outbox feed, in feed order, and makes one alert per event
and member (a unique key, so several workers reading the same events make it once). ``flush``
sends each member's due alerts as one message per channel of theirs. Both are the worker's jobs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.alerts.models import Alert, AlertKind, AlertSettings, DigestMode
from embedcrm.alerts.repository import AlertSettingsRepository, AlertStore
from embedcrm.alerts.schedule import Rhythm, deliver_at
from embedcrm.auth import Principal
from embedcrm.contacts.service import normalise_phone
from embedcrm.db import Database, new_id, utcnow
from embedcrm.errors import Forbidden, ValidationFailed
from embedcrm.ids import row_id_in_event
from embedcrm.messages.models import MessageChannel
from embedcrm.messages.quiet import QuietHours, quiet_window
from embedcrm.messages.service import Outgoing, queue_message
from embedcrm.webhooks.jobs import Clock
from embedcrm.webhooks.outbox import FeedEvent, FeedReader
from embedcrm.workspaces.access import get_member, load_actor
from embedcrm.workspaces.models import Member

LABELS = {
    "ru": {
        AlertKind.NEW_LEAD: "Новая заявка",
        AlertKind.UNANSWERED_LEAD: "Заявка ждёт ответа",
        AlertKind.OVERDUE_TASK: "Задача просрочена",
        "digest": "Уведомления CRM",
    },
    "en": {
        AlertKind.NEW_LEAD: "New lead",
        AlertKind.UNANSWERED_LEAD: "A lead awaits an answer",
        AlertKind.OVERDUE_TASK: "Overdue task",
        "digest": "CRM alerts",
    },
}


@dataclass(frozen=True)
class Subject:
    """What one event is about and who it concerns."""

    kind: AlertKind
    key: str
    title: str
    assignee_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    task_id: uuid.UUID | None


def subject_of(event: FeedEvent) -> Subject | None:
    data = event.payload.get("data", {})
    if event.type == "lead.created":
        lead = data.get("lead", {})
        lead_id = row_id_in_event(lead.get("id"))
        return Subject(
            kind=AlertKind.NEW_LEAD,
            key=f"lead.created:{lead_id}",
            title=str(lead.get("title") or ""),
            assignee_id=row_id_in_event(lead.get("assignee_id")),
            lead_id=lead_id,
            task_id=None,
        )
    if event.type == "task.overdue":
        task = data.get("task", {})
        task_id = row_id_in_event(task.get("id"))
        first_response = task.get("kind") == "FIRST_RESPONSE"
        return Subject(
            kind=AlertKind.UNANSWERED_LEAD if first_response else AlertKind.OVERDUE_TASK,
            key=f"task.overdue:{task_id}",
            title=str(task.get("title") or ""),
            assignee_id=row_id_in_event(task.get("assignee_id")),
            lead_id=row_id_in_event(task.get("lead_id")),
            task_id=task_id,
        )
    return None


def rhythm_of(settings: AlertSettings | None) -> Rhythm:
    if settings is None:
        return Rhythm()
    return Rhythm(
        digest=settings.digest, quiet=QuietHours(settings.quiet_start, settings.quiet_end)
    )


def channels_of(settings: AlertSettings | None) -> list[MessageChannel]:
    if settings is None:
        return [MessageChannel.EMAIL]
    return [MessageChannel(name) for name in settings.channels]


def recipient_for(
    channel: MessageChannel, member: Member, settings: AlertSettings | None
) -> str | None:
    if channel is MessageChannel.EMAIL:
        return member.email
    if settings is None:
        return None
    return settings.phone if channel is MessageChannel.SMS else settings.telegram_chat


def compose(alerts: list[Alert], language: str) -> tuple[str, str]:
    """The subject and body of one message carrying ``alerts``."""
    labels = LABELS.get(language, LABELS["ru"])
    lines = [f"{labels[alert.kind]}: {alert.title}".rstrip(": ") for alert in alerts]
    if len(alerts) == 1:
        return lines[0][:300], lines[0]
    return f"{labels['digest']}: {len(alerts)}", "\n".join(f"• {line}" for line in lines)


async def require_settings_access(
    session: AsyncSession, principal: Principal, workspace_id: uuid.UUID, member_id: uuid.UUID
) -> None:
    """An owner (or the host) reaches every member's settings, a member only their own."""
    actor = await load_actor(session, principal, workspace_id, field="memberId")
    await get_member(session, workspace_id, member_id, "memberId")
    if not actor.is_owner and actor.member_id != member_id:
        raise Forbidden("A member sees and changes only their own alerts.")


class AlertService:
    def __init__(self, db: Database, *, email_built_in: bool, clock: Clock = utcnow) -> None:
        self.db = db
        self.email_built_in = email_built_in
        self.clock = clock
        # A restart reads the last hour again; the unique key keeps what was made then from
        # being made twice.
        self.feed = FeedReader(("lead.created", "task.overdue"))

    async def scan(self, *, limit: int = 500) -> int:
        """Make the alerts of the new events; answers how many events were read."""
        now = self.clock()
        async with self.db.transaction() as session:
            store = AlertStore(session)
            events = await self.feed.read(session, now, limit)
            if not events:
                return 0
            subjects = [(event, s) for event in events if (s := subject_of(event)) is not None]
            assigned = await store.active_members(
                (event.workspace_id, s.assignee_id)
                for event, s in subjects
                if s.assignee_id is not None
            )
            owners = await store.owners(event.workspace_id for event, _ in subjects)
            targets = [
                (event, s, member)
                for event, s in subjects
                for member in (
                    [assigned[(event.workspace_id, s.assignee_id)]]
                    if s.assignee_id is not None and (event.workspace_id, s.assignee_id) in assigned
                    else owners[event.workspace_id]
                )
            ]
            settings = await store.settings((m.workspace_id, m.id) for _, _, m in targets)
            workspaces = await store.workspaces(event.workspace_id for event, _ in subjects)
            await store.add_once(
                [
                    {
                        "workspace_id": member.workspace_id,
                        "id": new_id(),
                        "member_id": member.id,
                        "kind": s.kind,
                        "dedupe_key": s.key,
                        "title": s.title[:300],
                        "lead_id": s.lead_id,
                        "task_id": s.task_id,
                        "created_at": now,
                        "due_at": deliver_at(
                            now,
                            workspaces[member.workspace_id].timezone,
                            rhythm_of(settings.get((member.workspace_id, member.id))),
                        ),
                        "sent_at": None,
                    }
                    for _, s, member in targets
                ]
            )
        self.feed.read_up_to(events)
        return len(events)

    async def flush(self, *, limit: int = 100) -> int:
        """Send the due alerts, one message per member and channel; answers how many members."""
        now = self.clock()
        async with self.db.transaction() as session:
            recipients = await AlertStore(session).due_recipients(now, limit)
        for workspace_id, member_id in recipients:
            await self._flush_one(workspace_id, member_id, now)
        return len(recipients)

    async def _flush_one(
        self, workspace_id: uuid.UUID, member_id: uuid.UUID, now: datetime
    ) -> None:
        # One transaction: the alerts are marked sent with the messages that carry them.
        async with self.db.transaction() as session:
            store = AlertStore(session)
            alerts = await store.due_of(workspace_id, member_id, now)
            if not alerts:
                return
            members = await store.active_members([(workspace_id, member_id)])
            member = members.get((workspace_id, member_id))
            settings = (await store.settings([(workspace_id, member_id)])).get(
                (workspace_id, member_id)
            )
            workspace = (await store.workspaces([workspace_id]))[workspace_id]
            for alert in alerts:
                alert.sent_at = now
            if member is None:
                return  # left the shop: nobody to tell
            subject, body = compose(alerts, workspace.language)
            for channel in channels_of(settings):
                recipient = recipient_for(channel, member, settings)
                if not recipient:
                    continue
                await queue_message(
                    session,
                    workspace_id,
                    Outgoing(
                        channel=channel,
                        recipient=recipient,
                        subject=subject,
                        body=body,
                        language=workspace.language,
                        template="alert" if len(alerts) == 1 else "alert.digest",
                        dedupe_key=f"alert:{alerts[0].id}:{channel.value}",
                        variables={
                            "member_id": str(member_id),
                            "alerts": [
                                {
                                    "kind": a.kind.value,
                                    "title": a.title,
                                    "lead_id": str(a.lead_id) if a.lead_id else None,
                                    "task_id": str(a.task_id) if a.task_id else None,
                                }
                                for a in alerts
                            ],
                        },
                    ),
                    email_built_in=self.email_built_in,
                    now=now,
                )

    async def settings(
        self, principal: Principal, workspace_id: uuid.UUID, member_id: uuid.UUID
    ) -> tuple[uuid.UUID, AlertSettings | None]:
        async with self.db.transaction() as session:
            await require_settings_access(session, principal, workspace_id, member_id)
            return member_id, await AlertSettingsRepository(session, workspace_id).get(member_id)

    async def update_settings(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        member_id: uuid.UUID,
        *,
        channels: list[MessageChannel],
        phone: str | None,
        telegram_chat: str | None,
        quiet_from: str | None,
        quiet_to: str | None,
        digest: DigestMode,
    ) -> AlertSettings:
        quiet = quiet_window(quiet_from, quiet_to)
        if MessageChannel.SMS in channels and not phone:
            raise ValidationFailed("SMS alerts need a phone.", field="phone")
        if MessageChannel.TELEGRAM in channels and not telegram_chat:
            raise ValidationFailed("Telegram alerts need a chat.", field="telegramChat")
        if telegram_chat is not None and len(telegram_chat) > 64:
            raise ValidationFailed("telegramChat is at most 64 characters.", field="telegramChat")
        if phone is not None:
            phone = normalise_phone(phone)
        async with self.db.transaction() as session:
            await require_settings_access(session, principal, workspace_id, member_id)
            repo = AlertSettingsRepository(session, workspace_id)
            row = await repo.get(member_id) or repo.add(AlertSettings(member_id=member_id))
            row.channels = list(dict.fromkeys(channel.value for channel in channels))
            row.phone = phone
            row.telegram_chat = telegram_chat
            row.quiet_start, row.quiet_end = quiet.start, quiet.end
            row.digest = digest
            row.updated_at = self.clock()
            return row
