"""Tables of the CRM the site owner works in: history, cart, fields, tags, segments, audit.

Every table keys on the workspace (ARCHITECTURE.md, rule 2) and reaches other workspace-owned
tables through it.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Enum, ForeignKeyConstraint, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, JSONDocument, UTCDateTime, new_id, utcnow
from embedcrm.kit.models import workspace_fk


class LeadStageChange(Base):
    """One move of a lead between stages: the source of funnels and time-in-stage.

    The stage columns carry no foreign key on purpose: a stage may be deleted later (its leads
    move on), and the history of what happened must outlive it, so its name is kept beside it.
    """

    __tablename__ = "lead_stage_changes"
    __table_args__ = (
        workspace_fk(["lead_id"], "leads", ondelete="CASCADE"),
        workspace_fk(["changed_by_id"], "members"),
        Index(None, "workspace_id", "lead_id", "changed_at"),
        Index(None, "workspace_id", "to_stage_id", "changed_at"),
        # The moves of the leads created in a period (the funnel's time in stage), read from
        # the index alone on PostgreSQL.
        Index(
            None,
            "workspace_id",
            "lead_created_at",
            postgresql_include=["lead_id", "from_stage_id", "changed_at", "entered_at"],
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    lead_id: Mapped[uuid.UUID]
    pipeline_id: Mapped[uuid.UUID]
    from_stage_id: Mapped[uuid.UUID | None]
    from_stage_name: Mapped[str | None] = mapped_column(String(200))
    to_stage_id: Mapped[uuid.UUID]
    to_stage_name: Mapped[str] = mapped_column(String(200))
    changed_by_id: Mapped[uuid.UUID | None]
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the lead entered the stage this move leaves (its creation, for the first stage),
    # and when the lead was created: a stay is then one row, and the moves of the leads
    # created in a period one index range (migration 0008).
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lead_created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LeadItem(Base):
    """A line of the lead's cart."""

    __tablename__ = "lead_items"
    __table_args__ = (
        workspace_fk(["lead_id"], "leads", ondelete="CASCADE"),
        Index(None, "workspace_id", "lead_id", "position"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    lead_id: Mapped[uuid.UUID]
    position: Mapped[int] = mapped_column(Integer)
    product: Mapped[str] = mapped_column(String(300))
    sku: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    # Cost of goods for one unit: what makes deal profitability computable.
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FieldEntity(enum.StrEnum):
    CONTACT = "CONTACT"
    LEAD = "LEAD"


class FieldType(enum.StrEnum):
    TEXT = "TEXT"
    NUMBER = "NUMBER"
    DATE = "DATE"
    BOOLEAN = "BOOLEAN"
    CHOICE = "CHOICE"


class CustomFieldDefinition(Base):
    __tablename__ = "custom_field_definitions"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        UniqueConstraint("workspace_id", "entity", "key"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    entity: Mapped[FieldEntity] = mapped_column(Enum(FieldEntity, native_enum=False, length=8))
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    type: Mapped[FieldType] = mapped_column(Enum(FieldType, native_enum=False, length=8))
    options: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        UniqueConstraint("workspace_id", "name_folded"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    # "VIP" and "vip" are one tag.
    name_folded: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContactTag(Base):
    __tablename__ = "contact_tags"
    __table_args__ = (
        workspace_fk(["contact_id"], "contacts", ondelete="CASCADE"),
        workspace_fk(["tag_id"], "tags", ondelete="CASCADE"),
        Index(None, "workspace_id", "tag_id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tag_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class LeadTag(Base):
    __tablename__ = "lead_tags"
    __table_args__ = (
        workspace_fk(["lead_id"], "leads", ondelete="CASCADE"),
        workspace_fk(["tag_id"], "tags", ondelete="CASCADE"),
        Index(None, "workspace_id", "tag_id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tag_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class Segment(Base):
    """A saved filter: its members are computed on every read, so they are always current."""

    __tablename__ = "segments"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        workspace_fk(["created_by_id"], "members"),
        Index(None, "workspace_id", "created_at", "id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    entity: Mapped[FieldEntity] = mapped_column(Enum(FieldEntity, native_enum=False, length=8))
    filter: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    created_by_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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


class Erasure(Base):
    """What is left of an erased person: anonymous counts, and when it happened."""

    __tablename__ = "erasures"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        Index(None, "workspace_id", "created_at", "id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    # Not a foreign key: the member may leave, the fact of the erasure stays.
    erased_by_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
