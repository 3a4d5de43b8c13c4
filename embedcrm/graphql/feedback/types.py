"""GraphQL types of the clients' feedback and its report."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from embedcrm.feedback import models as feedback_models
from embedcrm.feedback.service import Report, Score
from embedcrm.graphql.core import Node, node_id
from embedcrm.graphql.ids import to_global_id
from embedcrm.graphql.nodes import loads_visible

FeedbackKind = strawberry.enum(
    feedback_models.FeedbackKind,
    name="FeedbackKind",
    description="NPS: 0-10, how likely to recommend; CSAT: 1-5, how satisfied.",
)


@strawberry.type
class FeedbackAnswer(Node):
    kind: FeedbackKind  # type: ignore[valid-type]
    score: int
    comment: str | None
    contact_id: strawberry.ID
    lead_id: strawberry.ID | None
    manager_id: strawberry.ID | None
    source: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: feedback_models.FeedbackAnswer) -> FeedbackAnswer:
        ws = row.workspace_id
        return cls(
            id=node_id("FeedbackAnswer", row),
            kind=row.kind,
            score=row.score,
            comment=row.comment,
            contact_id=strawberry.ID(to_global_id("Contact", ws, row.contact_id)),
            lead_id=strawberry.ID(to_global_id("Lead", ws, row.lead_id)) if row.lead_id else None,
            manager_id=(
                strawberry.ID(to_global_id("Member", ws, row.manager_id))
                if row.manager_id
                else None
            ),
            source=row.source,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type
class FeedbackScore:
    key: str | None = strawberry.field(
        description="The month (YYYY-MM), the manager's id, or the source; null: none."
    )
    count: int
    average: float | None
    nps: int | None = strawberry.field(
        description="For NPS: promoters (9-10) less detractors (0-6), in per cent."
    )

    @classmethod
    def of(
        cls, score: Score, *, kind: feedback_models.FeedbackKind, key: str | None
    ) -> FeedbackScore:
        return cls(
            key=key,
            count=score.count,
            average=score.average,
            nps=score.nps if kind is feedback_models.FeedbackKind.NPS else None,
        )


@strawberry.type
class FeedbackReport:
    kind: FeedbackKind  # type: ignore[valid-type]
    overall: FeedbackScore
    by_month: list[FeedbackScore]
    by_manager: list[FeedbackScore]
    by_source: list[FeedbackScore]
    comments: list[FeedbackAnswer] = strawberry.field(description="The latest 50 with a comment.")

    @classmethod
    def of(cls, report: Report, workspace_id: uuid.UUID) -> FeedbackReport:
        kind = report.kind

        def manager_key(key: str | None) -> str | None:
            return None if key is None else to_global_id("Member", workspace_id, uuid.UUID(key))

        return cls(
            kind=kind,
            overall=FeedbackScore.of(report.overall, kind=kind, key=None),
            by_month=[FeedbackScore.of(s, kind=kind, key=s.key) for s in report.by_month],
            by_manager=[
                FeedbackScore.of(s, kind=kind, key=manager_key(s.key)) for s in report.by_manager
            ],
            by_source=[FeedbackScore.of(s, kind=kind, key=s.key) for s in report.by_source],
            comments=[FeedbackAnswer.of(row) for row in report.comments],
        )


loads_visible("FeedbackAnswer", FeedbackAnswer.of, lambda s: s.feedback.visible_answer)
