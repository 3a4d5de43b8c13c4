"""The 1C exchange: a workspace's credentials for it, and the files 1C uploads to it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, UTCDateTime, utcnow


class OneCExchange(Base):
    """What 1C logs in with (HTTP basic auth), and when it last asked for orders."""

    __tablename__ = "one_c_exchanges"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(100))
    # PBKDF2-SHA256 with its salt and iterations, "pbkdf2_sha256$iterations$salt$hash".
    password_hash: Mapped[str] = mapped_column(String(200))
    # The orders answered to the last `query` are the ones its `success` marks as taken.
    last_query_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ExchangeFile(Base):
    """A file 1C uploads (mode=file), possibly in several parts, until it is imported."""

    __tablename__ = "exchange_files"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
