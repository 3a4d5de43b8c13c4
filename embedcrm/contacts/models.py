"""Contacts: the people leads are about, and the merges of two into one."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Enum,
    ForeignKeyConstraint,
    Index,
    Select,
    String,
    Table,
    Text,
    delete,
    event,
    false,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column, object_session

from embedcrm.db import Base, DocumentText, JSONDocument, UTCDateTime, new_id, utcnow
from embedcrm.kit.models import fold, workspace_fk


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        workspace_fk(["manager_id"], "members"),
        Index(None, "workspace_id", "email_normalized"),
        Index(None, "workspace_id", "phone_e164"),
        Index(None, "workspace_id", "created_at", "id"),
        # Words searched in a name, company or e-mail (PostgreSQL only, migration 0021).
        Index(
            "ix_contacts_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    email_normalized: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    company: Mapped[str | None] = mapped_column(String(200))
    # Case-folded name, e-mail, phone and company: what search matches, alike on both databases.
    search_text: Mapped[str | None] = mapped_column(Text)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    manager_id: Mapped[uuid.UUID | None]
    # Where the person first came from, and where their latest submission came from.
    first_touch: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    last_touch: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ContactRecord(NamedTuple):
    """A contact as the panel's list of leads shows it, read with the page's own rows: the
    columns its GraphQL type reads, as a plain tuple (``leads.models.LeadRecord`` says why)."""

    workspace_id: uuid.UUID
    id: uuid.UUID
    name: str | None
    email: str | None
    email_normalized: str | None
    phone: str | None
    phone_e164: str | None
    company: str | None
    custom_fields: DocumentText
    manager_id: uuid.UUID | None
    first_touch: DocumentText
    last_touch: DocumentText
    created_at: datetime


# Kept current on every ORM write, wherever it comes from (capture, the panel, an import).
@event.listens_for(Contact, "before_insert")
@event.listens_for(Contact, "before_update")
def _contact_search_text(_mapper: Any, _connection: Any, contact: Contact) -> None:
    contact.search_text = fold(
        contact.name, contact.email_normalized or contact.email, contact.phone_e164, contact.company
    )


class PointKind(enum.StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"


class ContactPoint(Base):
    """One e-mail or phone of a contact, as typed and normalised, with an optional label.

    A contact's primary e-mail and phone are also its ``email``/``phone`` columns (what the
    public contract, the lists and the webhooks read); the listeners below keep the rows of the
    primary ones in step with those columns wherever a contact is written.
    """

    __tablename__ = "contact_points"
    __table_args__ = (
        workspace_fk(["contact_id"], "contacts", ondelete="CASCADE"),
        # Finding the contacts of an e-mail or phone (capture, search) is a range of this.
        Index(None, "workspace_id", "kind", "normalized"),
        # One row per value on a contact; its prefix lists a contact's rows.
        Index(None, "workspace_id", "contact_id", "kind", "normalized", unique=True),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    contact_id: Mapped[uuid.UUID]
    kind: Mapped[PointKind] = mapped_column(Enum(PointKind, native_enum=False, length=8))
    # As entered; the normalised value (lower-cased e-mail, E.164 phone) is what matches, and
    # is empty for what a bound form sent unparseable (kept for the owner to read).
    value: Mapped[str] = mapped_column(String(320))
    normalized: Mapped[str | None] = mapped_column(String(320))
    label: Mapped[str | None] = mapped_column(String(40))
    is_primary: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def contact_ids_with_point(
    workspace_id: uuid.UUID, kind: PointKind, normalized: str
) -> Select[uuid.UUID]:
    """The contacts with this normalised e-mail or phone among theirs: a range of the
    (workspace_id, kind, normalized) index."""
    return select(ContactPoint.contact_id).where(
        ContactPoint.workspace_id == workspace_id,
        ContactPoint.kind == kind,
        ContactPoint.normalized == normalized,
    )


POINT_COLUMNS = {
    PointKind.EMAIL: ("email", "email_normalized"),
    PointKind.PHONE: ("phone", "phone_e164"),
}
# Written with Core from inside a flush, where the ORM session may not be used.
_points: Table = ContactPoint.__table__  # type: ignore[assignment]


def _point_clause(contact: Contact, kind: PointKind) -> Any:
    return (
        (_points.c.workspace_id == contact.workspace_id)
        & (_points.c.contact_id == contact.id)
        & (_points.c.kind == kind)
    )


@event.listens_for(Contact, "before_update")
def _promote_next_point(_mapper: Mapper[Contact], connection: Connection, contact: Contact) -> None:
    """A primary e-mail or phone cleared gives way to the contact's oldest other one, so a
    contact with e-mails always has a primary e-mail."""
    state = inspect(contact)
    for kind, (raw, normalized) in POINT_COLUMNS.items():
        if getattr(contact, raw) is not None or getattr(contact, normalized) is not None:
            continue
        if not state.attrs[raw].history.deleted and not state.attrs[normalized].history.deleted:
            continue
        row = connection.execute(
            select(_points.c.value, _points.c.normalized)
            .where(_point_clause(contact, kind), _points.c.is_primary.is_(False))
            .order_by(_points.c.created_at, _points.c.id)
            .limit(1)
        ).first()
        if row is not None:
            setattr(contact, raw, row.value)
            setattr(contact, normalized, row.normalized)


_NEW_POINTS = "embedcrm.contacts.new_points"


@event.listens_for(Contact, "after_insert")
def _points_of_new_contact(
    _mapper: Mapper[Contact], _connection: Connection, contact: Contact
) -> None:
    """A new contact's primary e-mail and phone rows, written once the flush has inserted
    every contact (``_insert_new_points``): one statement for a whole batch of new people."""
    session = object_session(contact)
    assert session is not None
    rows = session.info.setdefault(_NEW_POINTS, [])
    for kind, (raw_name, normalized_name) in POINT_COLUMNS.items():
        normalized = getattr(contact, normalized_name)
        raw = getattr(contact, raw_name) or normalized
        if raw is not None:
            rows.append(
                {
                    "workspace_id": contact.workspace_id,
                    "id": new_id(),
                    "contact_id": contact.id,
                    "kind": kind,
                    "value": raw[:320],
                    "normalized": normalized,
                    "label": None,
                    "is_primary": True,
                    "created_at": contact.created_at or utcnow(),
                }
            )


@event.listens_for(Session, "after_flush")
def _insert_new_points(session: Session, _context: Any) -> None:
    rows = session.info.pop(_NEW_POINTS, None)
    if rows:
        session.connection().execute(insert(_points), rows)


@event.listens_for(Session, "after_soft_rollback")
def _forget_new_points(session: Session, _previous: Any) -> None:
    # A flush that failed midway leaves no rows behind for the next one.
    session.info.pop(_NEW_POINTS, None)


@event.listens_for(Contact, "after_update")
def _primary_points(_mapper: Mapper[Contact], connection: Connection, contact: Contact) -> None:
    """The rows of the primary e-mail and phone follow the contact's columns: a value already
    on the contact becomes primary (the former primary stays, as another one), a new value
    replaces the former primary's, and a cleared one goes."""
    state = inspect(contact)
    for kind, names in POINT_COLUMNS.items():
        if any(state.attrs[name].history.has_changes() for name in names):
            sync_primary_point(connection, contact, kind)


