"""The remove_contact_point mutation: an e-mail or phone goes; the primary one gives way to
the oldest other one."""

from __future__ import annotations

from embedcrm.graphql.contacts.inputs import ContactPayload
from embedcrm.graphql.contacts.types import Contact
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import DeleteInput
from embedcrm.graphql.support import parse_id, user_errors_in


@user_errors_in(ContactPayload)
async def resolve(info: Info, input: DeleteInput) -> ContactPayload:
    ctx = info.context
    gid = parse_id(input.id, "ContactPoint")
    return ContactPayload(
        contact=Contact.of(
            await ctx.services.contact_points.remove(ctx.principal, gid.workspace_id, gid.row_id)
        )
    )
