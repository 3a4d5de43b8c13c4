"""SQL of contacts, their merge proposals and merges, bound to one workspace."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, insert, or_, select, text, union_all
from sqlalchemy.sql.elements import ColumnElement

from embedcrm.contacts.models import (
    Contact,
    ContactMerge,
    ContactPoint,
    MergeProposal,
    MergeProposalStatus,
    PointKind,
    contact_ids_with_point,
)
from embedcrm.db import hold_sqlite_write_lock
from embedcrm.fields.filters import ContactSpec, custom_clause, parse_search
from embedcrm.fields.models import ContactTag, FieldType, Tag
from embedcrm.kit.repository import Window, WorkspaceRepository, searched_pattern
from embedcrm.leads.ownership import contact_owned_by, seen_contact_ids


def _lock_key(*parts: object) -> int:
    """A signed 64-bit advisory lock number for ``parts``, the same in every process."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_LOCK_KEYS_IN_ORDER = text(
    "SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k"
)


class ContactRepository(WorkspaceRepository[Contact]):
    """Contacts, and the locks that keep two transactions from creating the same person.

    Contacts may legitimately share an e-mail or a phone (an edit, an import, a merge undone),
    so a unique index cannot say "one person"; what must not happen is two transactions each
    looking a person up, finding nobody, and each creating them. Whoever looks contacts up by
    e-mail or phone in order to create or match one takes a lock first and holds it to the
    end of its transaction, so the second looks only after the first has committed.
    """

    model = Contact

    def own_rows(self, stmt: Select[Contact], member_id: uuid.UUID) -> Select[Contact]:
        """A manager's contacts: those whose personal manager they are, and the people of the
        leads they see (so a lead's card always shows its contact)."""
        return stmt.where(self.owned_by(member_id))

    def owned_by(self, member_id: uuid.UUID) -> ColumnElement[bool]:
        return contact_owned_by(self.workspace_id, member_id)

    def own_ids(self, member_id: uuid.UUID) -> Select[uuid.UUID]:
        return seen_contact_ids(self.workspace_id, member_id)

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
        if keys:
            # Every key in one statement, in ascending order (PostgreSQL calls a volatile
            # function of the select list after sorting), as every holder takes them.
            await self.session.execute(_LOCK_KEYS_IN_ORDER, {"keys": sorted(keys)})

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

    async def with_identities(
        self, emails: Iterable[str], phones: Iterable[str]
    ) -> tuple[list[Contact], list[ContactPoint]]:
        """Every contact with one of these normalised e-mails or phones among theirs, and
        every e-mail and phone of those contacts."""
        emails, phones = list(emails), list(phones)
        if not emails and not phones:
            return [], []
        # Two statements, each a range of one index: the ids from (workspace_id, kind,
        # normalized), then those contacts by primary key. As one statement, with the ids as a
        # subquery, PostgreSQL came to hash-join the whole workspace's contacts once it grew
        # (a second a batch at 20 000 contacts in one workspace).
        by_kind = [
            select(ContactPoint.contact_id).where(
                ContactPoint.workspace_id == self.workspace_id,
                ContactPoint.kind == kind,
                ContactPoint.normalized.in_(values),
            )
            for kind, values in ((PointKind.EMAIL, emails), (PointKind.PHONE, phones))
            if values
        ]
        ids = by_kind[0] if len(by_kind) == 1 else union_all(*by_kind)
        contact_ids = list(dict.fromkeys(await self.session.scalars(ids)))
        if not contact_ids:
            return [], []
        contacts = list(
            await self.session.scalars(self.select().where(Contact.id.in_(contact_ids)))
        )
        return contacts, await self.points_of([c.id for c in contacts])

    def add_point(self, point: ContactPoint) -> ContactPoint:
        point.workspace_id = self.workspace_id
        self.session.add(point)
        return point

    async def point(self, point_id: uuid.UUID) -> ContactPoint | None:
        return await self.session.get(ContactPoint, (self.workspace_id, point_id))

    async def delete_points(self, point_ids: Sequence[uuid.UUID]) -> None:
        if point_ids:
            await self.session.execute(
                delete(ContactPoint).where(
                    ContactPoint.workspace_id == self.workspace_id,
                    ContactPoint.id.in_(list(point_ids)),
                )
            )

    async def restore_points(
        self, contact_id: uuid.UUID, snapshots: Sequence[dict[str, Any]]
    ) -> None:
        """Give the contact exactly these e-mails and phones (``point_snapshot``s), ids and all."""
        await self.session.execute(
            delete(ContactPoint).where(
                ContactPoint.workspace_id == self.workspace_id,
                ContactPoint.contact_id == contact_id,
            )
        )
        if snapshots:
            await self.session.execute(
                insert(ContactPoint),
                [
                    {
                        "workspace_id": self.workspace_id,
                        "id": uuid.UUID(p["id"]),
                        "contact_id": contact_id,
                        "kind": PointKind(p["kind"]),
                        "value": p["value"],
                        "normalized": p["normalized"],
                        "label": p["label"],
                        "is_primary": p["primary"],
                        "created_at": datetime.fromisoformat(p["created_at"]),
                    }
                    for p in snapshots
                ],
            )

    async def points_of(self, contact_ids: Sequence[uuid.UUID]) -> list[ContactPoint]:
        """The e-mails and phones of these contacts: each contact's primary first, then in
        the order they were added."""
        if not contact_ids:
            return []
        result = await self.session.scalars(
            select(ContactPoint)
            .where(
                ContactPoint.workspace_id == self.workspace_id,
                ContactPoint.contact_id.in_(list(contact_ids)),
            )
            .order_by(
                ContactPoint.contact_id,
                ContactPoint.kind,
                ContactPoint.is_primary.desc(),
                ContactPoint.created_at,
                ContactPoint.id,
            )
        )
        return list(result)

    async def by_email(self, email_normalized: str) -> Contact | None:
        result = await self.session.scalars(
            self.select()
            .where(
                Contact.id.in_(
                    contact_ids_with_point(self.workspace_id, PointKind.EMAIL, email_normalized)
                )
            )
            .order_by(Contact.created_at)
            .limit(1)
        )
        return result.first()

    async def by_phone(self, phone_e164: str) -> Contact | None:
        result = await self.session.scalars(
            self.select()
            .where(
                Contact.id.in_(
                    contact_ids_with_point(self.workspace_id, PointKind.PHONE, phone_e164)
                )
            )
            .order_by(Contact.created_at)
            .limit(1)
        )
        return result.first()

    def matching(self, spec: ContactSpec, kinds: dict[str, FieldType]) -> Select[Contact]:
        stmt = self.select()
        ws = self.workspace_id
        if spec.manager_id is not None:
            stmt = stmt.where(Contact.manager_id == spec.manager_id)
        if spec.unmanaged:
            stmt = stmt.where(Contact.manager_id.is_(None))
        if spec.company:
            stmt = stmt.where(func.lower(Contact.company) == spec.company.lower())
        if spec.created_from is not None:
            stmt = stmt.where(Contact.created_at >= spec.created_from)
        if spec.created_to is not None:
            stmt = stmt.where(Contact.created_at < spec.created_to)
        for name in spec.tags:
            stmt = stmt.where(
                Contact.id.in_(
                    select(ContactTag.contact_id)
                    .join(
                        Tag,
                        and_(
                            Tag.workspace_id == ContactTag.workspace_id, Tag.id == ContactTag.tag_id
                        ),
                    )
                    .where(ContactTag.workspace_id == ws, Tag.name_folded == name.casefold())
                )
            )
        for condition in spec.custom:
            stmt = stmt.where(custom_clause(Contact.custom_fields, condition, kinds[condition.key]))
        if spec.search:
            terms = parse_search(spec.search)
            # Any of the person's e-mails or phones, not only the primary ones.
            if terms.email:
                stmt = stmt.where(
                    Contact.id.in_(contact_ids_with_point(ws, PointKind.EMAIL, terms.email))
                )
            elif terms.phone_e164:
                stmt = stmt.where(
                    Contact.id.in_(contact_ids_with_point(ws, PointKind.PHONE, terms.phone_e164))
                )
            elif terms.text:
                stmt = stmt.where(
                    Contact.search_text.like(searched_pattern(terms.text), escape="\\")
                )
        return stmt

    async def batches(self, stmt: Select[Contact], size: int = 100) -> list[Contact]:
        out: list[Contact] = []
        after: str | None = None
        while True:
            page = await self.newest_first(stmt, window=Window(first=size, after=after))
            out.extend(page.rows)
            if not page.has_next:
                return out
            after = page.end_cursor


