"""E-mail over SMTP: the server from ``EMBEDCRM_SMTP_URL``, and ``send(job) -> Outcome``.

``smtp://user:pass@host:587`` upgrades with STARTTLS when the server offers it (``?starttls=
require`` refuses a server that does not, ``?starttls=off`` never asks), ``smtps://host:465``
speaks TLS from the first byte. Each message carries a ``Message-ID`` made from its id, the same
on every attempt, so a copy sent again after a crash is the same message to the mail systems.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from embedcrm.errors import ConfigurationError
from embedcrm.webhooks.jobs import Clock, Job, Outcome

# Header values are folded as encoded words and bodies sent as quoted-printable or base64,
# so any mail server takes them, 8BITMIME or not.
POLICY = SMTP.clone(cte_type="7bit")
# Mail servers' answers that mean "too much at once" or "not now": fewer at once, and retry.
BUSY_CODES = frozenset({421, 450, 451, 452})


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    # None: STARTTLS when offered; True: required; False: never.
    start_tls: bool | None
    sender: str
    timeout: float = 30.0

    @property
    def lane_key(self) -> uuid.UUID:
        """One lane for the server: its sending slots are shared by every workspace."""
        return uuid.uuid5(uuid.NAMESPACE_URL, f"smtp://{self.host}:{self.port}")

    @property
    def domain(self) -> str:
        return self.sender.rpartition("@")[2]


def parse_smtp_url(url: str, *, sender: str) -> SmtpServer:
    """The server of ``EMBEDCRM_SMTP_URL``; a mistake in it stops the start with its name."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigurationError(
            "EMBEDCRM_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465."
        )
    options = parse_qs(parts.query)
    starttls = (options.get("starttls") or ["auto"])[0].lower()
    if starttls not in ("auto", "require", "off"):
        raise ConfigurationError("EMBEDCRM_SMTP_URL: starttls is auto, require or off.")
    implicit = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if implicit else 587)
    except ValueError as exc:
        raise ConfigurationError(f"EMBEDCRM_SMTP_URL: {exc}.") from None
    if "@" not in sender:
        raise ConfigurationError("EMBEDCRM_SMTP_FROM must be an e-mail address.")
    return SmtpServer(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit,
        start_tls=None if implicit or starttls == "auto" else starttls == "require",
        sender=sender,
    )


@dataclass(frozen=True, kw_only=True)
class EmailJob(Job):
    """A claimed e-mail with everything needed to write and send it."""

    contact_id: uuid.UUID | None
    recipient: str
    subject: str
    body: str
    language: str
    shop_name: str


def compose(
    job: EmailJob,
    server: SmtpServer,
    *,
    unsubscribe_url: str | None,
    clock: Clock,
) -> EmailMessage:
    message = EmailMessage(policy=POLICY)
    message["From"] = Address(display_name=job.shop_name, addr_spec=server.sender)
    message["To"] = job.recipient
    message["Subject"] = job.subject
    message["Date"] = format_datetime(clock())
    message["Message-ID"] = f"<{job.delivery_id.hex}@{server.domain}>"
    if unsubscribe_url is not None:
        # RFC 8058: the mail client's one-click button POSTs to the address, no page between.
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(job.body)
    # After the content: setting it replaces every Content-* header.
    message["Content-Language"] = job.language
    return message


class SmtpTransport:
    """Hands each e-mail to the SMTP server, one connection per message."""

    def __init__(
        self,
        server: SmtpServer,
        *,
        clock: Clock,
        unsubscribe_url: Callable[[uuid.UUID, uuid.UUID], str],
    ) -> None:
        self.server = server
        self.clock = clock
        self.unsubscribe_url = unsubscribe_url

    async def send(self, job: EmailJob) -> Outcome:
        attempted_at = self.clock()
        outcome = Outcome(attempted_at=attempted_at)
        url = (
            self.unsubscribe_url(job.workspace_id, job.contact_id)
            if job.contact_id is not None
            else None
        )
        message = compose(job, self.server, unsubscribe_url=url, clock=self.clock)
        server = self.server
        started = time.monotonic()
        try:
            async with asyncio.timeout(server.timeout):
                await aiosmtplib.send(
                    message,
                    sender=server.sender,
                    recipients=[job.recipient],
                    hostname=server.host,
                    port=server.port,
                    username=server.username,
                    password=server.password,
                    use_tls=server.implicit_tls,
                    start_tls=server.start_tls,
                    timeout=server.timeout,
                )
            outcome.succeeded = True
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0] if exc.recipients else None
            code = refused.code if refused is not None else None
            outcome.status_code = code
            outcome.error = f"smtp: recipient refused: {refused or exc}"[:500]
            read_code(outcome, code)
        except aiosmtplib.SMTPResponseException as exc:
            outcome.status_code = exc.code
            outcome.error = f"smtp: {exc.code} {exc.message}"[:500]
            read_code(outcome, exc.code)
        except (aiosmtplib.SMTPTimeoutError, TimeoutError):
            outcome.error = "timeout: the mail server did not answer in time"
            outcome.overloaded = True
        except (aiosmtplib.SMTPException, OSError) as exc:
            outcome.error = f"connection: {type(exc).__name__}: {exc}"[:500]
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        return outcome


def read_code(outcome: Outcome, code: int | None) -> None:
    """A 5xx refuses this message for good; a 4xx is "not now"."""
    if code is None:
        return
    if 500 <= code < 600:
        outcome.rejected = True
    elif code in BUSY_CODES:
        outcome.overloaded = True


def smtp_server_of(
    smtp_url: str | None, smtp_from: str | None, public_url: str
) -> SmtpServer | None:
    """The configured server, or None when e-mail goes to the host's gateway instead."""
    if not smtp_url:
        return None
    sender = smtp_from or f"noreply@{urlsplit(public_url).hostname or 'localhost'}"
    return parse_smtp_url(smtp_url, sender=sender)
