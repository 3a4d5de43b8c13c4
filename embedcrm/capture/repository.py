"""SQL for raw submissions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.capture.models import Submission, SubmissionStatus
from embedcrm.db import hold_sqlite_write_lock
from embedcrm.kit.repository import WorkspaceRepository
from embedcrm.leads.ownership import own_lead_ids


class SubmissionRepository(WorkspaceRepository[Submission]):
    model = Submission

    def own_rows(self, stmt: Select[Submission], member_id: uuid.UUID) -> Select[Submission]:
        """A manager reads the submissions of the leads they see; what was held back or
        refused, and so made no lead, is the owner's to release."""
        return stmt.where(Submission.lead_id.in_(own_lead_ids(self.workspace_id, member_id)))

    async def get_for_update(self, row_id: uuid.UUID) -> Submission | None:
        """The row, locked until the transaction ends, so one submission is processed once."""
        await hold_sqlite_write_lock(self.session, Submission)
        result = await self.session.scalars(
            self.select().where(Submission.id == row_id).with_for_update()
        )
        return result.first()

    async def pending_for_update(self, row_ids: Sequence[uuid.UUID]) -> list[Submission]:
        """Those of the rows still waiting for their lead (RECEIVED, or FAILED before), oldest
        first, locked until the transaction ends so that each is processed once; locked in
        that order, as every batch locks them, so that two batches cannot deadlock."""
        await hold_sqlite_write_lock(self.session, Submission)
        result = await self.session.scalars(
            self.select()
            .where(
                Submission.id.in_(list(row_ids)),
                Submission.status.in_([SubmissionStatus.RECEIVED, SubmissionStatus.FAILED]),
            )
            .order_by(Submission.created_at, Submission.id)
            .with_for_update()
        )
        return list(result)

    def with_status(self, status: SubmissionStatus | None) -> Select[Submission]:
        """Submissions of one status; without one, all but the quarantined (they are shown
        only when asked for)."""
        if status is None:
            return self.select().where(Submission.status != SubmissionStatus.QUARANTINED)
        return self.select().where(Submission.status == status)

    async def payloads_of_all(self) -> AsyncIterator[tuple[uuid.UUID, uuid.UUID, Any]]:
        """(id, site_id, payload) of every submission of the workspace, streamed.

        For finding a person by what they typed, which takes the recognition and normalisation
        a lookup in SQL cannot do; only erasure and export read it.
        """
        result = await self.session.stream(
            select(Submission.id, Submission.site_id, Submission.payload)
            .where(Submission.workspace_id == self.workspace_id)
            .execution_options(yield_per=500)
        )
        async for row in result:
            yield row[0], row[1], row[2]

    async def by_client_id(
        self, site_id: uuid.UUID, client_submission_id: str
    ) -> Submission | None:
        result = await self.session.scalars(
            self.select().where(
                Submission.site_id == site_id,
                Submission.client_submission_id == client_submission_id,
            )
        )
        return result.first()

    def of_person(self, contact_id: uuid.UUID, lead_ids: Sequence[uuid.UUID]) -> Select[Submission]:
        return self.select().where(
            or_(Submission.contact_id == contact_id, Submission.lead_id.in_(list(lead_ids)))
        )

    async def erase_ids(self, ids: Sequence[uuid.UUID]) -> int:
        """Delete these submissions; answers how many."""
        result = await self.session.execute(
            delete(Submission).where(
                Submission.workspace_id == self.workspace_id, Submission.id.in_(list(ids))
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


async def unprocessed_submissions(
    session: AsyncSession, *, limit: int, received_before: datetime
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(workspace_id, id) of submissions to process again, oldest first, for the worker:
    those whose processing failed, and those received long ago and never processed."""
    rows = await session.execute(
        select(Submission.workspace_id, Submission.id)
        .where(
            or_(
                Submission.status == SubmissionStatus.FAILED,
                and_(
                    Submission.status == SubmissionStatus.RECEIVED,
                    Submission.created_at < received_before,
                ),
            )
        )
        .order_by(Submission.created_at)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in rows]


async def count_quarantined(session: AsyncSession) -> int:
    """Submissions in quarantine in every workspace: a range of the (status, created_at) index."""
    found = await session.scalar(
        select(func.count())
        .select_from(Submission)
        .where(Submission.status == SubmissionStatus.QUARANTINED)
    )
    return int(found or 0)
