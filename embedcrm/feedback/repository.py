"""Feedback's SQL: one workspace's answers."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, delete, select

from embedcrm.feedback.models import FeedbackAnswer, FeedbackKind
from embedcrm.kit.repository import Viewer, WorkspaceRepository
from embedcrm.leads.ownership import seen_contact_ids
from embedcrm.workspaces.models import Workspace

# The report reads at most this many answers of one period.
REPORT_ROWS = 50_000


class FeedbackRepository(WorkspaceRepository[FeedbackAnswer]):
    model = FeedbackAnswer

    def own_rows(
        self, stmt: Select[FeedbackAnswer], member_id: uuid.UUID
    ) -> Select[FeedbackAnswer]:
        """A manager reads the answers of the contacts they see, as on the contact's card."""
        return stmt.where(
            FeedbackAnswer.contact_id.in_(seen_contact_ids(self.workspace_id, member_id))
        )

    async def by_request(self, key: str) -> FeedbackAnswer | None:
        found: FeedbackAnswer | None = await self.session.scalar(
            self.select().where(FeedbackAnswer.request_key == key).with_for_update()
        )
        return found

    async def of_period(
        self, viewer: Viewer, kind: FeedbackKind, start: datetime, end: datetime
    ) -> list[FeedbackAnswer]:
        stmt = (
            self.readable(viewer)
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

    async def erase_of(self, contact_id: uuid.UUID) -> int:
        result = await self.session.execute(
            delete(FeedbackAnswer)
            .where(
                FeedbackAnswer.workspace_id == self.workspace_id,
                FeedbackAnswer.contact_id == contact_id,
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)
