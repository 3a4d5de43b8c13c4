"""Tasks: reminders with a due time, for a member, about a lead or a contact."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, UTCDateTime, new_id, utcnow
from embedcrm.kit.models import workspace_fk


class TaskKind(enum.StrEnum):
    FIRST_RESPONSE = "FIRST_RESPONSE"
    TODO = "TODO"
    CALL = "CALL"
    MEETING = "MEETING"
    EMAIL = "EMAIL"


class TaskDoneReason(enum.StrEnum):
    """Why a task closed by itself; none when a member marked it done."""

    ANSWERED = "ANSWERED"  # a call, e-mail, message or meeting was logged on the lead
    LEAD_CLOSED = "LEAD_CLOSED"  # the lead was won or lost before anyone answered


class Task(Base):
    """A reminder with a due time, for a member, about a lead or a contact."""

    __tablename__ = "tasks"
    __table_args__ = (
        workspace_fk(["lead_id"], "leads", ondelete="CASCADE"),
        workspace_fk(["contact_id"], "contacts", ondelete="CASCADE"),
        workspace_fk(["assignee_id"], "members"),
        workspace_fk(["created_by_id"], "members"),
        # "My tasks" and the overdue list of the panel.
        Index(None, "workspace_id", "assignee_id", "done_at", "due_at"),
        # The whole workspace's open tasks by due time: the owner's "overdue" list.
        Index(None, "workspace_id", "done_at", "due_at", "id"),
        Index(None, "workspace_id", "lead_id"),
        Index(None, "workspace_id", "contact_id"),
        # The worker's scan for tasks that just became overdue, across workspaces.
        Index(None, "overdue_notified_at", "done_at", "due_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[TaskKind] = mapped_column(Enum(TaskKind, native_enum=False, length=16))
    title: Mapped[str] = mapped_column(String(300))
    lead_id: Mapped[uuid.UUID | None]
    contact_id: Mapped[uuid.UUID | None]
    assignee_id: Mapped[uuid.UUID | None]
    created_by_id: Mapped[uuid.UUID | None]
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_reason: Mapped[TaskDoneReason | None] = mapped_column(
        Enum(TaskDoneReason, native_enum=False, length=16)
    )
    # Set once `task.overdue` is emitted, so it is emitted once.
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
