"""GraphQL types of one person's data: its export and its erasure."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Node, node_id
from embedcrm.graphql.ids import GlobalId
from embedcrm.graphql.nodes import loads_row
from embedcrm.privacy import models as privacy_models


@strawberry.type(description="What is left of an erased person: anonymous counts.")
class Erasure(Node):
    counts: JSON
    created_at: datetime

    @classmethod
    def of(cls, row: privacy_models.Erasure) -> Erasure:
        return cls(
            id=node_id("Erasure", row), counts=cast(JSON, row.counts), created_at=row.created_at
        )


@loads_row("Erasure", Erasure.of)
async def _erasure(info: Info, gid: GlobalId) -> privacy_models.Erasure | None:
    return await info.context.services.privacy.erasure(
        info.context.principal, gid.workspace_id, gid.row_id
    )
