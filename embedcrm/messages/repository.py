"""Messages' SQL: a workspace's messages and opt-outs, and the dispatcher's queue of e-mails."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, delete, func, literal, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.db import new_id
from embedcrm.kit.repository import WorkspaceRepository, earliest
from embedcrm.leads.ownership import seen_contact_ids
from embedcrm.messages.models import (
    Holiday,
    Message,
    MessageChannel,
    MessageOptOut,
    MessageStatus,
    MessageTemplate,
    TemplateTrigger,
)
from embedcrm.workspaces.models import Site, Workspace


def in_state(*states: MessageStatus) -> ColumnElement[bool]:
    """The status written into the SQL as literals, so the partial indexes serve the plan."""
    values = [literal(state.value, literal_execute=True) for state in states]
    return Message.status == values[0] if len(values) == 1 else Message.status.in_(values)


class MessageRepository(WorkspaceRepository[Message]):
    model = Message

    def own_rows(self, stmt: Select[Message], member_id: uuid.UUID) -> Select[Message]:
        """A manager reads the messages of the contacts they see, as on the contact's card;
        one to no contact (a member's alert) is not theirs to read."""
        return stmt.where(Message.contact_id.in_(seen_contact_ids(self.workspace_id, member_id)))

    def of_person(self, contact_id: uuid.UUID, lead_ids: Sequence[uuid.UUID]) -> Select[Message]:
        return (
            self.select()
            .where(or_(Message.contact_id == contact_id, Message.lead_id.in_(list(lead_ids))))
            .order_by(Message.created_at, Message.id)
        )

    async def erase_of_person(self, contact_id: uuid.UUID, lead_ids: Sequence[uuid.UUID]) -> int:
        result = await self.session.execute(
            delete(Message)
            .where(
                Message.workspace_id == self.workspace_id,
                or_(Message.contact_id == contact_id, Message.lead_id.in_(list(lead_ids))),
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def opt_out_of(self, contact_id: uuid.UUID) -> MessageOptOut | None:
        found: MessageOptOut | None = await self.session.get(
            MessageOptOut, (self.workspace_id, contact_id)
        )
        return found

    async def drop_opt_out(self, contact_id: uuid.UUID) -> MessageOptOut | None:
        """Remove the contact's opt-out; answers the one removed, if there was one."""
        row = await self.opt_out_of(contact_id)
        if row is not None:
            await self.session.delete(row)
            await self.session.flush()
        return row

    async def by_dedupe_key(self, key: str) -> Message | None:
        found: Message | None = await self.session.scalar(
            self.select().where(Message.dedupe_key == key)
        )
        return found

    async def opted_out(self, contact_id: uuid.UUID) -> bool:
        return await self.opt_out_of(contact_id) is not None

    async def opt_out(self, contact_id: uuid.UUID, *, now: datetime) -> bool:
        """Record the opt-out; False when it was already there."""
        if await self.opted_out(contact_id):
            return False
        self.session.add(
            MessageOptOut(workspace_id=self.workspace_id, contact_id=contact_id, created_at=now)
        )
        return True

    async def for_update(self, message_id: uuid.UUID) -> Message | None:
        found: Message | None = await self.session.get(
            Message, (self.workspace_id, message_id), with_for_update=True
        )
        return found

    async def language(self) -> str:
        value = await self.session.scalar(
            select(Workspace.language).where(Workspace.id == self.workspace_id)
        )
        return str(value or "ru")

    async def workspace(self) -> Workspace:
        found = await self.session.get(Workspace, self.workspace_id)
        assert found is not None  # the repository's workspace exists while it is used
        return found

    async def site_address(self, site_id: uuid.UUID) -> str | None:
        """The home page of a live site (its first domain), or None."""
        domains = await self.session.scalar(
            select(Site.domains).where(
                Site.workspace_id == self.workspace_id,
                Site.id == site_id,
                Site.deleted_at.is_(None),
            )
        )
        return home_page(domains or [])

    async def site_language(self, site_id: uuid.UUID) -> str | None:
        value = await self.session.scalar(
            select(Site.language).where(Site.workspace_id == self.workspace_id, Site.id == site_id)
        )
        return str(value) if value else None


class TemplateRepository(WorkspaceRepository[MessageTemplate]):
    model = MessageTemplate

    async def of_stage(self, stage_id: uuid.UUID) -> list[MessageTemplate]:
        stmt = self.select().where(
            MessageTemplate.stage_id == stage_id, MessageTemplate.active.is_(True)
        )
        return list(await self.session.scalars(stmt.order_by(MessageTemplate.created_at)))


class DueMessage(NamedTuple):
    """What a claim needs of a due e-mail, and what sending it needs."""

    workspace_id: uuid.UUID
    id: uuid.UUID
    contact_id: uuid.UUID | None
    recipient: str
    subject: str
    body: str
    language: str
    attempt_count: int
    shop_name: str


class MessageQueue:
    """The due e-mails of every workspace, as the dispatcher leases and records them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lease_due(
        self, now: datetime, limit: int, *, owner: str, until: datetime
    ) -> list[DueMessage]:
        due = (
            select(Message.workspace_id, Message.id)
            .where(
                in_state(MessageStatus.QUEUED),
                Message.next_attempt_at.is_not(None),
                Message.next_attempt_at <= now,
                Message.channel == MessageChannel.EMAIL,
            )
            .order_by(Message.next_attempt_at, Message.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Message)
            .correlate(None)
        )
        shop = select(Workspace.name).where(Workspace.id == Message.workspace_id).scalar_subquery()
        stmt = (
            update(Message)
            .where(tuple_(Message.workspace_id, Message.id).in_(due))
            .values(
                status=MessageStatus.SENDING,
                lease_owner=owner,
                lease_expires_at=until,
                updated_at=now,
            )
            .returning(
                Message.workspace_id,
                Message.id,
                Message.contact_id,
                Message.recipient,
                Message.subject,
                Message.body,
                Message.language,
                Message.attempt_count,
                shop,
            )
            .execution_options(synchronize_session=False)
        )
        return [DueMessage(*row) for row in await self.session.execute(stmt)]

    async def held_for_gateway(
        self, now: datetime, limit: int, *, email_built_in: bool
    ) -> list[Message]:
        """Messages held for the client's quiet hours whose time came, for the host's gateway."""
        stmt = select(Message).where(
            in_state(MessageStatus.QUEUED),
            Message.next_attempt_at.is_not(None),
            Message.next_attempt_at <= now,
        )
        if email_built_in:
            stmt = stmt.where(Message.channel != MessageChannel.EMAIL)
        stmt = stmt.order_by(Message.next_attempt_at, Message.id).limit(limit)
        return list(await self.session.scalars(stmt.with_for_update(skip_locked=True)))

    async def expired_leases(self, now: datetime, limit: int) -> list[Message]:
        stmt = (
            select(Message)
            .where(in_state(MessageStatus.SENDING), Message.lease_expires_at <= now)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(await self.session.scalars(stmt))

    async def sending_count(self) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).select_from(Message).where(in_state(MessageStatus.SENDING))
            )
            or 0
        )

    async def unlease(self, keys: Sequence[tuple[uuid.UUID, uuid.UUID]], *, now: datetime) -> None:
        if keys:
            await self.session.execute(
                update(Message)
                .where(tuple_(Message.workspace_id, Message.id).in_(list(keys)))
                .values(
                    status=MessageStatus.QUEUED,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )

    async def own_leases(self, owner: str) -> list[Message]:
        stmt = select(Message).where(in_state(MessageStatus.SENDING), Message.lease_owner == owner)
        return list(await self.session.scalars(stmt.with_for_update()))

    async def renew_leases(self, owner: str, *, until: datetime) -> int:
        result = await self.session.execute(
            update(Message)
            .where(in_state(MessageStatus.SENDING), Message.lease_owner == owner)
            .values(lease_expires_at=until)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def leased_to(
        self, owner: str, keys: Sequence[tuple[uuid.UUID, uuid.UUID]]
    ) -> list[Message]:
        """Those of ``keys`` that ``owner`` still holds, locked for the record."""
        if not keys:
            return []
        stmt = (
            select(Message)
            .where(
                tuple_(Message.workspace_id, Message.id).in_(list(keys)),
                in_state(MessageStatus.SENDING),
                Message.lease_owner == owner,
            )
            .with_for_update()
        )
        return list(await self.session.scalars(stmt))

    async def next_due_at(self) -> datetime | None:
        due = await self.session.scalar(
            select(func.min(Message.next_attempt_at)).where(
                in_state(MessageStatus.QUEUED), Message.next_attempt_at.is_not(None)
            )
        )
        lease = await self.session.scalar(
            select(func.min(Message.lease_expires_at)).where(in_state(MessageStatus.SENDING))
        )
        return earliest(due, lease)


class TriggerTemplates:
    """The active templates of a trigger across workspaces, for the worker's scans."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of(self, *triggers: TemplateTrigger, limit: int = 1000) -> list[MessageTemplate]:
        stmt = (
            select(MessageTemplate)
            .where(MessageTemplate.trigger.in_(triggers), MessageTemplate.active.is_(True))
            .order_by(MessageTemplate.workspace_id, MessageTemplate.created_at)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))


class HolidayRepository:
    """One workspace's holidays."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def all(self) -> list[Holiday]:
        stmt = (
            select(Holiday)
            .where(Holiday.workspace_id == self.workspace_id)
            .order_by(Holiday.month, Holiday.day)
        )
        return list(await self.session.scalars(stmt))

    async def replace(self, days: Sequence[tuple[int, int, str]]) -> None:
        await self.session.execute(delete(Holiday).where(Holiday.workspace_id == self.workspace_id))
        self.session.add_all(
            Holiday(workspace_id=self.workspace_id, id=new_id(), month=m, day=d, name=name)
            for m, d, name in days
        )


def home_page(domains: Sequence[str]) -> str | None:
    """The first domain a browser can open: a wildcard names no one page. Plain HTTP only for
    a loopback host, as a shop's site in development runs."""
    for domain in domains:
        if not domain.startswith("*."):
            host = domain.partition(":")[0]
            scheme = "http" if host in {"localhost", "127.0.0.1", "[::1]"} else "https"
            return f"{scheme}://{domain}/"
    return None
