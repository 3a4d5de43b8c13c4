"""GraphQL types of custom fields, tags and segments."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from embedcrm.contacts import models as contact_models
from embedcrm.fields import models as field_models
from embedcrm.graphql.batching import ready_or_load
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Node, node_id
from embedcrm.graphql.ids import GlobalId
from embedcrm.graphql.nodes import loads_row, loads_visible
from embedcrm.leads import models as lead_models

FieldEntity = strawberry.enum(field_models.FieldEntity, name="RecordKind")

FieldType = strawberry.enum(field_models.FieldType, name="CustomFieldType")


@strawberry.type
class Tag(Node):
    name: str

    @classmethod
    def of(cls, row: field_models.Tag) -> Tag:
        return cls(id=node_id("Tag", row), name=row.name)


@strawberry.type
class CustomField(Node):
    entity: FieldEntity  # type: ignore[valid-type]
    key: str
    label: str
    type: FieldType  # type: ignore[valid-type]
    options: list[str]

    @classmethod
    def of(cls, row: field_models.CustomFieldDefinition) -> CustomField:
        return cls(
            id=node_id("CustomField", row),
            entity=row.entity,
            key=row.key,
            label=row.label,
            type=row.type,
            options=list(row.options),
        )


@strawberry.type(description="A saved filter; its members are computed on every read.")
class Segment(Node):
    name: str
    entity: FieldEntity  # type: ignore[valid-type]
    filter: JSON
    created_at: datetime
    _row: strawberry.Private[field_models.Segment]

    @strawberry.field(description="How many records match right now.")
    async def count(self, info: Info) -> int:
        return await info.context.services.segments.count_members(info.context.principal, self._row)

    @classmethod
    def of(cls, row: field_models.Segment) -> Segment:
        return cls(
            id=node_id("Segment", row),
            name=row.name,
            entity=row.entity,
            filter=cast(JSON, row.filter),
            created_at=row.created_at,
            _row=row,
        )


def lead_tags(info: Info, row: lead_models.Lead | lead_models.LeadRecord) -> list[Tag]:
    """The lead's tags: at once when its list loaded them ahead, else through the loader
    (an awaitable, which strawberry awaits; hence the cast)."""
    return cast(
        "list[Tag]",
        ready_or_load(
            info.context.loaders.lead_tags,
            (row.workspace_id, row.id),
            lambda tags: [Tag.of(t) for t in tags or []],
        ),
    )


def contact_tags(
    info: Info, row: contact_models.Contact | contact_models.ContactRecord
) -> list[Tag]:
    """The contact's tags: at once when its list loaded them ahead, else through the loader
    (an awaitable, which strawberry awaits; hence the cast)."""
    return cast(
        "list[Tag]",
        ready_or_load(
            info.context.loaders.contact_tags,
            (row.workspace_id, row.id),
            lambda tags: [Tag.of(t) for t in tags or []],
        ),
    )


loads_visible("Segment", Segment.of, lambda s: s.segments.get)


@loads_row("Tag", Tag.of)
async def _tag(info: Info, gid: GlobalId) -> field_models.Tag | None:
    # The workspace's tags, like its fields below, are few and listed whole.
    tags = await info.context.services.tags.tags(info.context.principal, gid.workspace_id)
    return next((tag for tag in tags if tag.id == gid.row_id), None)


@loads_row("CustomField", CustomField.of)
async def _field(info: Info, gid: GlobalId) -> field_models.CustomFieldDefinition | None:
    fields = await info.context.services.fields.list(info.context.principal, gid.workspace_id)
    return next((f for f in fields if f.id == gid.row_id), None)
