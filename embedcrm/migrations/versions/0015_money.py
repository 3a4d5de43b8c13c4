"""Money: the product catalogue, and cart lines that point at the product they were picked from.

Revision ID: 0015
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import embedcrm.db

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None

UUID = sa.Uuid()
TIME = embedcrm.db.UTCDateTime(timezone=True)
MONEY = sa.Numeric(precision=14, scale=2)


def _enum(*values: str, length: int) -> sa.Enum:
    return sa.Enum(*values, native_enum=False, length=length)


def _owned_by_workspace(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspaces.id"],
        name=op.f(f"fk_{table}_workspace_id_workspaces"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("kind", _enum("PRODUCT", "SERVICE", length=8), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("cost", MONEY, nullable=True),
        sa.Column("vat_rate", _enum("NONE", "VAT_0", "VAT_10", "VAT_20", length=8), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        _owned_by_workspace("products"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products") as batch:
        batch.create_index(
            batch.f("ix_products_workspace_id_sku"), ["workspace_id", "sku"], unique=True
        )
        batch.create_index(
            batch.f("ix_products_workspace_id_created_at_id"), ["workspace_id", "created_at", "id"]
        )
        batch.create_index(
            batch.f("ix_products_workspace_id_active_created_at_id"),
            ["workspace_id", "active", "created_at", "id"],
        )
    # A batch, so that SQLite rebuilds the table with the new foreign key (nothing points at
    # lead_items, so dropping the old copy cascades into nothing); PostgreSQL alters in place.
    with op.batch_alter_table("lead_items") as batch:
        batch.add_column(sa.Column("product_id", UUID, nullable=True))
        batch.create_foreign_key(
            batch.f("fk_lead_items_workspace_id_product_id_products"),
            "products",
            ["workspace_id", "product_id"],
            ["workspace_id", "id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("lead_items") as batch:
        batch.drop_constraint(
            batch.f("fk_lead_items_workspace_id_product_id_products"), type_="foreignkey"
        )
        batch.drop_column("product_id")
    op.drop_table("products")
