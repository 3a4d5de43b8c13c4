"""Messages to clients from templates: variables, preview, the stage trigger, quiet hours on the
client's clock, and a one-off offer to a segment; each at most once per trigger and contact."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from webhooks.webhook_support import FakeClock

from conftest import GraphQL
from embedcrm.contacts.models import Contact
from embedcrm.errors import ValidationFailed
from embedcrm.graphql.ids import parse_global_id
from embedcrm.ids import to_global_id
from embedcrm.messages.models import Message, MessageChannel
from embedcrm.messages.repository import MessageRepository
from embedcrm.messages.service import MessageService, Outgoing, queue_message
from embedcrm.messages.templates import check_template, render
from embedcrm.messages.triggers import TemplateService, falls_on
from embedcrm.services import Services
from embedcrm.webhooks.fanout import FanOut
from embedcrm.webhooks.models import OutboxEvent
from factories import Tenant, make_tenant, submission, submit

CREATE = """
mutation($ws: ID, $name: String!, $channel: MessageChannel!, $language: String!,
         $subject: String!, $body: String!, $trigger: TemplateTrigger!, $stage: ID,
         $from: String, $to: String) {
  createMessageTemplate(input: {workspaceId: $ws, name: $name, channel: $channel,
      language: $language, subject: $subject, body: $body, trigger: $trigger, stageId: $stage,
      quietFrom: $from, quietTo: $to}) {
    template { id name channel language trigger stageId quietFrom quietTo active }
    userErrors { field message code } } }
"""
UPDATE = """
mutation($id: ID!, $body: String, $active: Boolean, $name: String) {
  updateMessageTemplate(input: {id: $id, body: $body, active: $active, name: $name}) {
    template { id body active } userErrors { field message code } } }
"""
PREVIEW = """
query($template: ID!, $contact: ID!, $lead: ID) {
  previewMessage(templateId: $template, contactId: $contact, leadId: $lead) {
    subject body language recipient sendAt } }
"""
PIPELINES = "query { pipelines { stages { id name } } }"
LEADS = "query { leads(first: 20) { edges { node { id contact { id email } } } } }"
MOVE = """
mutation($lead: ID!, $stage: ID!) { moveLead(input: {leadId: $lead, stageId: $stage}) {
  userErrors { field message code } } }
"""
SEGMENT = """
mutation($company: String!) { createSegment(input: {name: "Весна", contactFilter: {company: $company}}) {
  segment { id } userErrors { field message code } } }
"""
SEND_SEGMENT = """
mutation($template: ID!, $segment: ID!, $key: String!) {
  sendTemplateToSegment(input: {templateId: $template, segmentId: $segment, sendKey: $key}) {
    queued skipped userErrors { field message code } } }
