"""Custom fields, tags and segments of leads and contacts."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, JSONDocument, UTCDateTime, new_id, utcnow
from embedcrm.kit.models import workspace_fk


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
