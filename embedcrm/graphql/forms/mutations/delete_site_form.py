"""The delete_site_form mutation: remove a site's form (the platform or an OWNER)."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.forms.inputs import DeleteSiteFormInput, DeleteSiteFormPayload
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import user_errors_in


@user_errors_in(DeleteSiteFormPayload)
async def resolve(info: Info, input: DeleteSiteFormInput) -> DeleteSiteFormPayload:
    context = info.context
    site = parse_global_id(input.site_id, expected="Site", field="siteId")
    return DeleteSiteFormPayload(
        deleted_key=(
            await context.services.forms.delete(
                context.principal, site.workspace_id, site.row_id, input.key
            )
        ).key
    )
