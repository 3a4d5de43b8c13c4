"""Tenancy tables. Every workspace-owned table keys on (workspace_id, id): see ARCHITECTURE.md, rule 2."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, JSONDocument, UTCDateTime, new_id, utcnow
from embedcrm.kit.models import workspace_fk


class Role(enum.StrEnum):
    OWNER = "OWNER"
    MANAGER = "MANAGER"
    VIEWER = "VIEWER"


class PlatformKey(Base):
    """An API key of the host platform. Only a hash of the secret is kept."""

    __tablename__ = "platform_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set on the old key when it is rotated: it keeps working until then, so the host can
    # deploy the new key without a moment in which neither works.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    # Minutes a manager has to answer a new lead before its first-response task is overdue.
    first_response_minutes: Mapped[int] = mapped_column(Integer, default=15)
    # Lets a MANAGER change every lead and contact, not only the ones assigned to them.
    managers_edit_all: Mapped[bool] = mapped_column(Boolean, default=False)
    # The currency of a value given without one, and the language of the names the service
    # writes itself (titles of pushed leads, report labels): "ru" or "en".
    currency: Mapped[str] = mapped_column(String(3), default="RUB", server_default="RUB")
    language: Mapped[str] = mapped_column(String(8), default="ru", server_default="ru")
    # The customer's BCP 47 locale as the host knows it ("en-GB"); ``language`` follows from it.
    locale: Mapped[str | None] = mapped_column(String(35))
    # When the team works, per ISO weekday: [{"weekday": 1, "opens": "09:00", "closes": "18:00"}].
    working_hours: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Member(Base):
    """A person of the host's customer who works in the panel, known by the host's own id."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("workspace_id", "external_id"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    external_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    # False once the member left: their tokens stop working and nothing new is assigned to
    # them, while what they did stays theirs.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Panel tokens of this member issued at or before this moment no longer work.
    sessions_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Site(Base):
    """A generated site. Its public key is the one global lookup a visitor can make."""

    __tablename__ = "sites"
    # The host's own id of the site: createSite with it answers the same site, however often
    # and however concurrently it is retried. A unique index rather than a constraint, so that
    # SQLite adds it in place instead of rebuilding a table other rows point at.
    __table_args__ = (Index(None, "workspace_id", "external_id", unique=True),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # Routes anonymous traffic to its workspace, so it is unique on its own: the one
    # documented exception to rule 2 (tests/test_tenancy_keys.py lists it).
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    domains: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    language: Mapped[str] = mapped_column(String(8), default="ru")
    phone_region: Mapped[str] = mapped_column(String(2), default="RU")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    external_id: Mapped[str | None] = mapped_column(String(255))
    # A deleted site answers no visitor and leaves the lists; its submissions and leads stay.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RevokedPanelToken(Base):
    """One panel token revoked before its expiry, kept until it would have expired anyway."""

    __tablename__ = "revoked_panel_tokens"
    __table_args__ = (
        workspace_fk(["member_id"], "members", ondelete="CASCADE"),
        Index(None, "workspace_id", "member_id", "expires_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    # The token's own id (its ``i`` claim).
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    member_id: Mapped[uuid.UUID]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberRecord(NamedTuple):
    """A member as a list of leads shows its assignee, read with the page's own rows
    (``LeadRecord``)."""

    workspace_id: uuid.UUID
    id: uuid.UUID
    external_id: str
    name: str
    email: str | None
    role: Role
    active: bool
