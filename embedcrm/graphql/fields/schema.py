"""GraphQL queries and mutations of custom fields, tags and segments."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection
from embedcrm.graphql.fields import mutations
from embedcrm.graphql.fields.types import CustomField, Segment, Tag
from embedcrm.graphql.permissions import OwnerOnly, WritersOnly
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, connection, workspace_arg


@strawberry.type
class FieldQuery:
    @strawberry.field
    async def custom_fields(
        self, info: Info, workspace_id: strawberry.ID | None = None
    ) -> list[CustomField]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        rows = await info.context.services.fields.list(info.context.principal, workspace)
        return [CustomField.of(r) for r in rows]

    @strawberry.field
    async def tags(self, info: Info, workspace_id: strawberry.ID | None = None) -> list[Tag]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        rows = await info.context.services.tags.tags(info.context.principal, workspace)
        return [Tag.of(r) for r in rows]

    @strawberry.field(description="Saved segments, newest first.")
    async def segments(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> Connection[Segment]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        service = info.context.services.segments
        page = await service.page(info.context.principal, workspace, first=first, after=after)
        return connection(
            page, Segment.of, lambda: service.count_all(info.context.principal, workspace)
        )


@strawberry.type
class TagMutation:
    tag_records = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.tag_records.resolve,
        description="Add and remove tags on many leads and contacts: all, or none.",
    )

    delete_tag = strawberry.mutation(
        permission_classes=[OwnerOnly], resolver=mutations.delete_tag.resolve
    )


@strawberry.type
class FieldMutation:
    create_custom_field = strawberry.mutation(
        permission_classes=[OwnerOnly], resolver=mutations.create_custom_field.resolve
    )

    update_custom_field = strawberry.mutation(
        permission_classes=[OwnerOnly], resolver=mutations.update_custom_field.resolve
    )

    delete_custom_field = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.delete_custom_field.resolve,
        description="Delete a definition; the values stay on the records.",
    )

    create_segment = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.create_segment.resolve,
        description="Save a filter over leads (leadFilter) or contacts (contactFilter).",
    )

    update_segment = strawberry.mutation(
        permission_classes=[WritersOnly], resolver=mutations.update_segment.resolve
    )

    delete_segment = strawberry.mutation(
        permission_classes=[WritersOnly], resolver=mutations.delete_segment.resolve
    )
