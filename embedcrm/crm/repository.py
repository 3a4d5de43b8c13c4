"""SQL for the CRM core, every repository bound to one workspace."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, and_, or_, update

from embedcrm.crm.models import (
    Activity,
    Contact,
    Lead,
    LeadStatus,
    MergeProposal,
    MergeProposalStatus,
    Pipeline,
    Stage,
    Task,
)
from embedcrm.repository import WorkspaceRepository


class PipelineRepository(WorkspaceRepository[Pipeline]):
    model = Pipeline

    async def default(self) -> Pipeline | None:
        result = await self.session.scalars(
            self.select().where(Pipeline.is_default.is_(True)).limit(1)
        )
        return result.first()


class StageRepository(WorkspaceRepository[Stage]):
    model = Stage

    async def first_of(self, pipeline_id: uuid.UUID) -> Stage | None:
        result = await self.session.scalars(
            self.select().where(Stage.pipeline_id == pipeline_id).order_by(Stage.position).limit(1)
        )
        return result.first()


class ContactRepository(WorkspaceRepository[Contact]):
    model = Contact

    async def by_email(self, email_normalized: str) -> Contact | None:
        result = await self.session.scalars(
            self.select()
            .where(Contact.email_normalized == email_normalized)
            .order_by(Contact.created_at)
            .limit(1)
        )
        return result.first()

    async def by_phone(self, phone_e164: str) -> Contact | None:
        result = await self.session.scalars(
            self.select()
            .where(Contact.phone_e164 == phone_e164)
            .order_by(Contact.created_at)
            .limit(1)
        )
        return result.first()


class LeadRepository(WorkspaceRepository[Lead]):
    model = Lead

    def filtered(
        self,
        *,
        site_id: uuid.UUID | None = None,
        status: LeadStatus | None = None,
        stage_id: uuid.UUID | None = None,
        assignee_id: uuid.UUID | None = None,
        contact_id: uuid.UUID | None = None,
        utm_source: str | None = None,
        utm_medium: str | None = None,
        utm_campaign: str | None = None,
    ) -> Select[Lead]:
        stmt = self.select()
        if site_id is not None:
            stmt = stmt.where(Lead.site_id == site_id)
        if status is not None:
            stmt = stmt.where(Lead.status == status)
        if stage_id is not None:
            stmt = stmt.where(Lead.stage_id == stage_id)
        if assignee_id is not None:
            stmt = stmt.where(Lead.assignee_id == assignee_id)
        if contact_id is not None:
            stmt = stmt.where(Lead.contact_id == contact_id)
        if utm_source is not None:
            stmt = stmt.where(Lead.utm_source == utm_source)
        if utm_medium is not None:
            stmt = stmt.where(Lead.utm_medium == utm_medium)
        if utm_campaign is not None:
            stmt = stmt.where(Lead.utm_campaign == utm_campaign)
        return stmt

    async def next_event_sequence(self, lead_id: uuid.UUID) -> int:
        """Take the next webhook sequence number of a lead inside the caller's transaction."""
        result = await self.session.execute(
            update(Lead)
            .where(Lead.workspace_id == self.workspace_id, Lead.id == lead_id)
            .values(event_sequence=Lead.event_sequence + 1)
            .returning(Lead.event_sequence)
        )
        return int(result.scalar_one())


class ActivityRepository(WorkspaceRepository[Activity]):
    model = Activity


class TaskRepository(WorkspaceRepository[Task]):
    model = Task


class MergeProposalRepository(WorkspaceRepository[MergeProposal]):
    model = MergeProposal

    async def open_between(self, a: uuid.UUID, b: uuid.UUID) -> MergeProposal | None:
        result = await self.session.scalars(
            self.select().where(
                MergeProposal.status == MergeProposalStatus.OPEN,
                or_(
                    and_(MergeProposal.contact_id == a, MergeProposal.other_contact_id == b),
                    and_(MergeProposal.contact_id == b, MergeProposal.other_contact_id == a),
                ),
            )
        )
        return result.first()
