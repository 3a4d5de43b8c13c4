"""One history: the branches each area kept off the initial schema (capture, forms, webhooks,
CRM and analytics) join here (heads 0005, 0006, 0009, 0012), so from now on every revision has
one parent and `alembic revision` needs no `--head`. Changes no table; a database at the old
heads upgrades through it.

Revision ID: 0013
Revises: 0005, 0006, 0009, 0012
"""

from __future__ import annotations

revision = "0013"
down_revision = ("0005", "0006", "0009", "0012")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
