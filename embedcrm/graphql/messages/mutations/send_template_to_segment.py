"""The send_template_to_segment mutation: a one-off offer to every contact of a segment."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.messages.inputs import (
    SendTemplateToSegmentInput,
    SendTemplateToSegmentPayload,
)
from embedcrm.graphql.support import parse_id, scoped_id, user_errors_in


@user_errors_in(SendTemplateToSegmentPayload)
async def resolve(info: Info, input: SendTemplateToSegmentInput) -> SendTemplateToSegmentPayload:
    ctx = info.context
    template = parse_id(input.template_id, "MessageTemplate", "templateId")
    workspace = template.workspace_id
    segment = scoped_id(input.segment_id, "Segment", "segmentId", workspace)
    assert segment is not None
    sent = await ctx.services.templates.send_to_segment(
        ctx.principal, workspace, template.row_id, segment, send_key=input.send_key
    )
    return SendTemplateToSegmentPayload(queued=sent.queued, skipped=sent.skipped)
