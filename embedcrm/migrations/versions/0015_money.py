"""Money: the product catalogue, cart lines that point at the product they were picked from,
invoices with their lines, the per-workspace counter that numbers them, the shop's
requisites, the payments applied to invoices, the workspaces' payment provider accounts, and
the 1C exchange (its credentials and the files 1C uploads), and the managers' commission rules.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import embedcrm.db

revision = "0015"
down_revision = "0014"
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


def _workspace_fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id", column],
        [f"{target}.workspace_id", f"{target}.id"],
        name=op.f(f"fk_{table}_workspace_id_{column}_{target}"),
        ondelete=ondelete,
    )


VAT_RATE = ("NONE", "VAT_0", "VAT_10", "VAT_20")


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
        sa.Column("vat_rate", _enum(*VAT_RATE, length=8), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
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
        batch.create_index(
            batch.f("ix_products_workspace_id_external_id"), ["workspace_id", "external_id"]
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

    op.create_table(
        "invoice_counters",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        _owned_by_workspace("invoice_counters"),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_invoice_counters")),
    )
    op.create_table(
        "requisites",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("legal_name", sa.String(length=300), nullable=False),
        sa.Column("inn", sa.String(length=12), nullable=False),
        sa.Column("kpp", sa.String(length=9), nullable=True),
        sa.Column("ogrn", sa.String(length=15), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("bank_name", sa.String(length=300), nullable=True),
        sa.Column("bik", sa.String(length=9), nullable=True),
        sa.Column("bank_account", sa.String(length=20), nullable=True),
        sa.Column("correspondent_account", sa.String(length=20), nullable=True),
        sa.Column("updated_at", TIME, nullable=False),
        _owned_by_workspace("requisites"),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_requisites")),
    )
    op.create_table(
        "invoices",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            _enum("DRAFT", "ISSUED", "PARTLY_PAID", "PAID", "CANCELLED", length=12),
            nullable=False,
        ),
        sa.Column("lead_id", UUID, nullable=True),
        sa.Column("contact_id", UUID, nullable=True),
        sa.Column("buyer_name", sa.String(length=300), nullable=False),
        sa.Column("buyer_details", sa.Text(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("vat_mode", _enum("INCLUDED", "ON_TOP", length=8), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("subtotal", MONEY, nullable=False),
        sa.Column("vat_total", MONEY, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("paid_total", MONEY, nullable=False),
        sa.Column("paid_at", TIME, nullable=True),
        sa.Column("exchanged_at", TIME, nullable=True),
        sa.Column("overdue_notified_at", TIME, nullable=True),
        sa.Column("issued_at", TIME, nullable=True),
        sa.Column("cancelled_at", TIME, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        _owned_by_workspace("invoices"),
        _workspace_fk("invoices", "lead_id", "leads"),
        _workspace_fk("invoices", "contact_id", "contacts"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_invoices")),
    )
    with op.batch_alter_table("invoices") as batch:
        batch.create_index(
            batch.f("ix_invoices_workspace_id_number"), ["workspace_id", "number"], unique=True
        )
        for columns in (
            ["workspace_id", "created_at", "id"],
            ["workspace_id", "status", "created_at", "id"],
            ["workspace_id", "lead_id"],
            ["workspace_id", "contact_id", "created_at", "id"],
            ["workspace_id", "exchanged_at"],
            ["overdue_notified_at", "status", "due_on"],
        ):
            batch.create_index(batch.f("ix_invoices_" + "_".join(columns)), columns)
    op.create_table(
        "invoice_lines",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("invoice_id", UUID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", UUID, nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("unit_price", MONEY, nullable=False),
        sa.Column("unit_cost", MONEY, nullable=True),
        sa.Column("vat_rate", _enum(*VAT_RATE, length=8), nullable=False),
        sa.Column("net", MONEY, nullable=False),
        sa.Column("vat", MONEY, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        _workspace_fk("invoice_lines", "invoice_id", "invoices", ondelete="CASCADE"),
        _workspace_fk("invoice_lines", "product_id", "products"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_invoice_lines")),
    )
    with op.batch_alter_table("invoice_lines") as batch:
        batch.create_index(
            batch.f("ix_invoice_lines_workspace_id_invoice_id_position"),
            ["workspace_id", "invoice_id", "position"],
        )
    op.create_table(
        "payments",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("invoice_id", UUID, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("source", _enum("MANUAL", "PROVIDER", length=8), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=True),
        sa.Column("provider_payment_id", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", UUID, nullable=True),
        sa.Column("paid_at", TIME, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        _workspace_fk("payments", "invoice_id", "invoices", ondelete="CASCADE"),
        _workspace_fk("payments", "recorded_by_id", "members"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments") as batch:
        batch.create_index(
            batch.f("ix_payments_workspace_id_provider_provider_payment_id"),
            ["workspace_id", "provider", "provider_payment_id"],
            unique=True,
        )
        batch.create_index(
            batch.f("ix_payments_workspace_id_invoice_id_paid_at"),
            ["workspace_id", "invoice_id", "paid_at"],
        )
        batch.create_index(batch.f("ix_payments_workspace_id_paid_at"), ["workspace_id", "paid_at"])
    op.create_table(
        "payment_providers",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("provider", _enum("ROBOKASSA", "YOOKASSA", length=10), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        _owned_by_workspace("payment_providers"),
        sa.PrimaryKeyConstraint("workspace_id", "provider", name=op.f("pk_payment_providers")),
    )
    op.create_table(
        "one_c_exchanges",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("last_query_at", TIME, nullable=True),
        sa.Column("updated_at", TIME, nullable=False),
        _owned_by_workspace("one_c_exchanges"),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_one_c_exchanges")),
    )
    op.create_table(
        "exchange_files",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        _owned_by_workspace("exchange_files"),
        sa.PrimaryKeyConstraint("workspace_id", "filename", name=op.f("pk_exchange_files")),
    )
    op.create_table(
        "commission_rules",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("member_id", UUID, nullable=False),
        sa.Column("basis", _enum("PAID_REVENUE", "MARGIN", length=12), nullable=False),
        sa.Column("percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        _workspace_fk("commission_rules", "member_id", "members", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_commission_rules")),
    )
    with op.batch_alter_table("commission_rules") as batch:
        batch.create_index(
            batch.f("ix_commission_rules_workspace_id_member_id_starts_on"),
            ["workspace_id", "member_id", "starts_on"],
        )


def downgrade() -> None:
    op.drop_table("commission_rules")
    op.drop_table("exchange_files")
    op.drop_table("one_c_exchanges")
    op.drop_table("payment_providers")
    op.drop_table("payments")
    op.drop_table("invoice_lines")
    op.drop_table("invoices")
    op.drop_table("requisites")
    op.drop_table("invoice_counters")
    with op.batch_alter_table("lead_items") as batch:
        batch.drop_constraint(
            batch.f("fk_lead_items_workspace_id_product_id_products"), type_="foreignkey"
        )
        batch.drop_column("product_id")
    op.drop_table("products")
