"""Feedback's SQL: one workspace's answers."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, select

from embedcrm.feedback.models import FeedbackAnswer, FeedbackKind
from embedcrm.kit.repository import WorkspaceRepository
from embedcrm.workspaces.models import Workspace

# The report reads at most this many answers of one period.
REPORT_ROWS = 50_000


class FeedbackRepository(WorkspaceRepository[FeedbackAnswer]):
    model = FeedbackAnswer

    async def by_request(self, key: str) -> FeedbackAnswer | None:
        found: FeedbackAnswer | None = await self.session.scalar(
            self.select().where(FeedbackAnswer.request_key == key).with_for_update()
        )
        return found

    async def of_period(
        self, kind: FeedbackKind, start: datetime, end: datetime
    ) -> list[FeedbackAnswer]:
        stmt = (
            self.select()
            .where(
                FeedbackAnswer.kind == kind,
                FeedbackAnswer.created_at >= start,
                FeedbackAnswer.created_at < end,
            )
            .order_by(FeedbackAnswer.created_at.desc(), FeedbackAnswer.id.desc())
            .limit(REPORT_ROWS)
        )
        return list(await self.session.scalars(stmt))

    async def shop(self) -> tuple[str, str, str]:
        """The workspace's name, language and timezone."""
        row = (
            await self.session.execute(
                select(Workspace.name, Workspace.language, Workspace.timezone).where(
                    Workspace.id == self.workspace_id
                )
            )
        ).one()
        return str(row[0]), str(row[1] or "ru"), str(row[2])

    def of_contact_query(
        self, contact_id: uuid.UUID, lead_id: uuid.UUID | None
    ) -> Select[FeedbackAnswer]:
        stmt = self.select().where(FeedbackAnswer.contact_id == contact_id)
        if lead_id is not None:
            stmt = stmt.where(FeedbackAnswer.lead_id == lead_id)
        return stmt
