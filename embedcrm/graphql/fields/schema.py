"""GraphQL queries and mutations of custom fields, tags and segments."""

from __future__ import annotations

from typing import Any

import strawberry

from embedcrm.contacts import models as contact_models
from embedcrm.errors import NotFound, ValidationFailed
from embedcrm.graphql.contacts.inputs import contact_spec
from embedcrm.graphql.contacts.types import Contact
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, DeleteInput, DeletePayload
from embedcrm.graphql.fields.inputs import (
    CreateCustomFieldInput,
    CreateSegmentInput,
    CustomFieldPayload,
    SegmentPayload,
    TagRecordsInput,
    TagRecordsPayload,
    UpdateCustomFieldInput,
    UpdateSegmentInput,
)
from embedcrm.graphql.fields.types import CustomField, Segment, Tag
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.leads.inputs import lead_spec
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.support import (
    DEFAULT_PAGE_SIZE,
    as_payload,
    connection,
    errors_payload,
    parse_id,
    workspace_arg,
)
from embedcrm.leads import models as lead_models


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
    @strawberry.mutation(
        description="Add and remove tags on many leads and contacts: all, or none."
    )
    async def tag_records(self, info: Info, input: TagRecordsInput) -> TagRecordsPayload:
        ctx = info.context

        async def call() -> tuple[list[lead_models.Lead], list[contact_models.Contact]]:
            if not input.ids:
                raise ValidationFailed("Name at least one lead or contact.", field="ids")
            gids = [parse_global_id(raw, field=f"ids[{i}]") for i, raw in enumerate(input.ids)]
            workspace = gids[0].workspace_id
            leads = [g.row_id for g in gids if g.type_name == "Lead"]
            contacts = [g.row_id for g in gids if g.type_name == "Contact"]
            for i, g in enumerate(gids):
                if g.type_name not in ("Lead", "Contact") or g.workspace_id != workspace:
                    raise NotFound("Nothing has this id.", field=f"ids[{i}]")
            return await ctx.services.tags.tag(
                ctx.principal,
                workspace,
                lead_ids=leads,
                contact_ids=contacts,
                add=input.add,
                remove=input.remove,
            )

        return await as_payload(
            call,
            lambda r: TagRecordsPayload(
                leads=[Lead.of(x) for x in r[0]], contacts=[Contact.of(x) for x in r[1]]
            ),
            errors_payload(TagRecordsPayload),
        )

    @strawberry.mutation
    async def delete_tag(self, info: Info, input: DeleteInput) -> DeletePayload:
        ctx = info.context

        async def call() -> strawberry.ID:
            gid = parse_id(input.id, "Tag")
            await ctx.services.tags.delete_tag(ctx.principal, gid.workspace_id, gid.row_id)
            return input.id

        return await as_payload(
            call, lambda i: DeletePayload(deleted_id=i), errors_payload(DeletePayload)
        )


@strawberry.type
class FieldMutation:
    @strawberry.mutation
    async def create_custom_field(
        self, info: Info, input: CreateCustomFieldInput
    ) -> CustomFieldPayload:
        ctx = info.context

        async def call() -> Any:
            workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
            return await ctx.services.fields.create(
                ctx.principal,
                workspace,
                entity=input.entity,
                key=input.key,
                label=input.label,
                type=input.type,
                options=input.options,
            )

        return await as_payload(
            call,
            lambda f: CustomFieldPayload(custom_field=CustomField.of(f)),
            errors_payload(CustomFieldPayload),
        )

    @strawberry.mutation
    async def update_custom_field(
        self, info: Info, input: UpdateCustomFieldInput
    ) -> CustomFieldPayload:
        ctx = info.context

        async def call() -> Any:
            gid = parse_id(input.id, "CustomField")
            return await ctx.services.fields.update(
                ctx.principal,
                gid.workspace_id,
                gid.row_id,
                label=input.label,
                options=input.options,
            )

        return await as_payload(
            call,
            lambda f: CustomFieldPayload(custom_field=CustomField.of(f)),
            errors_payload(CustomFieldPayload),
        )

    @strawberry.mutation(description="Delete a definition; the values stay on the records.")
    async def delete_custom_field(self, info: Info, input: DeleteInput) -> DeletePayload:
        ctx = info.context

        async def call() -> strawberry.ID:
            gid = parse_id(input.id, "CustomField")
            await ctx.services.fields.delete(ctx.principal, gid.workspace_id, gid.row_id)
            return input.id

        return await as_payload(
            call, lambda i: DeletePayload(deleted_id=i), errors_payload(DeletePayload)
        )

    @strawberry.mutation(
        description="Save a filter over leads (leadFilter) or contacts (contactFilter)."
    )
    async def create_segment(self, info: Info, input: CreateSegmentInput) -> SegmentPayload:
        ctx = info.context

        async def call() -> Any:
            workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
            if (input.lead_filter is None) == (input.contact_filter is None):
                raise ValidationFailed("Give a leadFilter or a contactFilter.", field="leadFilter")
            spec: Any = (
                lead_spec(input.lead_filter, workspace)
                if input.lead_filter is not None
                else contact_spec(input.contact_filter, workspace)
            )
            return await ctx.services.segments.create(
                ctx.principal, workspace, name=input.name, spec=spec
            )

        return await as_payload(
            call, lambda s: SegmentPayload(segment=Segment.of(s)), errors_payload(SegmentPayload)
        )

    @strawberry.mutation
    async def update_segment(self, info: Info, input: UpdateSegmentInput) -> SegmentPayload:
        ctx = info.context

        async def call() -> Any:
            gid = parse_id(input.id, "Segment")
            spec: Any = None
            if input.lead_filter is not None:
                spec = lead_spec(input.lead_filter, gid.workspace_id)
            elif input.contact_filter is not None:
                spec = contact_spec(input.contact_filter, gid.workspace_id)
            return await ctx.services.segments.update(
                ctx.principal, gid.workspace_id, gid.row_id, name=input.name, spec=spec
            )

        return await as_payload(
            call, lambda s: SegmentPayload(segment=Segment.of(s)), errors_payload(SegmentPayload)
        )

    @strawberry.mutation
    async def delete_segment(self, info: Info, input: DeleteInput) -> DeletePayload:
        ctx = info.context

        async def call() -> strawberry.ID:
            gid = parse_id(input.id, "Segment")
            await ctx.services.segments.delete(ctx.principal, gid.workspace_id, gid.row_id)
            return input.id

        return await as_payload(
            call, lambda i: DeletePayload(deleted_id=i), errors_payload(DeletePayload)
        )
