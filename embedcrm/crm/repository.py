"""SQL for the CRM core, every repository bound to one workspace."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable

from sqlalchemy import and_, func, or_, select, union_all, update

from embedcrm.contacts.models import Contact, MergeProposal, MergeProposalStatus
from embedcrm.db import hold_sqlite_write_lock
from embedcrm.kit.repository import WorkspaceRepository
from embedcrm.leads.models import RESPONSE_KINDS, Activity, Lead, LeadStatus
from embedcrm.pipelines.models import Pipeline, Stage
from embedcrm.tasks.models import Task, TaskDoneReason, TaskKind


def _lock_key(*parts: object) -> int:
    """A signed 64-bit advisory lock number for ``parts``, the same in every process."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


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
    """Contacts, and the locks that keep two transactions from creating the same person.

    Contacts may legitimately share an e-mail or a phone (an edit, an import, a merge undone),
    so a unique index cannot say "one person"; what must not happen is two transactions each
    looking a person up, finding nobody, and each creating them. Whoever looks contacts up by
    e-mail or phone in order to create or match one takes a lock first and holds it to the
    end of its transaction, so the second looks only after the first has committed.
    """

    model = Contact

    async def lock_identities(self, emails: Iterable[str], phones: Iterable[str]) -> None:
        """Wait for, then hold, the e-mails and phones of one person being matched.

        PostgreSQL: one transaction-scoped advisory lock per normalised e-mail and phone, taken
        in one fixed order so that two holders cannot deadlock, under a shared lock of the
        workspace that ``lock_all_identities`` takes exclusively. Submissions of different
        people do not wait for each other. SQLite has one writer per database file: taking its
        write lock now, before the lookup, makes every other process and connection wait.
        """
        if self._sqlite:
            await hold_sqlite_write_lock(self.session, Contact)
            return
        await self.session.execute(
            select(func.pg_advisory_xact_lock_shared(_lock_key("contacts", self.workspace_id)))
        )
        keys = {_lock_key("email", self.workspace_id, e) for e in emails}
        keys |= {_lock_key("phone", self.workspace_id, p) for p in phones}
        for key in sorted(keys):
            await self.session.execute(select(func.pg_advisory_xact_lock(key)))

    async def lock_all_identities(self) -> None:
        """Hold every e-mail and phone of the workspace at once: for an import of many rows,
        which would otherwise need a lock per row (PostgreSQL's lock table is bounded)."""
        if self._sqlite:
            await hold_sqlite_write_lock(self.session, Contact)
            return
        await self.session.execute(
            select(func.pg_advisory_xact_lock(_lock_key("contacts", self.workspace_id)))
        )

    @property
    def _sqlite(self) -> bool:
        return self.session.get_bind().dialect.name == "sqlite"

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

    async def open_ids_of_contact(self, contact_id: uuid.UUID) -> list[uuid.UUID]:
        return list(
            await self.session.scalars(
                select(Lead.id).where(
                    Lead.workspace_id == self.workspace_id,
                    Lead.contact_id == contact_id,
                    Lead.status == LeadStatus.OPEN,
                )
            )
        )

    async def next_event_sequence(self, lead_id: uuid.UUID) -> int:
        """Take the next webhook sequence number of a lead inside the caller's transaction."""
        result = await self.session.execute(
            update(Lead)
            .where(Lead.workspace_id == self.workspace_id, Lead.id == lead_id)
            .values(event_sequence=Lead.event_sequence + 1)
            .returning(Lead.event_sequence)
        )
        return int(result.scalar_one())

    async def refresh_first_response(self, lead_id: uuid.UUID) -> None:
        """Set when the lead was first answered, from its answers as they now stand.

        An answer is an activity of one of RESPONSE_KINDS by a member, or the lead's
        first-response task marked done. Run in the transaction that adds, completes, reopens
        or removes one, so the managers' report reads one column instead of both tables.
        """
        ws = self.workspace_id
        answers = union_all(
            select(Activity.created_at.label("at")).where(
                Activity.workspace_id == ws,
                Activity.lead_id == lead_id,
                Activity.author_id.is_not(None),
                Activity.kind.in_(RESPONSE_KINDS),
            ),
            select(Task.done_at).where(
                Task.workspace_id == ws,
                Task.lead_id == lead_id,
                Task.kind == TaskKind.FIRST_RESPONSE,
                Task.done_at.is_not(None),
                # Closed because the lead was won or lost: nobody answered.
                or_(Task.done_reason.is_(None), Task.done_reason != TaskDoneReason.LEAD_CLOSED),
            ),
        ).subquery("answers")
        await self.session.execute(
            update(Lead)
            .where(Lead.workspace_id == ws, Lead.id == lead_id)
            # An answer is not an edit of the lead: its updated_at stays.
            .values(
                first_response_at=select(func.min(answers.c.at)).scalar_subquery(),
                updated_at=Lead.updated_at,
            )
            # A lead loaded in this session keeps its attributes as they were, rather than
            # having them expired and lazily loaded later, which async sessions cannot do.
            .execution_options(synchronize_session=False)
        )


class ActivityRepository(WorkspaceRepository[Activity]):
    model = Activity


class TaskRepository(WorkspaceRepository[Task]):
    model = Task

    async def first_response_of(
        self, lead_ids: Iterable[uuid.UUID], *, done_reason: TaskDoneReason | None = None
    ) -> list[Task]:
        """The first-response tasks of these leads: the open ones, or those closed for
        ``done_reason``."""
        stmt = self.select().where(
            Task.kind == TaskKind.FIRST_RESPONSE, Task.lead_id.in_(list(lead_ids))
        )
        if done_reason is None:
            stmt = stmt.where(Task.done_at.is_(None))
        else:
            stmt = stmt.where(Task.done_at.is_not(None), Task.done_reason == done_reason)
        return list(await self.session.scalars(stmt))


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
