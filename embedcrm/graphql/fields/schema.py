"""GraphQL queries and mutations of custom fields, tags and segments."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.fields import mutations, resolvers
from embedcrm.graphql.permissions import OwnerOnly, WritersOnly


@strawberry.type
class FieldQuery:
    custom_fields = strawberry.field(resolver=resolvers.custom_fields)

    tags = strawberry.field(resolver=resolvers.tags)

    segments = strawberry.field(
        resolver=resolvers.segments, description="Saved segments, newest first."
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
