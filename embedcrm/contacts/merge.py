"""Merging two contacts into one, with an audit entry and an undo that holds for a day."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.contacts.events import emit_contact_event
from embedcrm.contacts.models import Contact, ContactMerge, MergeProposal, MergeProposalStatus
from embedcrm.contacts.repository import (
    ContactRepository,
    MergeProposalRepository,
    MergeRepository,
    point_snapshot,
)
from embedcrm.contacts.service import get_contact, require_contact_writer
from embedcrm.db import Database, utcnow
from embedcrm.errors import Conflict, NotFound, ValidationFailed
from embedcrm.feedback.service import give_back_answers, move_contact_answers
from embedcrm.fields.service import give_back_contact_tags, move_contact_tags
from embedcrm.ids import to_global_id
from embedcrm.invoices.service import give_back_invoices, move_contact_invoices
from embedcrm.kit.repository import Page, Window
from embedcrm.leads.models import Activity, ActivityKind
from embedcrm.leads.service import add_activity, give_back_timeline, move_contact_timeline
from embedcrm.messages.service import give_back_messages, move_contact_messages
from embedcrm.tasks.service import give_back_tasks, move_contact_tasks
from embedcrm.workspaces.access import load_actor, readable_row, reader_workspace, viewer_of

UNDO_WINDOW = timedelta(days=1)
CONTACT_FIELDS = (
    "name",
    "email",
    "email_normalized",
    "phone",
    "phone_e164",
    "company",
    "manager_id",
)


def _snapshot(contact: Contact) -> dict[str, Any]:
    return {
        "id": str(contact.id),
        **{
            f: (
                str(getattr(contact, f))
                if f == "manager_id" and getattr(contact, f)
                else getattr(contact, f)
            )
            for f in CONTACT_FIELDS
        },
        "custom_fields": dict(contact.custom_fields),
        "created_at": contact.created_at.isoformat(),
    }


def _proposal_snapshot(p: MergeProposal) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "contact_id": str(p.contact_id),
        "other_contact_id": str(p.other_contact_id),
        "reason": p.reason,
        "status": p.status.value,
        "created_at": p.created_at.isoformat(),
    }


async def _move_points(
    session: AsyncSession, workspace_id: uuid.UUID, gone_id: uuid.UUID, keep_id: uuid.UUID
) -> list[dict[str, Any]]:
    """Move the e-mails and phones of ``gone_id`` to ``keep_id`` as not primary, dropping
    those ``keep_id`` has; answers each as it was, for undo."""
    contacts = ContactRepository(session, workspace_id)
    points = await contacts.points_of([gone_id, keep_id])
    kept = {(p.kind, p.normalized or p.value) for p in points if p.contact_id == keep_id}
    snapshots = []
    for point in points:
        if point.contact_id != gone_id:
            continue
        snapshots.append(point_snapshot(point))
        if (point.kind, point.normalized or point.value) in kept:
            await session.delete(point)
        else:
            point.contact_id, point.is_primary = keep_id, False
    await session.flush()
    return snapshots


class MergeService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def merge(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        keep_id: uuid.UUID,
        merge_id: uuid.UUID,
        proposal_id: uuid.UUID | None = None,
    ) -> ContactMerge:
        """Move the timeline, leads, tasks, invoices, tags, messages, opt-out and feedback answers
        of ``merge_id`` to ``keep_id``, then drop it."""
        if keep_id == merge_id:
            raise ValidationFailed("A contact cannot be merged into itself.", field="mergeId")
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="keepId")
            keep = await get_contact(session, workspace_id, keep_id, "keepId")
            gone = await get_contact(session, workspace_id, merge_id, "mergeId")
            require_contact_writer(actor, keep)
            require_contact_writer(actor, gone)
            now = utcnow()
            kept_before = _snapshot(keep)
            # Every e-mail and phone of both stays: the merged one's move over (those the kept
            # one has already go), before the kept one's empty primary columns are filled.
            point_snapshots = await _move_points(session, workspace_id, gone.id, keep.id)
            # Fill what the kept contact lacks; never overwrite what it has.
            for name in CONTACT_FIELDS:
                if getattr(keep, name) is None and getattr(gone, name) is not None:
                    setattr(keep, name, getattr(gone, name))
            keep.custom_fields = {**gone.custom_fields, **keep.custom_fields}
            keep.updated_at = now
            lead_ids, activity_ids = await move_contact_timeline(
                session, workspace_id, gone.id, keep.id
            )
            task_ids = await move_contact_tasks(session, workspace_id, gone.id, keep.id)
            invoice_ids = await move_contact_invoices(session, workspace_id, gone.id, keep.id)
            tag_ids = await move_contact_tags(session, workspace_id, gone.id, keep.id)
            messages = await move_contact_messages(session, workspace_id, gone.id, keep.id)
            answer_ids = await move_contact_answers(session, workspace_id, gone.id, keep.id)
            proposals = await MergeProposalRepository(session, workspace_id).involving(gone.id)
            for proposal in proposals:
                if proposal.id == proposal_id:
                    proposal.status = MergeProposalStatus.ACCEPTED
                    proposal.resolved_at = now
            record = MergeRepository(session, workspace_id).add(
                ContactMerge(
                    kept_contact_id=keep.id,
                    merged_contact_id=gone.id,
                    merged_snapshot=_snapshot(gone),
                    kept_before=kept_before,
                    moved={
                        "leads": lead_ids,
                        "activities": activity_ids,
                        "tasks": task_ids,
                        "invoices": invoice_ids,
                        "tags_added": tag_ids,
                        "messages": messages,
                        "feedback_answers": answer_ids,
                        "proposals": [_proposal_snapshot(p) for p in proposals],
                        "points": point_snapshots,
                    },
                    proposal_id=proposal_id,
                    merged_by_id=actor.member_id,
                    created_at=now,
                )
            )
            add_activity(
                session,
                workspace_id,
                Activity(
                    contact_id=keep.id,
                    author_id=actor.member_id,
                    kind=ActivityKind.NOTE,
                    body=f"Merged contact {gone.name or gone.email_normalized or gone.id}",
                    data={"merge_id": str(record.id), "merged_contact_id": str(gone.id)},
                    created_at=now,
                ),
            )
            await session.flush()
            await session.delete(gone)
            await session.flush()
            await emit_contact_event(
                session,
                keep,
                "contact.merged",
                now=now,
                extra={"merged_contact_id": to_global_id("Contact", gone.workspace_id, gone.id)},
            )
            return record

    async def undo(
        self, principal: Principal, workspace_id: uuid.UUID, merge_id: uuid.UUID
    ) -> ContactMerge:
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id)
            record = await MergeRepository(session, workspace_id).get(merge_id)
            if record is None:
                raise NotFound("Nothing has this id.", field="id")
            keep = await get_contact(session, workspace_id, record.kept_contact_id, "id")
            require_contact_writer(actor, keep)
            now = utcnow()
            if record.undone_at is not None:
                raise Conflict("This merge was already undone.", field="id")
            if now - record.created_at > UNDO_WINDOW:
                raise Conflict("A merge can be undone within a day.", field="id")
            snap = record.merged_snapshot
            moved = record.moved
            contacts = ContactRepository(session, workspace_id)
            # The merged contact's e-mails and phones leave the kept one first, so that the
            # kept one's own columns, put back below, find only its own.
            await contacts.delete_points([uuid.UUID(p["id"]) for p in moved.get("points", [])])
            restored = contacts.add(
                Contact(
                    id=uuid.UUID(snap["id"]),
                    **{
                        f: (uuid.UUID(snap[f]) if f == "manager_id" and snap[f] else snap[f])
                        for f in CONTACT_FIELDS
                    },
                    custom_fields=snap["custom_fields"],
                    created_at=datetime.fromisoformat(snap["created_at"]),
                    updated_at=now,
                )
            )
            before = record.kept_before
            for f in CONTACT_FIELDS:
                setattr(
                    keep, f, uuid.UUID(before[f]) if f == "manager_id" and before[f] else before[f]
                )
            keep.custom_fields = before["custom_fields"]
            keep.updated_at = now
            await session.flush()
            if "points" in moved:
                await contacts.restore_points(restored.id, moved["points"])
            await give_back_timeline(
                session,
                workspace_id,
                [uuid.UUID(i) for i in moved["leads"]],
                [uuid.UUID(i) for i in moved["activities"]],
                restored.id,
            )
            await give_back_tasks(
                session, workspace_id, [uuid.UUID(i) for i in moved["tasks"]], restored.id
            )
            await give_back_invoices(
                session,
                workspace_id,
                [uuid.UUID(i) for i in moved.get("invoices", [])],
                restored.id,
            )
            await give_back_messages(
                session,
                workspace_id,
                moved.get("messages", {}),
                kept_id=keep.id,
                restored_id=restored.id,
            )
            await give_back_answers(
                session,
                workspace_id,
                [uuid.UUID(i) for i in moved.get("feedback_answers", [])],
                restored.id,
            )
            await give_back_contact_tags(
                session,
                workspace_id,
                keep.id,
                restored.id,
                [uuid.UUID(t) for t in moved["tags_added"]],
            )
            proposals = MergeProposalRepository(session, workspace_id)
            for p in moved["proposals"]:
                if await proposals.get(uuid.UUID(p["id"])) is None:
                    proposals.add(
                        MergeProposal(
                            id=uuid.UUID(p["id"]),
                            contact_id=uuid.UUID(p["contact_id"]),
                            other_contact_id=uuid.UUID(p["other_contact_id"]),
                            reason=p["reason"],
                            # Undoing says the two are different people.
                            status=MergeProposalStatus.DISMISSED
                            if p["id"] == str(record.proposal_id)
                            else MergeProposalStatus(p["status"]),
                            created_at=datetime.fromisoformat(p["created_at"]),
                            resolved_at=now if p["id"] == str(record.proposal_id) else None,
                        )
                    )
            record.undone_at = now
            await session.flush()
            await emit_contact_event(session, keep, "contact.updated", now=now)
            await emit_contact_event(session, restored, "contact.created", now=now)
            return record

    async def accept_proposal(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        proposal_id: uuid.UUID,
        *,
        keep_id: uuid.UUID | None,
    ) -> ContactMerge:
        async with self.db.transaction() as session:
            proposal = await MergeProposalRepository(session, workspace_id).get(proposal_id)
            reader_workspace(principal, workspace_id)
            if proposal is None:
                raise NotFound("Nothing has this id.", field="id")
            if proposal.status is not MergeProposalStatus.OPEN:
                raise Conflict("This proposal is already resolved.", field="id")
            pair = {proposal.contact_id, proposal.other_contact_id}
        keep = keep_id or proposal.contact_id
        if keep not in pair:
            raise ValidationFailed("Keep one of the two contacts of the proposal.", field="keepId")
        (other,) = pair - {keep}
        return await self.merge(
            principal, workspace_id, keep_id=keep, merge_id=other, proposal_id=proposal_id
        )

    async def dismiss_proposal(
        self, principal: Principal, workspace_id: uuid.UUID, proposal_id: uuid.UUID
    ) -> MergeProposal:
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id)
            repo = MergeProposalRepository(session, workspace_id)
            proposal = await repo.get_readable(actor, proposal_id)
            if proposal is None:
                raise NotFound("Nothing has this id.", field="id")
            if proposal.status is not MergeProposalStatus.OPEN:
                raise Conflict("This proposal is already resolved.", field="id")
            proposal.status = MergeProposalStatus.DISMISSED
            proposal.resolved_at = utcnow()
            await session.flush()
            return proposal

    async def proposals(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        status: MergeProposalStatus | None,
        window: Window,
    ) -> Page[MergeProposal]:
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            repo = MergeProposalRepository(session, workspace_id)
            stmt = repo.readable(viewer, repo.of_status(status))
            return await repo.newest_first(stmt, window=window)

    async def count_proposals(
        self, principal: Principal, workspace_id: uuid.UUID, *, status: MergeProposalStatus | None
    ) -> int:
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            repo = MergeProposalRepository(session, workspace_id)
            return await repo.count(repo.readable(viewer, repo.of_status(status)))

    async def visible_proposal(
        self, principal: Principal, workspace_id: uuid.UUID, proposal_id: uuid.UUID
    ) -> MergeProposal | None:
        return await readable_row(
            self.db, principal, MergeProposalRepository, workspace_id, proposal_id
        )

    async def visible_merge(
        self, principal: Principal, workspace_id: uuid.UUID, merge_id: uuid.UUID
    ) -> ContactMerge | None:
        return await readable_row(self.db, principal, MergeRepository, workspace_id, merge_id)

    async def count_merges(self, principal: Principal, workspace_id: uuid.UUID) -> int:
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            repo = MergeRepository(session, workspace_id)
            return await repo.count(repo.readable(viewer))

    async def merges(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        window: Window,
    ) -> Page[ContactMerge]:
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            repo = MergeRepository(session, workspace_id)
            return await repo.newest_first(repo.readable(viewer), window=window)
