"""The update_site mutation: a site's name, domains, language or phone region (the platform)."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import user_errors_in
from embedcrm.graphql.workspaces.inputs import UpdateSiteInput, UpdateSitePayload
from embedcrm.graphql.workspaces.types import site_type


@user_errors_in(UpdateSitePayload)
async def resolve(info: Info, input: UpdateSiteInput) -> UpdateSitePayload:
    site = parse_global_id(input.site_id, expected="Site", field="siteId")
    row = await info.context.services.workspaces.update_site(
        info.context.principal,
        site.workspace_id,
        site.row_id,
        name=input.name,
        domains=input.domains,
        language=input.language,
        phone_region=input.phone_region,
    )
    return UpdateSitePayload(site=site_type(info, row))