def point_snapshot(point: ContactPoint) -> dict[str, Any]:
    """An e-mail or phone as plain JSON, as a merge keeps it for undo."""
    return {
        "id": str(point.id),
        "kind": point.kind.value,
        "value": point.value,
        "normalized": point.normalized,
        "label": point.label,
        "primary": point.is_primary,
        "created_at": point.created_at.isoformat(),
    }


class MergeProposalRepository(WorkspaceRepository[MergeProposal]):
    model = MergeProposal

    def own_rows(self, stmt: Select[MergeProposal], member_id: uuid.UUID) -> Select[MergeProposal]:
        """A manager sees a proposal when they see both of its contacts."""
        contacts = ContactRepository(self.session, self.workspace_id).own_ids(member_id)
        return stmt.where(
            MergeProposal.contact_id.in_(contacts), MergeProposal.other_contact_id.in_(contacts)
        )

    def of_status(self, status: MergeProposalStatus | None) -> Select[MergeProposal]:
        stmt = self.select()
        return stmt if status is None else stmt.where(MergeProposal.status == status)

    async def involving(self, contact_id: uuid.UUID) -> list[MergeProposal]:
        stmt = self.select().where(
            or_(
                MergeProposal.contact_id == contact_id, MergeProposal.other_contact_id == contact_id
            )
        )
        return list(await self.session.scalars(stmt))

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


class MergeRepository(WorkspaceRepository[ContactMerge]):
    model = ContactMerge

    def own_rows(self, stmt: Select[ContactMerge], member_id: uuid.UUID) -> Select[ContactMerge]:
        """A manager sees the merges into the contacts they see."""
        contacts = ContactRepository(self.session, self.workspace_id).own_ids(member_id)
        return stmt.where(ContactMerge.kept_contact_id.in_(contacts))

    async def kept_instead_of(self, contact_id: uuid.UUID) -> uuid.UUID | None:
        """The contact a merge, not undone, folded ``contact_id`` into."""
        kept: uuid.UUID | None = await self.session.scalar(
            select(ContactMerge.kept_contact_id)
            .where(
                ContactMerge.workspace_id == self.workspace_id,
                ContactMerge.merged_contact_id == contact_id,
                ContactMerge.undone_at.is_(None),
            )
            .order_by(ContactMerge.created_at.desc())
            .limit(1)
        )
        return kept

    async def erase_merged(self, contact_id: uuid.UUID) -> int:
        """Delete the audit entries of merges that folded this contact into another."""
        result = await self.session.execute(
            delete(ContactMerge).where(
                ContactMerge.workspace_id == self.workspace_id,
                ContactMerge.merged_contact_id == contact_id,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
