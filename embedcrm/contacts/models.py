"""Contacts: the people leads are about, and the merges of two into one."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKeyConstraint, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, JSONDocument, UTCDateTime, new_id, utcnow
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


# Kept current on every ORM write, wherever it comes from (capture, the panel, an import).
@event.listens_for(Contact, "before_insert")
@event.listens_for(Contact, "before_update")
def _contact_search_text(_mapper: Any, _connection: Any, contact: Contact) -> None:
    contact.search_text = fold(
        contact.name, contact.email_normalized or contact.email, contact.phone_e164, contact.company
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
