"""The add_contact_point mutation: another e-mail or phone of a contact."""

from __future__ import annotations

from embedcrm.graphql.contacts.inputs import AddContactPointInput, ContactPayload
from embedcrm.graphql.contacts.types import Contact
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import parse_id, user_errors_in


@user_errors_in(ContactPayload)
async def resolve(info: Info, input: AddContactPointInput) -> ContactPayload:
    ctx = info.context
    gid = parse_id(input.contact_id, "Contact", "contactId")
    return ContactPayload(
        contact=Contact.of(
            await ctx.services.contact_points.add(
                ctx.principal,
                gid.workspace_id,
                gid.row_id,
                kind=input.kind,
                value=input.value,
                label=input.label,
                primary=input.primary,
            )
        )
    )
