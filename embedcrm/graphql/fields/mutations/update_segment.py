"""The update_segment mutation."""

from __future__ import annotations

from typing import Any

from embedcrm.graphql.contacts.inputs import contact_spec
from embedcrm.graphql.context import Info
from embedcrm.graphql.fields.inputs import SegmentPayload, UpdateSegmentInput
from embedcrm.graphql.fields.types import Segment
from embedcrm.graphql.leads.inputs import lead_spec
from embedcrm.graphql.support import as_payload, errors_payload, parse_id


async def resolve(info: Info, input: UpdateSegmentInput) -> SegmentPayload:
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
