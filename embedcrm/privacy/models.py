"""What is left of an erased person."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, JSONDocument, UTCDateTime, new_id, utcnow


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
