"""Pipelines and their stages: the board a lead moves along."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Enum, ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, UTCDateTime, new_id, utcnow
from embedcrm.kit.models import workspace_fk


class StageKind(enum.StrEnum):
    OPEN = "OPEN"
    WON = "WON"
    LOST = "LOST"


class Pipeline(Base):
    __tablename__ = "pipelines"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Stage(Base):
    __tablename__ = "stages"
    __table_args__ = (
        workspace_fk(["pipeline_id"], "pipelines", ondelete="CASCADE"),
        Index(None, "workspace_id", "pipeline_id", "position"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    pipeline_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    # Chance, in percent, that a lead at this stage is won: weights the forecast.
    probability: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[StageKind] = mapped_column(Enum(StageKind, native_enum=False, length=8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StageRecord(NamedTuple):
    """A stage as a list of leads shows it, read with the page's own rows (``LeadRecord``)."""

    workspace_id: uuid.UUID
    id: uuid.UUID
    name: str
    position: int
    probability: int
    kind: StageKind
