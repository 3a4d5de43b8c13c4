"""The update_contact mutation: details, personal manager and custom fields of a contact."""

from __future__ import annotations

from typing import Any

from embedcrm.graphql.contacts.inputs import ContactPayload, UpdateContactInput
from embedcrm.graphql.contacts.types import Contact
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import (
    UNSET,
    given,
    parse_id,
    required_id,
    user_errors_in,
)


@user_errors_in(ContactPayload)
async def resolve(info: Info, input: UpdateContactInput) -> ContactPayload:
    ctx = info.context
    gid = parse_id(input.id, "Contact")
    manager: Any = input.manager_id
    if manager not in (UNSET, None):
        manager = required_id(manager, "Member", "managerId", gid.workspace_id)
    changes = given(
        name=input.name,
        email=input.email,
        phone=input.phone,
        company=input.company,
        manager_id=manager,
        custom_fields=input.custom_fields,
    )
    return ContactPayload(
        contact=Contact.of(
            await ctx.services.contacts.update_contact(
                ctx.principal, gid.workspace_id, gid.row_id, changes
            )
        )
    )
