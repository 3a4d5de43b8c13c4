"""Messages: queueing one to a contact, what the host reports of it, and unsubscribing.

Every message is queued in the caller's transaction: an e-mail with the built-in SMTP waits for
the e-mail dispatcher (``outbound.py``), any other is handed to the host's gateway as the
``message.requested`` event in the same transaction. Nothing is sent to a contact who
unsubscribed, and a message with a dedupe key is made once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.contacts.service import (
    get_contact,
    require_contact_writer,
    sees_contact,
    surviving_contact,
)
from embedcrm.db import Database, utcnow
from embedcrm.errors import Conflict, Forbidden, NotFound, ValidationFailed
from embedcrm.kit.models import plain_row
from embedcrm.kit.repository import Page, Window
from embedcrm.leads.models import Activity, ActivityKind
from embedcrm.leads.moves import get_lead
from embedcrm.leads.service import add_activity
from embedcrm.messages.events import request_from_gateway
from embedcrm.messages.models import Message, MessageChannel, MessageStatus
from embedcrm.messages.repository import MessageQueue, MessageRepository
from embedcrm.messages.unsubscribe import UnsubscribeTokens
from embedcrm.privacy.service import DataSubject, PersonalData
from embedcrm.webhooks.jobs import Clock
from embedcrm.workspaces.access import load_actor, readable_row

LANGUAGES = ("ru", "en")
MAX_SUBJECT = 300
MAX_BODY = 20_000
# A host's report never takes a message back: DELIVERED stays when a late SENT arrives.
REPORT_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.FAILED: 2,
}


@dataclass(frozen=True)
class Outgoing:
    """A message to queue, as a trigger or a member wrote it."""

    channel: MessageChannel
    recipient: str
    subject: str
    body: str
    language: str
    template: str
    contact_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    dedupe_key: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    # Not before this moment (the end of the client's quiet hours); None: now.
    send_at: datetime | None = None


def check_text(subject: str, body: str, channel: MessageChannel) -> None:
    if len(subject) > MAX_SUBJECT:
        raise ValidationFailed(f"subject is at most {MAX_SUBJECT} characters.", field="subject")
    if channel is MessageChannel.EMAIL and not subject.strip():
        raise ValidationFailed("An e-mail needs a subject.", field="subject")
    if not body.strip():
        raise ValidationFailed("body is required.", field="body")
    if len(body) > MAX_BODY:
        raise ValidationFailed(f"body is at most {MAX_BODY} characters.", field="body")


async def queue_message(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    outgoing: Outgoing,
    *,
    email_built_in: bool,
    now: datetime,
) -> Message | None:
    """Queue ``outgoing`` in the caller's transaction; None when its contact unsubscribed.

    With a dedupe key already used, the message made then is answered and nothing is queued.
    """
    repo = MessageRepository(session, workspace_id)
    if outgoing.dedupe_key is not None:
        existing = await repo.by_dedupe_key(outgoing.dedupe_key)
        if existing is not None:
            return existing
    if outgoing.contact_id is not None and await repo.opted_out(outgoing.contact_id):
        return None
    ours = email_built_in and outgoing.channel is MessageChannel.EMAIL
    held = outgoing.send_at is not None and outgoing.send_at > now
    message = Message(
        id=uuid.uuid4(),
        contact_id=outgoing.contact_id,
        lead_id=outgoing.lead_id,
        channel=outgoing.channel,
        recipient=outgoing.recipient,
        template=outgoing.template,
        language=outgoing.language,
        subject=outgoing.subject,
        body=outgoing.body,
        dedupe_key=outgoing.dedupe_key,
        status=MessageStatus.QUEUED,
        attempt_count=0,
        next_attempt_at=outgoing.send_at if held else (now if ours else None),
        variables=dict(outgoing.variables),
        created_at=now,
        updated_at=now,
    )
    if outgoing.dedupe_key is None:
        repo.add(message)
    else:
        # Written now, in a savepoint: a second trigger in the same transaction finds it, and
        # another worker that made it a moment ago leaves this transaction whole.
        try:
            async with session.begin_nested():
                repo.add(message)
                await session.flush()
        except IntegrityError:
            made = await repo.by_dedupe_key(outgoing.dedupe_key)
            if made is None:
                raise
            return made
    if message.contact_id is not None:
        _on_timeline(session, workspace_id, message)
    if not ours and not held:
        await request_from_gateway(session, message, variables=outgoing.variables, now=now)
    return message


def _on_timeline(session: AsyncSession, workspace_id: uuid.UUID, message: Message) -> None:
    """Every message to a contact is an entry of their timeline (and its lead's); the entry
    names the message, whose status the timeline reads as it is now."""
    assert message.contact_id is not None
    add_activity(
        session,
        workspace_id,
        Activity(
            contact_id=message.contact_id,
            lead_id=message.lead_id,
            author_id=None,
            kind=ActivityKind.MESSAGE,
            body=message.subject or message.body[:MAX_SUBJECT],
            data={
                "message_id": str(message.id),
                "channel": message.channel.value,
                "template": message.template,
            },
            created_at=message.created_at,
        ),
    )


def recipient_of(
    contact_email: str | None, contact_phone: str | None, channel: MessageChannel
) -> str:
    if channel is MessageChannel.EMAIL:
        if not contact_email:
            raise ValidationFailed("This contact has no e-mail address.", field="contactId")
        return contact_email
    if not contact_phone:
        raise ValidationFailed("This contact has no phone number.", field="contactId")
    return contact_phone


class MessageService:
    def __init__(
        self,
        db: Database,
        tokens: UnsubscribeTokens,
        *,
        email_built_in: bool,
        clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.tokens = tokens
        self.email_built_in = email_built_in
        self.clock = clock

    async def send_message(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        contact_id: uuid.UUID,
        channel: MessageChannel,
        subject: str,
        body: str,
        lead_id: uuid.UUID | None = None,
        language: str | None = None,
    ) -> Message:
        """A message a member writes to one contact, sent as soon as its channel can."""
        check_text(subject, body, channel)
        if language is not None and language not in LANGUAGES:
            raise ValidationFailed("language is ru or en.", field="language")
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="contactId")
            contact = await get_contact(session, workspace_id, contact_id)
            require_contact_writer(actor, contact)
            if lead_id is not None:
                lead = await get_lead(session, workspace_id, lead_id)
                if lead.contact_id != contact.id:
                    raise ValidationFailed("This lead is another contact's.", field="leadId")
            repo = MessageRepository(session, workspace_id)
            message = await queue_message(
                session,
                workspace_id,
                Outgoing(
                    channel=channel,
                    recipient=recipient_of(contact.email, contact.phone_e164, channel),
                    subject=subject,
                    body=body,
                    language=language or await repo.language(),
                    template="manual",
                    contact_id=contact.id,
                    lead_id=lead_id,
                ),
                email_built_in=self.email_built_in,
                now=self.clock(),
            )
            if message is None:
                raise Conflict("This contact unsubscribed from messages.", field="contactId")
            return message

    async def report_status(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        message_id: uuid.UUID,
        *,
        status: MessageStatus,
        error: str | None = None,
    ) -> Message:
        """The host's gateway reports what became of a message it was asked to send.

        Reports may come twice or out of order; one that would take the message back (a late
        SENT after DELIVERED) changes nothing.
        """
        if status not in (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.FAILED):
            raise ValidationFailed("status is SENT, DELIVERED or FAILED.", field="status")
        if error is not None and len(error) > 500:
            raise ValidationFailed("error is at most 500 characters.", field="error")
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id)
            if actor.member_id is not None:
                raise Forbidden("Only the host's gateway reports what became of a message.")
            message = await MessageRepository(session, workspace_id).for_update(message_id)
            if message is None:
                raise NotFound("Nothing has this id.", field="id")
            if message.next_attempt_at is not None or message.status is MessageStatus.SENDING:
                raise Conflict(
                    "The CRM sends this message itself; it is not the gateway's to report.",
                    field="id",
                )
            if REPORT_RANK[status] <= REPORT_RANK[message.status]:
                return message
            now = self.clock()
            message.status = status
            message.updated_at = now
            if status is MessageStatus.FAILED:
                message.last_error = error or "reported failed by the gateway"
            else:
                message.sent_at = message.sent_at or now
                message.last_error = None
            if status is MessageStatus.DELIVERED:
                message.delivered_at = now
            return message

    async def messages_of_contact(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        contact_id: uuid.UUID,
        *,
        window: Window,
    ) -> Page[Message]:
        async with self.db.transaction() as session:
            if not await sees_contact(session, principal, workspace_id, contact_id):
                return Page(rows=[], has_next=False)
            repo = MessageRepository(session, workspace_id)
            return await repo.newest_first(
                repo.select().where(Message.contact_id == contact_id), window=window
            )

    async def messages_by_id(
        self, workspace_id: uuid.UUID, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, Message]:
        """Messages the caller has already reached through a timeline entry it reads."""
        async with self.db.transaction() as session:
            return await MessageRepository(session, workspace_id).get_many(ids)

    async def visible_message(
        self, principal: Principal, workspace_id: uuid.UUID, message_id: uuid.UUID
    ) -> Message | None:
        """A message, if the caller sees its contact (as ``messages_of_contact`` lists them);
        one to nobody's contact is for those who see every contact."""
        return await readable_row(self.db, principal, MessageRepository, workspace_id, message_id)

    async def release_held(self, *, limit: int = 500) -> int:
        """Hand the host's gateway the messages held for quiet hours whose time came."""
        now = self.clock()
        async with self.db.transaction() as session:
            held = await MessageQueue(session).held_for_gateway(
                now, limit, email_built_in=self.email_built_in
            )
            for message in held:
                message.next_attempt_at = None
                message.updated_at = now
                await request_from_gateway(session, message, variables=message.variables, now=now)
            return len(held)

    async def count_of_contact(
        self, principal: Principal, workspace_id: uuid.UUID, contact_id: uuid.UUID
    ) -> int:
        async with self.db.transaction() as session:
            if not await sees_contact(session, principal, workspace_id, contact_id):
                return 0
            repo = MessageRepository(session, workspace_id)
            return await repo.count(repo.select().where(Message.contact_id == contact_id))

    async def unsubscribe_language(self, token: str) -> str:
        """The shop's language for the unsubscribe page; the token must be valid."""
        workspace_id, _ = self.tokens.read(token)
        async with self.db.transaction() as session:
            return await MessageRepository(session, workspace_id).language()

    async def unsubscribe(self, token: str) -> str:
        """Record the opt-out the link names (again is fine); answers the shop's language."""
        workspace_id, contact_id = self.tokens.read(token)
        async with self.db.transaction() as session:
            repo = MessageRepository(session, workspace_id)
            # The link may predate a merge: the person is the contact they were merged into.
            contact = await surviving_contact(session, workspace_id, contact_id)
            if contact is not None:
                await repo.opt_out(contact.id, now=self.clock())
            # Otherwise erased since: there is nobody left to write to.
            return await repo.language()


# What other domains do to a contact's messages inside their own transaction.


async def move_contact_messages(
    session: AsyncSession, workspace_id: uuid.UUID, source: uuid.UUID, target: uuid.UUID
) -> dict[str, Any]:
    """A merge: ``target`` gets the messages of ``source``, and its opt-out: the person said
    no under either name. Answers what moved, for ``give_back_messages``."""
    repo = MessageRepository(session, workspace_id)
    moved: dict[str, Any] = {"messages": await repo.move_contact(source, target)}
    opt_out = await repo.drop_opt_out(source)
    if opt_out is not None:
        moved["opt_out_at"] = opt_out.created_at.isoformat()
        moved["opt_out_added"] = await repo.opt_out(target, now=opt_out.created_at)
    return moved


async def give_back_messages(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    moved: Mapping[str, Any],
    *,
    kept_id: uuid.UUID,
    restored_id: uuid.UUID,
) -> None:
    """An undone merge: the messages and the opt-out it moved go back to the restored contact;
    the kept contact loses an opt-out only when the merge gave it."""
    repo = MessageRepository(session, workspace_id)
    await repo.set_contact([uuid.UUID(i) for i in moved.get("messages", [])], restored_id)
    if "opt_out_at" in moved:
        if moved.get("opt_out_added"):
            await repo.drop_opt_out(kept_id)
        await repo.opt_out(restored_id, now=datetime.fromisoformat(moved["opt_out_at"]))


MESSAGE_COLUMNS = ["id", "channel", "recipient", "subject", "body", "status", "created_at"]


async def _export_person(session: AsyncSession, person: DataSubject) -> dict[str, Any]:
    repo = MessageRepository(session, person.workspace_id)
    messages = await session.scalars(repo.of_person(person.contact_id, person.lead_ids))
    opt_out = await repo.opt_out_of(person.contact_id)
    return {
        "messages": [plain_row(m, MESSAGE_COLUMNS) for m in messages],
        "opt_outs": [] if opt_out is None else [{"created_at": opt_out.created_at.isoformat()}],
    }


async def _erase_person(session: AsyncSession, person: DataSubject) -> dict[str, Any]:
    # What was sent to the person, and their opt-out, go; the erasure record keeps counts.
    repo = MessageRepository(session, person.workspace_id)
    erased = await repo.erase_of_person(person.contact_id, person.lead_ids)
    opt_out = await repo.drop_opt_out(person.contact_id)
    return {"messages": erased, "opt_outs": 0 if opt_out is None else 1}


# A person's messages and opt-out, in their data export and out with their erasure.
PERSONAL_MESSAGES = PersonalData(export=_export_person, erase=_erase_person)