"""


def test_a_template_names_only_known_variables() -> None:
    check_template("Здравствуйте, {{contact.first_name}}! Заказ: {{ stage.name }}.", "body")
    with pytest.raises(ValidationFailed, match=r"\{\{contact.password\}\}") as refused:
        check_template("{{contact.password}}", "body")
    assert refused.value.fields == {"body": refused.value.message}
    for broken in ("{{contact.name}", "{{ lead.title | upper }}", "x }} y"):
        with pytest.raises(ValidationFailed, match="not a variable"):
            check_template(broken, "subject")
    assert render("{{contact.first_name}}, {{lead.title}}!", {"contact.first_name": "Анна"}) == (
        "Анна, !"
    )


async def stages(tenant: Tenant) -> dict[str, str]:
    pipelines = (await tenant.panel.data(PIPELINES))["pipelines"]
    return {stage["name"]: stage["id"] for stage in pipelines[0]["stages"]}


async def create(gql: GraphQL, **values: Any) -> dict[str, Any]:
    variables = {
        "name": "Статус заказа",
        "channel": "SMS",
        "language": "ru",
        "subject": "",
        "body": "{{contact.first_name}}, ваш заказ «{{lead.title}}»: {{stage.name}}. {{shop.name}}",
        "trigger": "MANUAL",
        **values,
    }
    payload: dict[str, Any] = (await gql.data(CREATE, **variables))["createMessageTemplate"]
    return payload


async def feed(services: Services) -> None:
    fan_out = FanOut(services.db, clock=lambda: datetime.now(UTC), batch=500)
    while await fan_out.fan_out():
        pass


async def scan_all(service: TemplateService) -> None:
    """Read the stage changes to the end of the feed, as the worker's loop does: a suite run
    leaves more recent ones from other workspaces than one scan reads."""
    while await service.scan_stage_changes():
        pass


async def contact_messages(services: Services, contact_id: str) -> list[Message]:
    ids = parse_global_id(contact_id)
    async with services.db.transaction() as session:
        rows = await session.scalars(
            select(Message)
            .where(Message.workspace_id == ids.workspace_id, Message.contact_id == ids.row_id)
            .order_by(Message.created_at)
        )
        return list(rows)


def templates(services: Services, clock: FakeClock) -> TemplateService:
    service = services.templates
    return TemplateService(
        services.db,
        service.tokens,
        email_built_in=False,
        segment_contacts=service.segment_contacts,
        feedback_url=service.feedback_url,
        clock=clock,
    )


async def test_owners_write_templates_and_preview_them_for_a_client(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    manager = await make_tenant(platform, role="MANAGER")
    await submit(client, tenant, submission(name="Анна Петрова"))
    lead = (await tenant.panel.data(LEADS))["leads"]["edges"][0]["node"]

    made = await create(tenant.panel, channel="EMAIL", subject="{{shop.name}}: {{stage.name}}")
    assert made["userErrors"] == []
    template = made["template"]
    assert template["trigger"] == "MANUAL" and template["active"] is True
    preview = (
        await tenant.panel.data(
            PREVIEW, template=template["id"], contact=lead["contact"]["id"], lead=lead["id"]
        )
    )["previewMessage"]
    assert preview["subject"] == "Ромашка: Новый"
    assert preview["body"].startswith("Анна, ваш заказ «")
    assert preview["body"].endswith(": Новый. Ромашка")
    assert preview["recipient"] == lead["contact"]["email"]
    # Without a lead, its variables are empty.
    bare = (
        await tenant.panel.data(PREVIEW, template=template["id"], contact=lead["contact"]["id"])
    )["previewMessage"]
    assert bare["body"] == "Анна, ваш заказ «»: . Ромашка"

    unknown = await create(tenant.panel, body="Привет, {{contact.passport}}")
    assert [(e["field"], e["code"]) for e in unknown["userErrors"]] == [("body", "invalid")]
    no_stage = await create(tenant.panel, trigger="STAGE")
    assert [e["field"] for e in no_stage["userErrors"]] == ["stageId"]
    foreign_stage = await create(
        tenant.panel, trigger="STAGE", stage=next(iter((await stages(manager)).values()))
    )
    assert [e["code"] for e in foreign_stage["userErrors"]] == ["not_found"]
    half_quiet = await create(tenant.panel, **{"from": "21:00"})
    assert [e["field"] for e in half_quiet["userErrors"]] == ["quietTo"]
    # A manager reads templates but does not write them.
    refused = await create(manager.panel)
    assert [e["code"] for e in refused["userErrors"]] == ["forbidden"]
    changed = (
        await tenant.panel.data(UPDATE, id=template["id"], body="{{lead.title}}", active=False)
    )["updateMessageTemplate"]
    assert changed["template"] == {"id": template["id"], "body": "{{lead.title}}", "active": False}
    nulled = (await tenant.panel.data(UPDATE, id=template["id"], name=None))[
        "updateMessageTemplate"
    ]
    assert [e["field"] for e in nulled["userErrors"]] == ["name"]


async def test_a_lead_entering_a_stage_gets_its_message_once_in_the_client_s_language(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    clock = FakeClock()
    tenant = await make_tenant(platform)
    stage_ids = await stages(tenant)
    target = list(stage_ids.values())[1]
    ru = await create(tenant.panel, trigger="STAGE", stage=target, name="Статус")
    en = await create(
        tenant.panel,
        trigger="STAGE",
        stage=target,
        name="Status",
        language="en",
        body="{{contact.first_name}}, your order is now {{stage.name}}.",
    )
    assert ru["userErrors"] == [] and en["userErrors"] == []
    await submit(client, tenant, submission(name="Анна Петрова", email="anna.stage@example.com"))
    await submit(
        client,
        tenant,
        submission(name="Olga Smith", email="olga.stage@example.com", phone="+7 912 000-00-09"),
    )
    edges = (await tenant.panel.data(LEADS))["leads"]["edges"]
    by_email = {e["node"]["contact"]["email"]: e["node"] for e in edges}
    olga = by_email["olga.stage@example.com"]
    async with services.db.transaction() as session:
        olga_id = parse_global_id(olga["contact"]["id"])
        contact = await session.get(Contact, (olga_id.workspace_id, olga_id.row_id))
        assert contact is not None
        contact.custom_fields = {"language": "en"}

    service = templates(services, clock)
    await feed(services)
    await scan_all(service)  # the feed so far is behind this worker's start
    first_stage = next(iter(stage_ids.values()))
    for lead in by_email.values():
        assert (await tenant.panel.data(MOVE, lead=lead["id"], stage=target))["moveLead"][
            "userErrors"
        ] == []
    # Away and back again: the trigger has fired for this lead already.
    anna = by_email["anna.stage@example.com"]
    await tenant.panel.data(MOVE, lead=anna["id"], stage=first_stage)
    await tenant.panel.data(MOVE, lead=anna["id"], stage=target)
    await feed(services)
    await scan_all(service)
    await scan_all(templates(services, clock))  # a second worker: nothing more

    (to_anna,) = await contact_messages(services, anna["contact"]["id"])
    assert to_anna.body.startswith("Анна, ваш заказ «") and to_anna.template == "Статус"
    assert to_anna.channel.value == "SMS" and to_anna.recipient == "+79123456789"
    (to_olga,) = await contact_messages(services, olga["contact"]["id"])
    assert to_olga.body == f"Olga, your order is now {list(stage_ids)[1]}."
    assert to_olga.language == "en"
    # Both went to the host's gateway at once, each with its idempotency key.
    async with services.db.transaction() as session:
        requested = list(
            await session.scalars(
                select(OutboxEvent.payload).where(
                    OutboxEvent.workspace_id == parse_global_id(tenant.workspace_id).workspace_id,
                    OutboxEvent.type == "message.requested",
                )
            )
        )
    assert sorted(p["data"]["message"]["idempotency_key"] for p in requested) == sorted(
        [to_anna.idempotency_key, to_olga.idempotency_key]
    )


async def test_quiet_hours_follow_the_client_s_clock_and_hold_the_gateway_message(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    await submit(client, tenant, submission(name="Иван Далёкий", email="far@example.com"))
    lead = (await tenant.panel.data(LEADS))["leads"]["edges"][0]["node"]
    contact_id = parse_global_id(lead["contact"]["id"])
    async with services.db.transaction() as session:
        contact = await session.get(Contact, (contact_id.workspace_id, contact_id.row_id))
        assert contact is not None
        contact.custom_fields = {"timezone": "Asia/Vladivostok"}
    made = await create(
        tenant.panel,
        trigger="STAGE",
        stage=list((await stages(tenant)).values())[2],
        **{"from": "21:00", "to": "09:00"},
    )
    assert made["template"]["quietFrom"] == "21:00"
    # 12:30 UTC is 22:30 in Vladivostok (UTC+10), 15:30 in Moscow: quiet for this client only.
    clock = FakeClock(datetime(2026, 12, 1, 12, 30, tzinfo=UTC))
    service = templates(services, clock)
    await feed(services)
    await scan_all(service)
    await tenant.panel.data(MOVE, lead=lead["id"], stage=made["template"]["stageId"])
    await feed(services)
    await scan_all(service)
    (message,) = await contact_messages(services, lead["contact"]["id"])
    # 09:00 in Vladivostok is 23:00 UTC.
    assert message.next_attempt_at == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    messages = MessageService(
        services.db, services.messages.tokens, email_built_in=False, clock=clock
    )
    await messages.release_held()
    assert (await contact_messages(services, lead["contact"]["id"]))[0].next_attempt_at is not None
    clock.set(datetime(2026, 12, 1, 23, 0, tzinfo=UTC))
    await messages.release_held()
    (released,) = await contact_messages(services, lead["contact"]["id"])
    assert released.next_attempt_at is None
    async with services.db.transaction() as session:
        payloads = list(
            await session.scalars(
                select(OutboxEvent.payload).where(
                    OutboxEvent.workspace_id == contact_id.workspace_id,
                    OutboxEvent.type == "message.requested",
                )
            )
        )
    assert [p["data"]["message"]["id"] for p in payloads] == [
        to_global_id("Message", message.workspace_id, message.id)
    ]
    assert payloads[0]["data"]["message"]["variables"]["template_id"]


async def test_an_offer_reaches_a_segment_once_and_skips_who_unsubscribed(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    marker = uuid.uuid4().hex[:8]
    for n in range(3):
        await submit(
            client,
            tenant,
            submission(
                name=f"Клиент {n}",
                company=f"spring-{marker}",
                email=f"c{n}-{marker}@example.com",
                phone=f"+7 912 000-10-0{n}",
            ),
        )
    await submit(
        client,
        tenant,
        submission(name="Чужой", email=f"other-{marker}@example.com", phone="+7 912 000-10-09"),
    )
    segment = (await tenant.panel.data(SEGMENT, company=f"spring-{marker}"))["createSegment"]
    assert segment["userErrors"] == []
    edges = (await tenant.panel.data(LEADS))["leads"]["edges"]
    contacts = {e["node"]["contact"]["email"]: e["node"]["contact"]["id"] for e in edges}
    unsubscribed = parse_global_id(contacts[f"c0-{marker}@example.com"])
    await services.messages.unsubscribe(
        services.messages.tokens.token(unsubscribed.workspace_id, unsubscribed.row_id)
    )
    offer = await create(
        tenant.panel,
        channel="EMAIL",
        subject="Весенняя скидка",
        body="{{contact.first_name}}, скидка 10% до конца недели. {{unsubscribe.url}}",
    )
    sent = (
        await tenant.panel.data(
            SEND_SEGMENT,
            template=offer["template"]["id"],
            segment=segment["segment"]["id"],
            key="spring-1",
        )
    )["sendTemplateToSegment"]
    assert sent["userErrors"] == []
    again = (
        await tenant.panel.data(
            SEND_SEGMENT,
            template=offer["template"]["id"],
            segment=segment["segment"]["id"],
            key="spring-1",
        )
    )["sendTemplateToSegment"]
    assert again == sent
    assert (sent["queued"], sent["skipped"]) == (2, 1)
    received = {
        email: await contact_messages(services, contact) for email, contact in contacts.items()
    }
    assert received[f"c0-{marker}@example.com"] == []
    for n in (1, 2):
        (message,) = received[f"c{n}-{marker}@example.com"]
        assert message.body.startswith("Клиент, скидка 10%")
        assert "/unsubscribe/" in message.body
    assert received[f"other-{marker}@example.com"] == []
    # Another shop's owner finds nothing here; a manager may not send offers at all.
    for role, code in (("OWNER", "not_found"), ("MANAGER", "forbidden")):
        stranger = await make_tenant(platform, role=role)
        refused = await stranger.panel.data(
            SEND_SEGMENT,
            template=offer["template"]["id"],
            segment=segment["segment"]["id"],
            key="x",
        )
        assert [e["code"] for e in refused["sendTemplateToSegment"]["userErrors"]] == [code]


CREATE_REMINDER = """
mutation($name: String!, $body: String!, $hours: Int, $ws: ID) {
  createMessageTemplate(input: {workspaceId: $ws, name: $name, channel: SMS, language: "ru",
      body: $body, trigger: REMINDER, hoursBefore: $hours}) {
    template { id trigger hoursBefore } userErrors { field message code } } }
