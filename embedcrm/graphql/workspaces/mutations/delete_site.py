"""The delete_site mutation: the site stops answering visitors; its submissions and leads stay."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import user_errors_in
from embedcrm.graphql.workspaces.inputs import DeleteSiteInput, DeleteSitePayload


@user_errors_in(DeleteSitePayload)
async def resolve(info: Info, input: DeleteSiteInput) -> DeleteSitePayload:
    site = parse_global_id(input.site_id, expected="Site", field="siteId")
    await info.context.services.workspaces.delete_site(
        info.context.principal, site.workspace_id, site.row_id
    )
    return DeleteSitePayload(deleted_site_id=strawberry.ID(input.site_id))
