"""The add_activity mutation: a note, call, e-mail, meeting or message on a timeline."""

from __future__ import annotations

from embedcrm.errors import ValidationFailed
from embedcrm.graphql.context import Info
from embedcrm.graphql.leads.inputs import ActivityPayload, AddActivityInput
from embedcrm.graphql.leads.types import Activity
from embedcrm.graphql.support import parse_id, user_errors_in


@user_errors_in(ActivityPayload)
async def resolve(info: Info, input: AddActivityInput) -> ActivityPayload:
    ctx = info.context
    if input.lead_id is not None:
        owner = parse_id(input.lead_id, "Lead", "leadId")
    elif input.contact_id is not None:
        owner = parse_id(input.contact_id, "Contact", "contactId")
    else:
        raise ValidationFailed("Name a lead or a contact.", field="leadId")
    lead = owner.row_id if owner.type_name == "Lead" else None
    contact = owner.row_id if owner.type_name == "Contact" else None
    if input.data is not None and (not isinstance(input.data, dict)):
        raise ValidationFailed("data is an object.", field="data")
    return ActivityPayload(
        activity=Activity.of(
            await ctx.services.leads.add_activity(
                ctx.principal,
                owner.workspace_id,
                lead_id=lead,
                contact_id=contact,
                kind=input.kind,
                body=input.body,
                occurred_at=input.occurred_at,
                data=input.data or {},
            )
        )
    )
