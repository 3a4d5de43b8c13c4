"""SQL of contacts, their merge proposals and merges, bound to one workspace."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable

from sqlalchemy import Select, and_, delete, func, or_, select, text
from sqlalchemy.sql.elements import ColumnElement

from embedcrm.contacts.models import Contact, ContactMerge, MergeProposal, MergeProposalStatus
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

    async def with_identities(self, emails: Iterable[str], phones: Iterable[str]) -> list[Contact]:
        """Every contact with one of these normalised e-mails or phones."""
        emails, phones = list(emails), list(phones)
        if not emails and not phones:
            return []
        result = await self.session.scalars(
            self.select().where(
                or_(Contact.email_normalized.in_(emails), Contact.phone_e164.in_(phones))
            )
        )
        return list(result)

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
            if terms.email:
                stmt = stmt.where(Contact.email_normalized == terms.email)
            elif terms.phone_e164:
                stmt = stmt.where(Contact.phone_e164 == terms.phone_e164)
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
