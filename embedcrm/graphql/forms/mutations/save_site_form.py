"""The save_site_form mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.forms.inputs import SaveSiteFormInput, SaveSiteFormPayload, form_spec
from embedcrm.graphql.forms.types import SiteForm
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import user_errors_in


@user_errors_in(SaveSiteFormPayload)
async def resolve(info: Info, input: SaveSiteFormInput) -> SaveSiteFormPayload:
    context = info.context
    site = parse_global_id(input.site_id, expected="Site", field="siteId")
    return SaveSiteFormPayload(
        site_form=SiteForm.of(
            await context.services.forms.save(
                context.principal, site.workspace_id, site.row_id, form_spec(input)
            )
        )
    )
