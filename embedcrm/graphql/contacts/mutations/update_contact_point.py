"""The update_contact_point mutation: relabel an e-mail or phone, or make it primary."""

from __future__ import annotations

from embedcrm.graphql.contacts.inputs import ContactPayload, UpdateContactPointInput
from embedcrm.graphql.contacts.types import Contact
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import given, parse_id, user_errors_in


@user_errors_in(ContactPayload)
async def resolve(info: Info, input: UpdateContactPointInput) -> ContactPayload:
    ctx = info.context
    gid = parse_id(input.id, "ContactPoint")
    return ContactPayload(
        contact=Contact.of(
            await ctx.services.contact_points.update(
                ctx.principal,
                gid.workspace_id,
                gid.row_id,
                given(label=input.label, primary=input.primary),
            )
        )
    )
