"""The bodies of the forms query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.forms.types import SiteForm
from embedcrm.graphql.ids import parse_global_id


async def site_forms(info: Info, site_id: strawberry.ID) -> list[SiteForm]:
    site = parse_global_id(site_id, expected="Site", field="siteId")
    rows = await info.context.services.forms.site_forms(
        info.context.principal, site.workspace_id, site.row_id
    )
    return [SiteForm.of(row) for row in rows]
