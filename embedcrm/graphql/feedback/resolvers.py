"""The bodies of the feedback query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from embedcrm.feedback import models as feedback_models
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection
from embedcrm.graphql.feedback.types import FeedbackAnswer, FeedbackKind, FeedbackReport
from embedcrm.graphql.support import (
    DEFAULT_PAGE_SIZE,
    connection,
    parse_id,
    scoped_id,
    workspace_arg,
)
from embedcrm.kit.repository import Window


async def feedback_answers(
    info: Info,
    contact_id: strawberry.ID,
    lead_id: strawberry.ID | None = None,
    first: int | None = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[FeedbackAnswer]:
    ctx = info.context
    contact = parse_id(contact_id, "Contact", "contactId")
    workspace = contact.workspace_id
    lead = scoped_id(lead_id, "Lead", "leadId", workspace)
    service = ctx.services.feedback
    page = await service.answers_of(
        ctx.principal, workspace, contact.row_id, lead, window=Window(first, after, last, before)
    )
    return connection(
        page,
        FeedbackAnswer.of,
        lambda: service.count_of(ctx.principal, workspace, contact.row_id, lead),
    )


async def feedback_report(
    info: Info,
    kind: FeedbackKind,  # type: ignore[valid-type]
    from_: Annotated[datetime, strawberry.argument(name="from")],
    to: Annotated[datetime, strawberry.argument(description="Half-open: from ≤ t < to.")],
    workspace_id: strawberry.ID | None = None,
) -> FeedbackReport:
    ctx = info.context
    workspace = ctx.workspace_for(workspace_arg(workspace_id))
    report = await ctx.services.feedback.report(
        ctx.principal, workspace, feedback_models.FeedbackKind(kind), from_, to
    )
    return FeedbackReport.of(report, workspace)
