"""The update_segment mutation."""

from __future__ import annotations

from typing import Any

from embedcrm.graphql.contacts.inputs import contact_spec
from embedcrm.graphql.context import Info
from embedcrm.graphql.fields.inputs import SegmentPayload, UpdateSegmentInput
from embedcrm.graphql.fields.types import Segment
from embedcrm.graphql.leads.inputs import lead_spec
from embedcrm.graphql.support import parse_id, user_errors_in


@user_errors_in(SegmentPayload)
async def resolve(info: Info, input: UpdateSegmentInput) -> SegmentPayload:
    ctx = info.context
    gid = parse_id(input.id, "Segment")
    spec: Any = None
    if input.lead_filter is not None:
        spec = lead_spec(input.lead_filter, gid.workspace_id)
    elif input.contact_filter is not None:
        spec = contact_spec(input.contact_filter, gid.workspace_id)
    return SegmentPayload(
        segment=Segment.of(
            await ctx.services.segments.update(
                ctx.principal, gid.workspace_id, gid.row_id, name=input.name, spec=spec
            )
        )
    )
