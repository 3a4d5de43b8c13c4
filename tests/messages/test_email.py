"""The e-mail channel end to end against a local SMTP server: the bytes of a message, retries
after SMTP failures, and a crash mid-send, with the dispatcher's clock moved by the test."""

from __future__ import annotations

import uuid
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
from messages_support import PLATFORM, add_contact, smtp_server
from sqlalchemy import select
from webhooks.webhook_support import FakeClock

from conftest import GraphQL
from embedcrm.errors import Conflict
from embedcrm.graphql.ids import parse_global_id
from embedcrm.messages.models import Message, MessageChannel, MessageStatus
from embedcrm.messages.outbound import email_dispatcher
from embedcrm.messages.service import MessageService
from embedcrm.messages.smtp import parse_smtp_url
from embedcrm.services import Services
from embedcrm.webhooks.dispatcher import DispatcherConfig
from embedcrm.webhooks.retry import RETRY_SCHEDULE
from factories import make_tenant

SUBJECT = "Ваш заказ №42 передан в доставку"
BODY = "Анна, здравствуйте!\nЗаказ №42 будет у вас в пятницу. Спасибо, что выбрали «Ромашку»."


def config() -> DispatcherConfig:
    return DispatcherConfig(concurrency=2, endpoint_concurrency=2, lease=timedelta(seconds=60))


async def workspace(platform: GraphQL) -> uuid.UUID:
    tenant = await make_tenant(platform)
    return parse_global_id(tenant.workspace_id).row_id


async def message_row(
    services: Services, workspace_id: uuid.UUID, message_id: uuid.UUID
) -> Message:
    async with services.db.transaction() as session:
        row = await session.get(Message, (workspace_id, message_id))
        assert row is not None
        session.expunge(row)
        return row


async def send_email(
    messages: MessageService,
    workspace_id: uuid.UUID,
    contact_id: uuid.UUID,
    *,
    subject: str = "Тема",
    body: str = "Текст",
) -> Message:
    return await messages.send_message(
        PLATFORM,
        workspace_id,
        contact_id=contact_id,
        channel=MessageChannel.EMAIL,
        subject=subject,
        body=body,
    )


def service(services: Services, clock: FakeClock) -> MessageService:
    return MessageService(services.db, services.messages.tokens, email_built_in=True, clock=clock)


async def test_an_email_carries_its_headers_unsubscribe_and_cyrillic_encoded(
    services: Services, platform: GraphQL
) -> None:
    clock = FakeClock()
    workspace_id = await workspace(platform)
    contact_id = await add_contact(services.db, workspace_id)
    with smtp_server() as (handler, port):
        server = parse_smtp_url(f"smtp://127.0.0.1:{port}", sender="shop@mail.example.com")
        message = await send_email(
            service(services, clock), workspace_id, contact_id, subject=SUBJECT, body=BODY
        )
        dispatcher = email_dispatcher(
            services.db,
            server,
            unsubscribe_url=services.messages.tokens.url,
            config=config(),
            clock=clock,
        )
        await dispatcher.run_until_idle()

    (received,) = handler.of(message.recipient)
    assert received.sender == "shop@mail.example.com"
    assert received.recipients == [message.recipient]
    # Every byte on the wire is ASCII: the Cyrillic travels encoded.
    received.raw.decode("ascii")
    raw_headers = received.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "=?utf-8?" in raw_headers.lower()
    email = received.message
    assert str(make_header(decode_header(email["Subject"]))) == SUBJECT
    assert email["From"].addresses[0].display_name == "Ромашка"
    assert email["From"].addresses[0].addr_spec == "shop@mail.example.com"
    assert email["To"] == message.recipient
    assert email["Message-ID"] == f"<{message.id.hex}@mail.example.com>"
    assert email["Content-Language"] == "ru"
    unsubscribe = email["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://crm.test/unsubscribe/") and unsubscribe.endswith(">")
    assert services.messages.tokens.read(unsubscribe[1:-1].rsplit("/", 1)[1]) == (
        workspace_id,
        contact_id,
    )
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.get_content_type() == "text/plain"
    assert email.get_content_charset() == "utf-8"
    assert email["Content-Transfer-Encoding"] in ("base64", "quoted-printable")
    # Text travels in MIME's canonical form, lines ending in CRLF.
    assert email.get_content().replace("\r\n", "\n").rstrip("\n") == BODY

    row = await message_row(services, workspace_id, message.id)
    assert row.status is MessageStatus.SENT
    assert row.attempt_count == 1
    assert row.sent_at == clock.now


