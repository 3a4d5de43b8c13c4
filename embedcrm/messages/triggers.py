"""Messages to clients from templates: the owner's templates, their preview, and the triggers
that send them: a lead entering a stage (an order's status), a task or appointment coming due,
and a one-off offer to a segment.

Every send goes through ``queue_message``: nothing to a contact who unsubscribed, at most once
per trigger and contact (its dedupe key), and not inside the template's quiet hours on the
client's wall clock (the contact's ``timezone`` custom field, else the workspace's). A reminder goes a set number of
hours before a task or appointment about the client falls due. A template
is chosen in the client's language (the contact's ``language`` custom field, else the language
of the site the lead came from, else the workspace's), falling back to another language.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.contacts.models import Contact
from embedcrm.contacts.service import all_contacts_page, get_contact
from embedcrm.db import Database, utcnow
from embedcrm.errors import NotFound, ValidationFailed
from embedcrm.ids import row_id_in_event
from embedcrm.kit.repository import Page, Window
from embedcrm.leads.models import Lead
from embedcrm.leads.moves import get_lead
from embedcrm.leads.service import cart_total, items_of_leads
from embedcrm.messages.models import MessageChannel, MessageTemplate, TemplateTrigger
from embedcrm.messages.quiet import QuietHours, is_timezone, outside_quiet, quiet_window, zone
from embedcrm.messages.repository import (
    HolidayRepository,
    MessageRepository,
    TemplateRepository,
    TriggerTemplates,
)
from embedcrm.messages.service import (
    LANGUAGES,
    Outgoing,
    check_text,
    queue_message,
    recipient_of,
)
from embedcrm.messages.templates import check_template, first_name, render
from embedcrm.messages.unsubscribe import UnsubscribeTokens
from embedcrm.pipelines.service import get_stage, stage_of
from embedcrm.tasks.models import Task
from embedcrm.tasks.service import open_tasks_due_between
from embedcrm.webhooks.jobs import Clock
from embedcrm.webhooks.outbox import FeedReader
from embedcrm.workspaces.access import get_member, load_actor, reader_workspace

# A week: reminders further ahead are not reminders.
MAX_HOURS_BEFORE = 168
# Greetings on a date leave at this time on the client's clock (or after their quiet hours).
GREETING_AT = 10 * 60
HOLIDAYS_RU = json.loads(
    (Path(__file__).parent / "data" / "holidays_ru.json").read_text(encoding="utf-8")
)["holidays"]
# Contacts one offer may go to: a send is a few transactions of a hundred each.
MAX_SEGMENT_SEND = 10_000
# The feedback link of a contact, a lead (or None) and a kind, NPS or CSAT, on the hosted page or
# (given its address) on the shop's site (the feedback domain's).
FeedbackUrl = Callable[[uuid.UUID, uuid.UUID, uuid.UUID | None, str, str | None], str]
SegmentContacts = Callable[[Principal, uuid.UUID, uuid.UUID, str | None], Awaitable[Page[Contact]]]


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str
    recipient: str | None
    send_at: datetime


@dataclass(frozen=True)
class SegmentSend:
    queued: int
    skipped: int


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


async def client_values(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    contact: Contact,
    lead: Lead | None,
    *,
    unsubscribe_url: str,
) -> dict[str, str | None]:
    """The values of the template variables for one contact and, where there is one, a lead."""
    workspace = await MessageRepository(session, workspace_id).workspace()
    values: dict[str, str | None] = {
        "contact.name": contact.name,
        "contact.first_name": first_name(contact.name),
        "contact.email": contact.email,
        "contact.phone": contact.phone_e164 or contact.phone,
        "shop.name": workspace.name,
        "unsubscribe.url": unsubscribe_url,
    }
    manager_id = contact.manager_id
    if lead is not None:
        manager_id = lead.assignee_id or manager_id
        stage = await stage_of(session, lead)
        items = await items_of_leads(session, workspace_id, [lead.id])
        total = cart_total(items)
        fields = lead.custom_fields or {}
        values.update(
            {
                "lead.title": lead.title,
                "lead.value": _str(lead.value),
                "lead.currency": lead.currency,
                "stage.name": stage.name,
                "order.items": "\n".join(
                    f"{item.product} × {item.quantity.normalize():f}" for item in items
                )
                or None,
                "order.total": _str(total),
                "delivery.date": _str(fields.get("delivery_date")),
                "delivery.address": _str(fields.get("delivery_address")),
            }
        )
    if manager_id is not None:
        try:
            manager = await get_member(session, workspace_id, manager_id, "managerId")
        except NotFound:
            manager = None
        if manager is not None:
            values["manager.name"] = manager.name or None
            values["manager.email"] = manager.email
    return values


async def client_language(
    session: AsyncSession, workspace_id: uuid.UUID, contact: Contact, lead: Lead | None
) -> str:
    repo = MessageRepository(session, workspace_id)
    said = (contact.custom_fields or {}).get("language")
    if isinstance(said, str) and said in LANGUAGES:
        return said
    if lead is not None and lead.site_id is not None:
        site_language = await repo.site_language(lead.site_id)
        if site_language in LANGUAGES:
            return str(site_language)
    return await repo.language()


async def client_timezone(session: AsyncSession, workspace_id: uuid.UUID, contact: Contact) -> str:
    said = (contact.custom_fields or {}).get("timezone")
    if isinstance(said, str) and is_timezone(said):
        return said
    return (await MessageRepository(session, workspace_id).workspace()).timezone


def in_language(templates: Sequence[MessageTemplate], language: str) -> list[MessageTemplate]:
    """One template per channel, in ``language`` where there is one."""
    chosen: dict[MessageChannel, MessageTemplate] = {}
    for template in templates:
        held = chosen.get(template.channel)
        if held is None or (held.language != language and template.language == language):
            chosen[template.channel] = template
    return list(chosen.values())


class TemplateService:
    def __init__(
        self,
        db: Database,
        tokens: UnsubscribeTokens,
        *,
        email_built_in: bool,
        segment_contacts: SegmentContacts,
        feedback_url: FeedbackUrl,
        clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.feedback_url = feedback_url
        self.tokens = tokens
        self.email_built_in = email_built_in
        self.segment_contacts = segment_contacts
        self.clock = clock
        self.feed = FeedReader(("lead.stage_changed",))
        # The workspaces greeted today by this process; a restart greets again, which the
        # dedupe keys make harmless.
        self._dates_done: set[tuple[uuid.UUID, date]] = set()

    # ---- the owner's templates -------------------------------------------------------------

    async def _check(
        self, session: AsyncSession, workspace_id: uuid.UUID, template: MessageTemplate
    ) -> None:
        if not template.name.strip() or len(template.name) > 200:
            raise ValidationFailed("name is 1 to 200 characters.", field="name")
        if template.language not in LANGUAGES:
            raise ValidationFailed("language is ru or en.", field="language")
        check_text(template.subject, template.body, template.channel)
        check_template(template.subject, "subject")
        check_template(template.body, "body")
        if template.trigger is TemplateTrigger.STAGE:
            if template.stage_id is None:
                raise ValidationFailed("A stage trigger needs its stage.", field="stageId")
            await get_stage(session, workspace_id, template.stage_id)
        else:
            template.stage_id = None
        if template.trigger is TemplateTrigger.REMINDER:
            hours = template.hours_before
            if hours is None or not 1 <= hours <= MAX_HOURS_BEFORE:
                raise ValidationFailed(
                    f"A reminder is 1 to {MAX_HOURS_BEFORE} hours before.", field="hoursBefore"
                )
        else:
            template.hours_before = None
        if template.trigger is TemplateTrigger.DATE:
            key = template.field_key
            if not key or len(key) > 64:
                raise ValidationFailed(
                    "A date trigger names the contact's custom field, as birthday.",
                    field="fieldKey",
                )
        else:
            template.field_key = None

    async def create(
        self, principal: Principal, workspace_id: uuid.UUID, changes: Mapping[str, Any]
    ) -> MessageTemplate:
        fields = dict(changes)
        quiet = quiet_window(fields.pop("quiet_from", None), fields.pop("quiet_to", None))
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
            now = self.clock()
            template = MessageTemplate(
                id=uuid.uuid4(),
                quiet_start=quiet.start,
                quiet_end=quiet.end,
                created_at=now,
                updated_at=now,
                **{"active": True, "trigger": TemplateTrigger.MANUAL, **fields},
            )
            await self._check(session, workspace_id, template)
            return TemplateRepository(session, workspace_id).add(template)

    async def update(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        template_id: uuid.UUID,
        changes: Mapping[str, Any],
    ) -> MessageTemplate:
        fields = dict(changes)
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id)
            template = await self._get(session, workspace_id, template_id)
            if "quiet_from" in fields or "quiet_to" in fields:
                quiet = quiet_window(fields.pop("quiet_from", None), fields.pop("quiet_to", None))
                template.quiet_start, template.quiet_end = quiet.start, quiet.end
            for name, value in fields.items():
                setattr(template, name, value)
            await self._check(session, workspace_id, template)
            template.updated_at = self.clock()
            return template

    async def delete(
        self, principal: Principal, workspace_id: uuid.UUID, template_id: uuid.UUID
    ) -> None:
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id)
            template = await self._get(session, workspace_id, template_id)
            await session.delete(template)

    async def page(
        self, principal: Principal, workspace_id: uuid.UUID, *, window: Window
    ) -> Page[MessageTemplate]:
        async with self.db.transaction() as session:
            repo = TemplateRepository.for_reader(
                session, principal, workspace_id, field="workspaceId"
            )
            return await repo.newest_first(repo.select(), window=window)

    async def visible_template(
        self, principal: Principal, workspace_id: uuid.UUID, template_id: uuid.UUID
    ) -> MessageTemplate | None:
        async with self.db.transaction() as session:
            repo = TemplateRepository.for_reader(session, principal, workspace_id)
            return await repo.get(template_id)

    async def count(self, principal: Principal, workspace_id: uuid.UUID) -> int:
        async with self.db.transaction() as session:
            repo = TemplateRepository.for_reader(
                session, principal, workspace_id, field="workspaceId"
            )
            return await repo.count(repo.select())

    async def _get(
        self, session: AsyncSession, workspace_id: uuid.UUID, template_id: uuid.UUID
    ) -> MessageTemplate:
        template = await TemplateRepository(session, workspace_id).get(template_id)
        if template is None:
            raise NotFound("Nothing has this id.", field="templateId")
        return template

    # ---- rendering -------------------------------------------------------------------------

    async def _render(
        self,
        session: AsyncSession,
        workspace_id: uuid.UUID,
        template: MessageTemplate,
        contact: Contact,
        lead: Lead | None,
        task: Task | None = None,
        extra: Mapping[str, str] | None = None,
        not_before: datetime | None = None,
    ) -> Rendered:
        values = await client_values(
            session,
            workspace_id,
            contact,
            lead,
            unsubscribe_url=self.tokens.url(workspace_id, contact.id),
        )
        timezone = await client_timezone(session, workspace_id, contact)
        if task is not None:
            values["task.title"] = task.title
            if task.due_at is not None:
                values["task.due"] = task.due_at.astimezone(zone(timezone)).strftime(
                    "%d.%m.%Y %H:%M"
                )
        lead_id = lead.id if lead else None
        site = (
            await MessageRepository(session, workspace_id).site_address(lead.site_id)
            if lead is not None and lead.site_id is not None
            else None
        )
        for kind in ("NPS", "CSAT"):
            values[f"feedback.{kind.lower()}_url"] = self.feedback_url(
                workspace_id, contact.id, lead_id, kind, None
            )
            values[f"feedback.{kind.lower()}_site_url"] = self.feedback_url(
                workspace_id, contact.id, lead_id, kind, site
            )
        values.update(extra or {})
        try:
            recipient: str | None = recipient_of(
                contact.email, contact.phone_e164, template.channel
            )
        except ValidationFailed:
            recipient = None
        return Rendered(
            subject=render(template.subject, values)[:300],
            body=render(template.body, values),
            language=template.language,
            recipient=recipient,
            send_at=outside_quiet(
                max(self.clock(), not_before or self.clock()),
                timezone,
                QuietHours(template.quiet_start, template.quiet_end),
            ),
        )

    async def preview(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        template_id: uuid.UUID,
        contact_id: uuid.UUID,
        lead_id: uuid.UUID | None,
    ) -> Rendered:
        """The message as this contact (and lead) would get it now; nothing is sent."""
        reader_workspace(principal, workspace_id, field="templateId")
        async with self.db.transaction() as session:
            template = await self._get(session, workspace_id, template_id)
            contact = await get_contact(session, workspace_id, contact_id)
            lead = await get_lead(session, workspace_id, lead_id) if lead_id else None
            return await self._render(session, workspace_id, template, contact, lead)

    async def _queue(
        self,
        session: AsyncSession,
        workspace_id: uuid.UUID,
        template: MessageTemplate,
        contact: Contact,
        lead: Lead | None,
        dedupe_key: str,
        task: Task | None = None,
        *,
        extra: Mapping[str, str] | None = None,
        not_before: datetime | None = None,
    ) -> bool:
        """Queue one templated message; False when it cannot or need not go."""
        rendered = await self._render(
            session, workspace_id, template, contact, lead, task, extra, not_before
        )
        if rendered.recipient is None:
            return False
        message = await queue_message(
            session,
            workspace_id,
            Outgoing(
                channel=template.channel,
                recipient=rendered.recipient,
                subject=rendered.subject,
                body=rendered.body,
                language=rendered.language,
                template=template.name,
                contact_id=contact.id,
                lead_id=lead.id if lead else None,
                dedupe_key=dedupe_key,
                variables={"template_id": str(template.id)},
                send_at=rendered.send_at,
            ),
            email_built_in=self.email_built_in,
            now=self.clock(),
        )
        return message is not None

    # ---- triggers --------------------------------------------------------------------------

    async def scan_stage_changes(self, *, limit: int = 200) -> int:
        """The worker's job: a lead entering a stage gets that stage's templates, once."""
        async with self.db.transaction() as session:
            events = await self.feed.read(session, self.clock(), limit)
            for event in events:
                data = event.payload.get("data", {})
                lead_id = row_id_in_event((data.get("lead") or {}).get("id"))
                stage_id = row_id_in_event((data.get("to_stage") or {}).get("id"))
                if lead_id is None or stage_id is None:
                    continue
                await self._stage_entered(session, event.workspace_id, lead_id, stage_id)
        self.feed.read_up_to(events)
        return len(events)

    async def _stage_entered(
        self,
        session: AsyncSession,
        workspace_id: uuid.UUID,
        lead_id: uuid.UUID,
        stage_id: uuid.UUID,
    ) -> None:
        templates = await TemplateRepository(session, workspace_id).of_stage(stage_id)
        if not templates:
            return
        try:
            lead = await get_lead(session, workspace_id, lead_id)
            contact = await get_contact(session, workspace_id, lead.contact_id)
        except NotFound:
            return  # erased since
        await self._in_client_language(
            session,
            workspace_id,
            templates,
            contact,
            lead,
            f"stage:{stage_id}:{lead_id}",
        )

    async def scan_reminders(self) -> int:
        """The worker's job: a task or appointment about a client, falling due within a
        reminder template's hours, gets that reminder once. Answers how many were looked at."""
        now = self.clock()
        looked = 0
        async with self.db.transaction() as session:
            groups: dict[tuple[uuid.UUID, int], list[MessageTemplate]] = {}
            for template in await TriggerTemplates(session).of(TemplateTrigger.REMINDER):
                assert template.hours_before is not None
                groups.setdefault((template.workspace_id, template.hours_before), []).append(
                    template
                )
            for (workspace_id, hours), templates in groups.items():
                # Not before now: a task already due gets no reminder ahead of it.
                tasks = await open_tasks_due_between(
                    session, workspace_id, now, now + timedelta(hours=hours)
                )
                looked += len(tasks)
                for task in tasks:
                    await self._remind(session, workspace_id, templates, task, hours)
        return looked

    async def _remind(
        self,
        session: AsyncSession,
        workspace_id: uuid.UUID,
        templates: list[MessageTemplate],
        task: Task,
        hours: int,
    ) -> None:
        try:
            lead = await get_lead(session, workspace_id, task.lead_id) if task.lead_id else None
            contact_id = task.contact_id or (lead.contact_id if lead else None)
            if contact_id is None:
                return
            contact = await get_contact(session, workspace_id, contact_id)
        except NotFound:
            return
        await self._in_client_language(
            session,
            workspace_id,
            templates,
            contact,
            lead,
            # Once per task and due time: moving the appointment reminds again.
            f"reminder:{hours}:{task.id}:{task.due_at}",
            task,
        )

    async def _in_client_language(
        self,
        session: AsyncSession,
        workspace_id: uuid.UUID,
        templates: Sequence[MessageTemplate],
        contact: Contact,
        lead: Lead | None,
        occurrence: str,
        task: Task | None = None,
        *,
        extra: Mapping[str, str] | None = None,
        not_before: datetime | None = None,
    ) -> None:
        """Queue one of ``templates`` per channel, in the client's language where there is one;
        ``occurrence`` names the trigger's firing: one message per occurrence and channel."""
        language = await client_language(session, workspace_id, contact, lead)
        for template in in_language(templates, language):
            await self._queue(
                session,
                workspace_id,
                template,
                contact,
                lead,
                f"{occurrence}:{template.channel.value}"[:200],
                task,
                extra=extra,
                not_before=not_before,
            )

    # ---- holidays and dates ----------------------------------------------------------------

    async def holidays(
        self, principal: Principal, workspace_id: uuid.UUID
    ) -> list[tuple[int, int, str]]:
        """The workspace's holidays as (month, day, name); the Russian ones until it sets its own."""
        reader_workspace(principal, workspace_id, field="workspaceId")
        async with self.db.transaction() as session:
            return await self._holidays(session, workspace_id)

    async def _holidays(
        self, session: AsyncSession, workspace_id: uuid.UUID
    ) -> list[tuple[int, int, str]]:
        rows = await HolidayRepository(session, workspace_id).all()
        if rows:
            return [(row.month, row.day, row.name) for row in rows]
        return [(*parse_month_day(h["date"], "holidays"), h["name"]) for h in HOLIDAYS_RU]

    async def set_holidays(
        self, principal: Principal, workspace_id: uuid.UUID, holidays: Sequence[tuple[str, str]]
    ) -> list[tuple[int, int, str]]:
        """Replace the list with (MM-DD, name) pairs; an empty list brings back the defaults."""
        days: dict[tuple[int, int], str] = {}
        for index, (when, name) in enumerate(holidays):
            field = f"holidays.{index}"
            month, day = parse_month_day(when, field)
            if not name.strip() or len(name) > 200:
                raise ValidationFailed("A holiday's name is 1 to 200 characters.", field=field)
            if (month, day) in days:
                raise ValidationFailed(f"{when} is listed twice.", field=field)
            days[(month, day)] = name.strip()
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
            await HolidayRepository(session, workspace_id).replace(
                [(m, d, name) for (m, d), name in sorted(days.items())]
            )
            await session.flush()
            return await self._holidays(session, workspace_id)

    async def scan_dates(self) -> int:
        """The worker's job, once a day per workspace: greetings on a holiday and on the date
        in a contact's custom field (a birthday), at 10:00 on the client's clock. Answers how
        many workspaces were looked at."""
        now = self.clock()
        async with self.db.transaction() as session:
            templates = await TriggerTemplates(session).of(
                TemplateTrigger.DATE, TemplateTrigger.HOLIDAY
            )
            by_workspace: dict[uuid.UUID, list[MessageTemplate]] = {}
            for template in templates:
                by_workspace.setdefault(template.workspace_id, []).append(template)
            timezones = {
                workspace_id: (await MessageRepository(session, workspace_id).workspace()).timezone
                for workspace_id in by_workspace
            }
        looked = 0
        for workspace_id, group in by_workspace.items():
            today = now.astimezone(zone(timezones[workspace_id])).date()
            if (workspace_id, today) in self._dates_done:
                continue
            await self._greet(workspace_id, group, today)
            self._dates_done.add((workspace_id, today))
            looked += 1
        return looked

    async def _greet(
        self, workspace_id: uuid.UUID, templates: list[MessageTemplate], today: date
    ) -> None:
        async with self.db.transaction() as session:
            holidays = {(m, d): name for m, d, name in await self._holidays(session, workspace_id)}
        holiday = holidays.get((today.month, today.day))
        by_field: dict[str, list[MessageTemplate]] = {}
        for template in templates:
            if template.trigger is TemplateTrigger.DATE and template.field_key:
                by_field.setdefault(template.field_key, []).append(template)
        greeting = [t for t in templates if t.trigger is TemplateTrigger.HOLIDAY]
        if holiday is None:
            greeting = []
        if not greeting and not by_field:
            return
        after: str | None = None
        while True:
            async with self.db.transaction() as session:
                page = await all_contacts_page(session, workspace_id, after)
                for contact in page.rows:
                    fields = contact.custom_fields or {}
                    not_before = await self._greeting_time(session, workspace_id, contact, today)
                    if greeting and holiday is not None:
                        await self._in_client_language(
                            session,
                            workspace_id,
                            greeting,
                            contact,
                            None,
                            f"holiday:{today}:{contact.id}",
                            extra={"holiday.name": holiday},
                            not_before=not_before,
                        )
                    for key, keyed in by_field.items():
                        if falls_on(fields.get(key), today):
                            await self._in_client_language(
                                session,
                                workspace_id,
                                keyed,
                                contact,
                                None,
                                f"date:{key}:{today.year}:{contact.id}",
                                not_before=not_before,
                            )
            if not page.has_next:
                return
            after = page.end_cursor

    async def _greeting_time(
        self, session: AsyncSession, workspace_id: uuid.UUID, contact: Contact, today: date
    ) -> datetime:
        timezone = await client_timezone(session, workspace_id, contact)
        return datetime(
            today.year,
            today.month,
            today.day,
            GREETING_AT // 60,
            GREETING_AT % 60,
            tzinfo=zone(timezone),
        )

    async def send_to_segment(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        template_id: uuid.UUID,
        segment_id: uuid.UUID,
        *,
        send_key: str,
    ) -> SegmentSend:
        """An offer to every contact of a segment, once per ``send_key`` and contact: sending
        again with the same key (a retry) queues only what the first one did not."""
        if not send_key or len(send_key) > 64:
            raise ValidationFailed("sendKey is 1 to 64 characters.", field="sendKey")
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="templateId")
            template = await self._get(session, workspace_id, template_id)
        queued = skipped = seen = 0
        after: str | None = None
        while seen < MAX_SEGMENT_SEND:
            page = await self.segment_contacts(principal, workspace_id, segment_id, after)
            async with self.db.transaction() as session:
                for contact in page.rows:
                    made = await self._queue(
                        session,
                        workspace_id,
                        template,
                        contact,
                        None,
                        f"offer:{template.id}:{send_key}:{contact.id}",
                    )
                    queued, skipped = (queued + 1, skipped) if made else (queued, skipped + 1)
            seen += len(page.rows)
            if not page.has_next:
                break
            after = page.end_cursor
        return SegmentSend(queued=queued, skipped=skipped)


def parse_month_day(value: str, field: str) -> tuple[int, int]:
    """``MM-DD`` as (month, day); 02-29 is a date."""
    month, _, day = value.partition("-")
    try:
        date(2024, int(month), int(day))  # a leap year: 02-29 is a day
    except ValueError:
        raise ValidationFailed("A holiday is MM-DD, as 03-08.", field=field) from None
    if len(month) != 2 or len(day) != 2:
        raise ValidationFailed("A holiday is MM-DD, as 03-08.", field=field)
    return int(month), int(day)


def falls_on(value: Any, today: date) -> bool:
    """The custom field's date (YYYY-MM-DD) has today's month and day; 29 February falls on
    the 28th in other years."""
    if not isinstance(value, str):
        return False
    try:
        when = date.fromisoformat(value[:10])
    except ValueError:
        return False
    if (when.month, when.day) == (2, 29) and today.month == 2 and today.day == 28:
        return not _leap(today.year)
    return (when.month, when.day) == (today.month, today.day)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