def sync_primary_point(connection: Connection, contact: Contact, kind: PointKind) -> None:
    raw_name, normalized_name = POINT_COLUMNS[kind]
    normalized = getattr(contact, normalized_name)
    # A writer that set only the normalised column (an import) still gives the contact a row.
    raw = getattr(contact, raw_name) or normalized
    where = _point_clause(contact, kind)
    if raw is None:
        connection.execute(delete(_points).where(where, _points.c.is_primary.is_(True)))
        return
    same = (
        _points.c.normalized == normalized
        if normalized is not None
        else (_points.c.normalized.is_(None) & (_points.c.value == raw))
    )
    existing = connection.execute(select(_points.c.id).where(where, same)).scalar()
    if existing is not None:
        connection.execute(
            update(_points)
            .where(where, _points.c.id != existing, _points.c.is_primary.is_(True))
            .values(is_primary=False)
        )
        connection.execute(
            update(_points)
            .where(where, _points.c.id == existing)
            .values(is_primary=True, value=raw[:320])
        )
        return
    replaced = connection.execute(
        update(_points)
        .where(where, _points.c.is_primary.is_(True))
        .values(value=raw[:320], normalized=normalized)
    )
    if not replaced.rowcount:
        connection.execute(
            insert(_points).values(
                workspace_id=contact.workspace_id,
                id=new_id(),
                contact_id=contact.id,
                kind=kind,
                value=raw[:320],
                normalized=normalized,
                is_primary=True,
                created_at=contact.created_at or utcnow(),
            )
        )


class MergeProposalStatus(enum.StrEnum):
    OPEN = "OPEN"
    ACCEPTED = "ACCEPTED"
    DISMISSED = "DISMISSED"


class MergeProposal(Base):
    """Two contacts that look like one person; recorded, never merged silently."""

    __tablename__ = "merge_proposals"
    __table_args__ = (
        workspace_fk(["contact_id"], "contacts", ondelete="CASCADE"),
        workspace_fk(["other_contact_id"], "contacts", ondelete="CASCADE"),
        Index(None, "workspace_id", "status", "created_at", "id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    contact_id: Mapped[uuid.UUID]
    other_contact_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(String(300))
    status: Mapped[MergeProposalStatus] = mapped_column(
        Enum(MergeProposalStatus, native_enum=False, length=16), default=MergeProposalStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ContactMerge(Base):
    """The audit entry of a merge, holding what undo needs to put everything back."""

    __tablename__ = "contact_merges"
    __table_args__ = (
        workspace_fk(["kept_contact_id"], "contacts", ondelete="CASCADE"),
        workspace_fk(["merged_by_id"], "members"),
        Index(None, "workspace_id", "created_at", "id"),
        Index(None, "workspace_id", "kept_contact_id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kept_contact_id: Mapped[uuid.UUID]
    # The merged contact no longer exists, so there is nothing to reference.
    merged_contact_id: Mapped[uuid.UUID]
    merged_snapshot: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    kept_before: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    moved: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    proposal_id: Mapped[uuid.UUID | None]
    merged_by_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
