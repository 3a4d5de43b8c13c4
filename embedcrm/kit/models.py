"""Table helpers shared by every domain's models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ForeignKeyConstraint


def workspace_fk(
    columns: list[str], table: str, *, ondelete: str | None = None
) -> ForeignKeyConstraint:
    """A foreign key that includes the workspace, so no row can point into another workspace."""
    return ForeignKeyConstraint(
        ["workspace_id", *columns],
        [f"{table}.workspace_id", f"{table}.id"],
        ondelete=ondelete,
    )


def fold(*parts: str | None) -> str:
    """Case-folded text for search; SQLite's lower() knows ASCII only, so it is done here."""
    return " ".join(p.strip().casefold() for p in parts if p and p.strip())


def plain_row(obj: Any, columns: Sequence[str]) -> dict[str, Any]:
    """The named columns of a row as JSON values (what is not already one becomes a string)."""
    out = {}
    for name in columns:
        value = getattr(obj, name)
        out[name] = (
            value
            if value is None or isinstance(value, (str, int, float, bool, dict, list))
            else str(value)
        )
    return out
