"""Analytics: ad spend, its days, the daily rollup of form events, and leads' expected close.

Revision ID: 0007
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import embedcrm.db

revision = "0007"
down_revision = "0001"
branch_labels = None
depends_on = None

UUID = sa.Uuid()
TIME = embedcrm.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("expected_close_at", TIME, nullable=True))
        batch.create_index(
            "ix_leads_workspace_id_expected_close_at", ["workspace_id", "expected_close_at"]
        )
    op.create_table(
        "ad_spend",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_ad_spend_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_ad_spend")),
    )
    op.create_index(
        op.f("ix_ad_spend_workspace_id_starts_on_id"),
        "ad_spend",
        ["workspace_id", "starts_on", "id"],
    )
    op.create_table(
        "ad_spend_days",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("spend_id", UUID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "spend_id"],
            ["ad_spend.workspace_id", "ad_spend.id"],
            name=op.f("fk_ad_spend_days_workspace_id_spend_id_ad_spend"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "spend_id", "day", name=op.f("pk_ad_spend_days")),
    )
    op.create_index(
        op.f("ix_ad_spend_days_workspace_id_day_source_campaign"),
        "ad_spend_days",
        ["workspace_id", "day", "source", "campaign"],
    )
    op.create_table(
        "form_event_days",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("site_id", UUID, nullable=False),
        sa.Column("form", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "site_id"],
            ["sites.workspace_id", "sites.id"],
            name=op.f("fk_form_event_days_workspace_id_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "site_id", "form", "day", name=op.f("pk_form_event_days")
        ),
    )


def downgrade() -> None:
    op.drop_table("form_event_days")
    op.drop_index(op.f("ix_ad_spend_days_workspace_id_day_source_campaign"), "ad_spend_days")
    op.drop_table("ad_spend_days")
    op.drop_index(op.f("ix_ad_spend_workspace_id_starts_on_id"), "ad_spend")
    op.drop_table("ad_spend")
    with op.batch_alter_table("leads") as batch:
        batch.drop_index("ix_leads_workspace_id_expected_close_at")
        batch.drop_column("expected_close_at")
