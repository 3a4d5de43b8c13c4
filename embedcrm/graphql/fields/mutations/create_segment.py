"""The create_segment mutation."""

from __future__ import annotations

from typing import Any

from embedcrm.errors import ValidationFailed
from embedcrm.graphql.contacts.inputs import contact_spec
from embedcrm.graphql.context import Info
from embedcrm.graphql.fields.inputs import CreateSegmentInput, SegmentPayload
from embedcrm.graphql.fields.types import Segment
from embedcrm.graphql.leads.inputs import lead_spec
from embedcrm.graphql.support import user_errors_in, workspace_arg


@user_errors_in(SegmentPayload)
async def resolve(info: Info, input: CreateSegmentInput) -> SegmentPayload:
    ctx = info.context
    workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
    if (input.lead_filter is None) == (input.contact_filter is None):
        raise ValidationFailed("Give a leadFilter or a contactFilter.", field="leadFilter")
    spec: Any = (
        lead_spec(input.lead_filter, workspace)
        if input.lead_filter is not None
        else contact_spec(input.contact_filter, workspace)
    )
    return SegmentPayload(
        segment=Segment.of(
            await ctx.services.segments.create(ctx.principal, workspace, name=input.name, spec=spec)
        )
    )