async def test_an_smtp_failure_is_retried_and_a_refusal_is_not(
    services: Services, platform: GraphQL
) -> None:
    clock = FakeClock()
    workspace_id = await workspace(platform)
    contact_id = await add_contact(services.db, workspace_id)
    refused = await add_contact(services.db, workspace_id, email=f"nobody-{uuid.uuid4().hex}@x.ru")
    busy_answers = ["451 4.3.0 Mailbox busy, try again later"]

    def script(recipients: list[str]) -> str | None:
        # The first message to the busy contact waits; everything to nobody-… is refused.
        if recipients[0].startswith("nobody-"):
            return "550 5.1.1 No such user here"
        if recipients[0] == busy_recipient and busy_answers:
            return busy_answers.pop()
        return None

    messages = service(services, clock)
    with smtp_server(script) as (handler, port):
        server = parse_smtp_url(f"smtp://127.0.0.1:{port}", sender="shop@mail.example.com")
        dispatcher = email_dispatcher(
            services.db,
            server,
            unsubscribe_url=services.messages.tokens.url,
            config=config(),
            clock=clock,
            rng=None,
        )
        busy = await send_email(messages, workspace_id, contact_id)
        busy_recipient = busy.recipient
        await dispatcher.run_until_idle()
        row = await message_row(services, workspace_id, busy.id)
        assert row.status is MessageStatus.QUEUED
        assert row.attempt_count == 1
        assert row.last_error is not None and "451" in row.last_error
        assert row.next_attempt_at is not None
        wait = row.next_attempt_at - clock.now
        assert RETRY_SCHEDULE[0] * 0.9 <= wait <= RETRY_SCHEDULE[0] * 1.1
        assert handler.of(busy.recipient) == []

        bad = await send_email(messages, workspace_id, refused)
        await dispatcher.run_until_idle()
        row = await message_row(services, workspace_id, bad.id)
        assert row.status is MessageStatus.FAILED
        assert row.next_attempt_at is None
        assert row.last_error is not None and "550" in row.last_error

        clock.advance(RETRY_SCHEDULE[0] * 1.2)
        await dispatcher.run_until_idle()
    row = await message_row(services, workspace_id, busy.id)
    assert row.status is MessageStatus.SENT
    assert row.attempt_count == 2
    assert len(handler.of(busy.recipient)) == 1
    assert handler.of(bad.recipient) == []


async def test_a_server_that_is_down_is_tried_again_later(
    services: Services, platform: GraphQL
) -> None:
    clock = FakeClock()
    workspace_id = await workspace(platform)
    contact_id = await add_contact(services.db, workspace_id)
    messages = service(services, clock)
    message = await send_email(messages, workspace_id, contact_id)
    with smtp_server() as (_, port):
        pass  # the port is free again: nothing listens there now
    server = parse_smtp_url(f"smtp://127.0.0.1:{port}", sender="shop@mail.example.com")
    dispatcher = email_dispatcher(
        services.db,
        server,
        unsubscribe_url=services.messages.tokens.url,
        config=config(),
        clock=clock,
    )
    await dispatcher.run_until_idle()
    row = await message_row(services, workspace_id, message.id)
    assert row.status is MessageStatus.QUEUED
    assert row.last_error is not None and row.last_error.startswith("connection:")
    assert row.next_attempt_at is not None and row.next_attempt_at > clock.now


async def test_a_crash_mid_send_sends_once_more_with_the_same_message_id(
    services: Services, platform: GraphQL
) -> None:
    clock = FakeClock()
    workspace_id = await workspace(platform)
    contact_id = await add_contact(services.db, workspace_id)
    message = await send_email(
        service(services, clock), workspace_id, contact_id, subject=SUBJECT, body=BODY
    )
    with smtp_server() as (handler, port):
        server = parse_smtp_url(f"smtp://127.0.0.1:{port}", sender="shop@mail.example.com")

        def dispatcher_named(name: str):  # type: ignore[no-untyped-def]
            return email_dispatcher(
                services.db,
                server,
                unsubscribe_url=services.messages.tokens.url,
                config=config(),
                clock=clock,
                worker_id=name,
            )

        crashed = dispatcher_named("crashed")
        jobs = await crashed.claim(10)
        assert [job.delivery_id for job in jobs] == [message.id]
        # The mail server takes it, then the process dies before recording anything.
        outcome = await crashed.send(jobs[0])
        assert outcome.succeeded
        row = await message_row(services, workspace_id, message.id)
        assert row.status is MessageStatus.SENDING and row.lease_owner == "crashed"

        survivor = dispatcher_named("survivor")
        # Within the lease nobody else sends it.
        await survivor.run_until_idle()
        assert len(handler.of(message.recipient)) == 1
        clock.advance(timedelta(seconds=61))
        await survivor.run_until_idle()
        clock.advance(timedelta(days=4))
        await survivor.run_until_idle()

    copies = handler.of(message.recipient)
    assert len(copies) == 2
    ids = {received.message["Message-ID"] for received in copies}
    assert ids == {f"<{message.id.hex}@mail.example.com>"}
    row = await message_row(services, workspace_id, message.id)
    assert row.status is MessageStatus.SENT
    # The lost attempt counts, and so does the one that succeeded.
    assert row.attempt_count == 2


async def test_nothing_is_sent_to_a_contact_who_unsubscribed(
    services: Services, platform: GraphQL
) -> None:
    clock = FakeClock()
    workspace_id = await workspace(platform)
    contact_id = await add_contact(services.db, workspace_id)
    other = await add_contact(services.db, workspace_id)
    token = services.messages.tokens.token(workspace_id, contact_id)
    assert await services.messages.unsubscribe(token) == "ru"
    assert await services.messages.unsubscribe(token) == "ru"  # twice is fine
    with pytest.raises(Conflict, match="unsubscribed"):
        await send_email(service(services, clock), workspace_id, contact_id)
    sent = await send_email(service(services, clock), workspace_id, other)
    async with services.db.transaction() as session:
        rows = list(
            await session.scalars(select(Message).where(Message.workspace_id == workspace_id))
        )
    assert [row.id for row in rows] == [sent.id]
