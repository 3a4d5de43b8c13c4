"""Table helpers shared by every domain's models."""

from __future__ import annotations

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