"""
TASK = """
mutation($title: String!, $due: DateTime!, $lead: ID, $kind: TaskKind!) {
  createTask(input: {title: $title, dueAt: $due, leadId: $lead, kind: $kind}) {
    task { id } userErrors { field message code } } }
"""


async def test_a_reminder_goes_once_within_its_hours_before_the_appointment(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    await submit(client, tenant, submission(name="Анна Петрова", phone="+7 912 000-20-01"))
    lead = (await tenant.panel.data(LEADS))["leads"]["edges"][0]["node"]
    refused = (await tenant.panel.data(CREATE_REMINDER, name="Без часов", body="x"))[
        "createMessageTemplate"
    ]
    assert [e["field"] for e in refused["userErrors"]] == ["hoursBefore"]
    made = (
        await tenant.panel.data(
            CREATE_REMINDER,
            name="Напоминание",
            hours=24,
            body="{{contact.first_name}}, напоминаем: {{task.title}}, {{task.due}}.",
        )
    )["createMessageTemplate"]
    assert made["template"]["hoursBefore"] == 24
    now = datetime.now(UTC).replace(microsecond=0)
    soon = now + timedelta(hours=5)
    # Only the appointment within 24 hours: not the one later, nor the shop's own to-do.
    for title, due, kind in (
        ("Примерка", soon, "MEETING"),
        ("Через два дня", now + timedelta(hours=50), "MEETING"),
        ("Заказать ткань", soon, "TODO"),
    ):
        created = await tenant.panel.data(
            TASK, title=title, due=due.isoformat(), lead=lead["id"], kind=kind
        )
        assert created["createTask"]["userErrors"] == []
    service = templates(services, FakeClock(now))
    await service.scan_reminders()
    await service.scan_reminders()
    (reminder,) = await contact_messages(services, lead["contact"]["id"])
    moscow = soon.astimezone(ZoneInfo("Europe/Moscow")).strftime("%d.%m.%Y %H:%M")
    assert reminder.body == f"Анна, напоминаем: Примерка, {moscow}."
    assert reminder.recipient == "+79120002001"


async def test_a_message_another_worker_just_made_is_not_made_again(
    platform: GraphQL, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers reading the same trigger at once: the second one's insert meets the first
    one's unique key, and its transaction goes on with the message already made."""
    tenant = await make_tenant(platform)
    workspace_id = parse_global_id(tenant.workspace_id).workspace_id
    outgoing = Outgoing(
        channel=MessageChannel.SMS,
        recipient="+79120003001",
        subject="",
        body="Ваш заказ готов",
        language="ru",
        template="manual",
        dedupe_key=f"race:{uuid.uuid4()}",
    )
    now = datetime.now(UTC)
    async with services.db.transaction() as session:
        first = await queue_message(session, workspace_id, outgoing, email_built_in=False, now=now)
    found = MessageRepository.by_dedupe_key

    async def not_yet_visible(self: MessageRepository, key: str) -> Message | None:
        # What the second worker saw before the first one committed.
        monkeypatch.setattr(MessageRepository, "by_dedupe_key", found)
        return None

    monkeypatch.setattr(MessageRepository, "by_dedupe_key", not_yet_visible)
    async with services.db.transaction() as session:
        second = await queue_message(session, workspace_id, outgoing, email_built_in=False, now=now)
        assert second is not None and first is not None and second.id == first.id
        # The transaction is still usable after the refused insert.
        assert await MessageRepository(session, workspace_id).by_dedupe_key("nothing") is None
    async with services.db.transaction() as session:
        rows = list(
            await session.scalars(
                select(Message).where(
                    Message.workspace_id == workspace_id, Message.dedupe_key == outgoing.dedupe_key
                )
            )
        )
        events = list(
            await session.scalars(
                select(OutboxEvent).where(
                    OutboxEvent.workspace_id == workspace_id,
                    OutboxEvent.type == "message.requested",
                )
            )
        )
    assert len(rows) == 1 and len(events) == 1


