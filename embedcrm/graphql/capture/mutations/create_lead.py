"""The create_lead mutation."""

from __future__ import annotations

from typing import Any, cast

from embedcrm.capture.person import person_from_fields
from embedcrm.graphql.capture.inputs import CreateLeadInput, CreateLeadPayload, SourceInput
from embedcrm.graphql.contacts.types import Contact
from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.support import optional_id, user_errors_in
from embedcrm.leads.service import Attribution
from embedcrm.workspaces.access import reader_workspace


@user_errors_in(CreateLeadPayload)
async def resolve(info: Info, input: CreateLeadInput) -> CreateLeadPayload:
    context = info.context
    workspace = parse_global_id(input.workspace_id, expected="Workspace", field="workspaceId")
    reader_workspace(context.principal, workspace.row_id, field="workspaceId")
    site = optional_id(input.site_id, "Site", "siteId")
    person = person_from_fields(
        {"name": input.name, "email": input.email, "phone": input.phone, "company": input.company},
        phone_region="RU",
    )
    source = input.source or SourceInput()
    created = await context.services.capture.create_lead_from_channel(
        workspace.row_id,
        person=person,
        attribution=Attribution(
            utm_source=source.utm_source,
            utm_medium=source.utm_medium,
            utm_campaign=source.utm_campaign,
            utm_term=source.utm_term,
            utm_content=source.utm_content,
            referrer=source.referrer,
            landing_page=source.landing_page,
        ),
        channel=input.channel.value,
        title=input.title,
        message=input.message,
        site_id=site.row_id if site else None,
        custom_fields=dict(cast(dict[str, Any], input.custom_fields or {})),
    )
    return CreateLeadPayload(lead=Lead.of(created.lead), contact=Contact.of(created.contact))
