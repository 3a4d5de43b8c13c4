"""The bodies of the privacy query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.scalars import JSON

from embedcrm.graphql.context import Info
from embedcrm.graphql.support import parse_id


async def personal_data(info: Info, contact_id: strawberry.ID) -> JSON:
    gid = parse_id(contact_id, "Contact", "contactId")
    data = await info.context.services.privacy.export_person(
        info.context.principal, gid.workspace_id, gid.row_id
    )
    return cast(JSON, data)
