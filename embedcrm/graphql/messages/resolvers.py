"""The bodies of the messages query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection
from embedcrm.graphql.messages.types import Message
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, connection, parse_id


async def messages(
    info: Info,
    contact_id: strawberry.ID,
    first: int = DEFAULT_PAGE_SIZE,
    after: str | None = None,
) -> Connection[Message]:
    ctx = info.context
    contact = parse_id(contact_id, "Contact", "contactId")
    service = ctx.services.messages
    page = await service.messages_of_contact(
        ctx.principal, contact.workspace_id, contact.row_id, first=first, after=after
    )
    return connection(
        page,
        Message.of,
        lambda: service.count_of_contact(ctx.principal, contact.workspace_id, contact.row_id),
    )
