"""The bodies of the messages query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection
from embedcrm.graphql.messages.types import (
    Holiday,
    Message,
    MessagePreview,
    MessageTemplate,
    MessageVariable,
)
from embedcrm.graphql.support import (
    DEFAULT_PAGE_SIZE,
    connection,
    parse_id,
    scoped_id,
    workspace_arg,
)
from embedcrm.kit.repository import Window
from embedcrm.messages.templates import VARIABLES


async def messages(
    info: Info,
    contact_id: strawberry.ID,
    first: int | None = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Message]:
    ctx = info.context
    contact = parse_id(contact_id, "Contact", "contactId")
    service = ctx.services.messages
    page = await service.messages_of_contact(
        ctx.principal,
        contact.workspace_id,
        contact.row_id,
        window=Window(first, after, last, before),
    )
    return connection(
        page,
        Message.of,
        lambda: service.count_of_contact(ctx.principal, contact.workspace_id, contact.row_id),
    )


async def message_templates(
    info: Info,
    first: int | None = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    workspace_id: strawberry.ID | None = None,
) -> Connection[MessageTemplate]:
    ctx = info.context
    workspace = ctx.workspace_for(workspace_arg(workspace_id))
    service = ctx.services.templates
    page = await service.page(ctx.principal, workspace, window=Window(first, after, last, before))
    return connection(page, MessageTemplate.of, lambda: service.count(ctx.principal, workspace))


async def preview_message(
    info: Info,
    template_id: strawberry.ID,
    contact_id: strawberry.ID,
    lead_id: strawberry.ID | None = None,
) -> MessagePreview:
    ctx = info.context
    template = parse_id(template_id, "MessageTemplate", "templateId")
    workspace = template.workspace_id
    contact = scoped_id(contact_id, "Contact", "contactId", workspace)
    assert contact is not None
    rendered = await ctx.services.templates.preview(
        ctx.principal,
        workspace,
        template.row_id,
        contact,
        scoped_id(lead_id, "Lead", "leadId", workspace),
    )
    return MessagePreview(
        subject=rendered.subject,
        body=rendered.body,
        language=rendered.language,
        recipient=rendered.recipient,
        send_at=rendered.send_at,
    )


def message_variables() -> list[MessageVariable]:
    return [MessageVariable(name=name, description=text) for name, text in VARIABLES.items()]


def holiday_types(days: list[tuple[int, int, str]]) -> list[Holiday]:
    return [Holiday(date=f"{month:02d}-{day:02d}", name=name) for month, day, name in days]


async def holidays(info: Info, workspace_id: strawberry.ID | None = None) -> list[Holiday]:
    ctx = info.context
    workspace = ctx.workspace_for(workspace_arg(workspace_id))
    return holiday_types(await ctx.services.templates.holidays(ctx.principal, workspace))