HOLIDAYS = "query { holidays { date name } }"
SET_HOLIDAYS = """
mutation($days: [HolidayInput!]!) { setHolidays(input: {holidays: $days}) {
  holidays { date name } userErrors { field message code } } }
"""
CREATE_GREETING = """
mutation($name: String!, $body: String!, $trigger: TemplateTrigger!, $field: String) {
  createMessageTemplate(input: {name: $name, channel: SMS, language: "ru", body: $body,
      trigger: $trigger, fieldKey: $field}) {
    template { id trigger fieldKey } userErrors { field message code } } }
"""


async def test_holidays_and_birthdays_greet_each_client_once_at_ten_on_their_clock(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    defaults = (await tenant.panel.data(HOLIDAYS))["holidays"]
    assert {"date": "03-08", "name": "Международный женский день"} in defaults
    assert len(defaults) == 9
    bad = await tenant.panel.data(SET_HOLIDAYS, days=[{"date": "13-01", "name": "x"}])
    assert [e["field"] for e in bad["setHolidays"]["userErrors"]] == ["holidays.0"]
    twice = [{"date": "12-01", "name": "a"}, {"date": "12-01", "name": "b"}]
    repeated = (await tenant.panel.data(SET_HOLIDAYS, days=twice))["setHolidays"]
    assert [e["field"] for e in repeated["userErrors"]] == ["holidays.1"]
    own = [{"date": "12-01", "name": "День магазина"}, {"date": "03-08", "name": "8 Марта"}]
    saved = (await tenant.panel.data(SET_HOLIDAYS, days=own))["setHolidays"]
    assert saved["holidays"] == sorted(own, key=lambda day: day["date"])
    no_field = (await tenant.panel.data(CREATE_GREETING, name="ДР", body="x", trigger="DATE"))[
        "createMessageTemplate"
    ]
    assert [e["field"] for e in no_field["userErrors"]] == ["fieldKey"]
    for name, body, trigger, field in (
        ("Праздник", "{{contact.first_name}}, поздравляем: {{holiday.name}}!", "HOLIDAY", None),
        ("ДР", "{{contact.first_name}}, с днём рождения!", "DATE", "birthday"),
    ):
        made = (
            await tenant.panel.data(
                CREATE_GREETING, name=name, body=body, trigger=trigger, field=field
            )
        )["createMessageTemplate"]
        assert made["userErrors"] == []

    for n in range(2):
        await submit(
            client,
            tenant,
            submission(
                name=f"Гость{n} Иванов", email=f"g{n}@example.com", phone=f"+7 912 000-30-0{n}"
            ),
        )
    edges = (await tenant.panel.data(LEADS))["leads"]["edges"]
    contact_ids = {e["node"]["contact"]["email"]: e["node"]["contact"]["id"] for e in edges}
    async with services.db.transaction() as session:
        for n, birthday in enumerate(("1990-12-01", "1985-06-15")):
            ids = parse_global_id(contact_ids[f"g{n}@example.com"])
            contact = await session.get(Contact, (ids.workspace_id, ids.row_id))
            assert contact is not None
            contact.custom_fields = {"birthday": birthday}

    # 08:00 in Moscow on the shop's own holiday: greetings wait for 10:00 there (07:00 UTC).
    clock = FakeClock(datetime(2026, 12, 1, 5, 0, tzinfo=UTC))
    await templates(services, clock).scan_dates()
    await templates(services, clock).scan_dates()  # another worker, or a restart
    first = await contact_messages(services, contact_ids["g0@example.com"])
    assert sorted(m.body for m in first) == [
        "Гость0, поздравляем: День магазина!",
        "Гость0, с днём рождения!",
    ]
    assert {m.next_attempt_at for m in first} == {datetime(2026, 12, 1, 7, 0, tzinfo=UTC)}
    (second,) = await contact_messages(services, contact_ids["g1@example.com"])
    assert second.body == "Гость1, поздравляем: День магазина!"
    # The next day is no holiday and nobody's birthday.
    clock.set(datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
    await templates(services, clock).scan_dates()
    assert len(await contact_messages(services, contact_ids["g1@example.com"])) == 1


def test_a_birthday_on_29_february_falls_on_the_28th_in_other_years() -> None:
    assert falls_on("2000-02-29", date(2027, 2, 28))
    assert not falls_on("2000-02-29", date(2028, 2, 28))
    assert falls_on("2000-02-29", date(2028, 2, 29))
    assert falls_on("1990-12-01T00:00:00", date(2026, 12, 1))
    assert not falls_on("не дата", date(2026, 12, 1))
    assert not falls_on(None, date(2026, 12, 1))
