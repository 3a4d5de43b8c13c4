"""A local SMTP server (aiosmtpd) scripted per test, and contacts written straight to the
database for the messages' tests."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from embedcrm.auth import Platform
from embedcrm.contacts.models import Contact
from embedcrm.db import Database

PLATFORM = Platform(key_id=uuid.uuid4())


@dataclass
class Received:
    raw: bytes
    sender: str
    recipients: list[str]

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


# Answers the DATA command of a message to these recipients with this reply, or None for "250".
DataScript = Callable[[list[str]], str | None]


@dataclass
class MailHandler:
    """Takes every message; ``of`` picks one test's from those of others still queued."""

    script: DataScript = lambda recipients: None
    received: list[Received] = field(default_factory=list)
    data_commands: int = 0

    def of(self, recipient: str) -> list[Received]:
        return [r for r in self.received if recipient in r.recipients]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_commands += 1
        reply = self.script(list(envelope.rcpt_tos))
        if reply is not None:
            return reply
        self.received.append(
            Received(
                raw=bytes(envelope.original_content),
                sender=envelope.mail_from,
                recipients=list(envelope.rcpt_tos),
            )
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server(script: DataScript = lambda recipients: None) -> Iterator[tuple[MailHandler, int]]:
    handler = MailHandler(script=script)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


async def add_contact(
    db: Database,
    workspace_id: uuid.UUID,
    *,
    name: str = "Анна Петрова",
    email: str | None = None,
    phone: str | None = "+79123456789",
) -> uuid.UUID:
    # Each test's own address: the dispatcher serves every workspace of the shared database.
    email = email or f"anna-{uuid.uuid4().hex[:12]}@example.com"
    async with db.transaction() as session:
        contact = Contact(
            workspace_id=workspace_id,
            id=uuid.uuid4(),
            name=name,
            email=email,
            email_normalized=email,
            phone=phone,
            phone_e164=phone,
        )
        session.add(contact)
        return contact.id
