"""The form definitions of a site, keyed like every workspace-owned table (ARCHITECTURE.md, rule 2)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, JSONDocument, UTCDateTime, new_id, utcnow
from embedcrm.kit.models import workspace_fk


class FormDisplay(enum.StrEnum):
    """How the widget shows a rendered form; the values are what the widget reads."""

    INLINE = "inline"
    POPUP = "popup"
    FLOATING = "floating"


class FieldType(enum.StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    EMAIL = "email"
    TEL = "tel"
    NUMBER = "number"
    DATE = "date"
    CHECKBOX = "checkbox"
    SELECT = "select"


class SiteForm(Base):
    """One configured form of a site.

    ``fields`` and the texts are stored in the shape the widget reads (labels as ``{ru, en}``),
    so serving the config is a copy, not a translation.
    """

    __tablename__ = "site_forms"
    __table_args__ = (
        workspace_fk(["site_id"], "sites", ondelete="CASCADE"),
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        UniqueConstraint("workspace_id", "site_id", "key"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    site_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(String(100))
    title: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict)
    display: Mapped[FormDisplay] = mapped_column(
        Enum(
            FormDisplay,
            native_enum=False,
            length=16,
            values_callable=lambda kinds: [kind.value for kind in kinds],
        )
    )
    button_label: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict)
    success_message: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict)
    consent_text: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict)
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
