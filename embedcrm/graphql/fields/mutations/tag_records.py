"""The tag_records mutation: add and remove tags on many leads and contacts: all, or none."""

from __future__ import annotations

from embedcrm.errors import NotFound, ValidationFailed
from embedcrm.graphql.contacts.types import Contact
from embedcrm.graphql.context import Info
from embedcrm.graphql.fields.inputs import TagRecordsInput, TagRecordsPayload
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.support import user_errors_in


@user_errors_in(TagRecordsPayload)
async def resolve(info: Info, input: TagRecordsInput) -> TagRecordsPayload:
    ctx = info.context
    if not input.ids:
        raise ValidationFailed("Name at least one lead or contact.", field="ids")
    gids = [parse_global_id(raw, field=f"ids[{i}]") for i, raw in enumerate(input.ids)]
    workspace = gids[0].workspace_id
    leads = [g.row_id for g in gids if g.type_name == "Lead"]
    contacts = [g.row_id for g in gids if g.type_name == "Contact"]
    for i, g in enumerate(gids):
        if g.type_name not in ("Lead", "Contact") or g.workspace_id != workspace:
            raise NotFound("Nothing has this id.", field=f"ids[{i}]")
    r = await ctx.services.tags.tag(
        ctx.principal,
        workspace,
        lead_ids=leads,
        contact_ids=contacts,
        add=input.add,
        remove=input.remove,
    )
    return TagRecordsPayload(
        leads=[Lead.of(x) for x in r[0]], contacts=[Contact.of(x) for x in r[1]]
    )
