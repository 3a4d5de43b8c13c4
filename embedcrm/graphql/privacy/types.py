"""GraphQL types of one person's data: its export and its erasure."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from embedcrm.graphql.core import Node, node_id
from embedcrm.graphql.nodes import loads_visible
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


loads_visible("Erasure", Erasure.of, lambda s: s.privacy.erasure)
