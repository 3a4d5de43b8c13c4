"""The CRM workspace: stage history, cart, order, custom fields, tags, segments, merges, erasures.

Revision ID: 0004
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import embedcrm.db

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

UUID = sa.Uuid()
TIME = embedcrm.db.UTCDateTime(timezone=True)
JSON = embedcrm.db.JSONDocument()


def _workspace_fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id", column],
        [f"{target}.workspace_id", f"{target}.id"],
        name=op.f(f"fk_{table}_workspace_id_{column}_{target}"),
        ondelete=ondelete,
    )


def _owned_by_workspace(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspaces.id"],
        name=op.f(f"fk_{table}_workspace_id_workspaces"),
        ondelete="CASCADE",
    )


def _enum(name: str, *values: str, length: int) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=length)


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(
            sa.Column("managers_edit_all", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=True))
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("import_key", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("payment_method", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("ordered_at", TIME, nullable=True))
        batch.add_column(sa.Column("delivery_method", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("delivery_address", sa.Text(), nullable=True))
        batch.add_column(sa.Column("delivery_from", TIME, nullable=True))
        batch.add_column(sa.Column("delivery_to", TIME, nullable=True))
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=True))
        batch.create_index(
            batch.f("ix_leads_workspace_id_import_key"), ["workspace_id", "import_key"], unique=True
        )
        batch.create_index(
            batch.f("ix_leads_workspace_id_stage_id_value"), ["workspace_id", "stage_id", "value"]
        )
    # Rows written before this revision get their search text once, here.
    op.execute(
        "UPDATE contacts SET search_text = lower(trim(coalesce(name, '') || ' ' || "
        "coalesce(email_normalized, '') || ' ' || coalesce(phone_e164, '') || ' ' || "
        "coalesce(company, '')))"
    )
    op.execute("UPDATE leads SET search_text = lower(title)")

    op.create_table(
        "lead_stage_changes",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("lead_id", UUID, nullable=False),
        sa.Column("pipeline_id", UUID, nullable=False),
        sa.Column("from_stage_id", UUID, nullable=True),
        sa.Column("from_stage_name", sa.String(length=200), nullable=True),
        sa.Column("to_stage_id", UUID, nullable=False),
        sa.Column("to_stage_name", sa.String(length=200), nullable=False),
        sa.Column("changed_by_id", UUID, nullable=True),
        sa.Column("changed_at", TIME, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        _workspace_fk("lead_stage_changes", "changed_by_id", "members"),
        _workspace_fk("lead_stage_changes", "lead_id", "leads", "CASCADE"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_lead_stage_changes")),
    )
    op.create_index(
        op.f("ix_lead_stage_changes_workspace_id_lead_id_changed_at"),
        "lead_stage_changes",
        ["workspace_id", "lead_id", "changed_at"],
    )
    op.create_index(
        op.f("ix_lead_stage_changes_workspace_id_to_stage_id_changed_at"),
        "lead_stage_changes",
        ["workspace_id", "to_stage_id", "changed_at"],
    )

    op.create_table(
        "lead_items",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("lead_id", UUID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=300), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        _workspace_fk("lead_items", "lead_id", "leads", "CASCADE"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_lead_items")),
    )
    op.create_index(
        op.f("ix_lead_items_workspace_id_lead_id_position"),
        "lead_items",
        ["workspace_id", "lead_id", "position"],
    )

    op.create_table(
        "custom_field_definitions",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("entity", _enum("fieldentity", "CONTACT", "LEAD", length=8), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column(
            "type",
            _enum("fieldtype", "TEXT", "NUMBER", "DATE", "BOOLEAN", "CHOICE", length=8),
            nullable=False,
        ),
        sa.Column("options", JSON, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        _owned_by_workspace("custom_field_definitions"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_custom_field_definitions")),
        sa.UniqueConstraint(
            "workspace_id",
            "entity",
            "key",
            name=op.f("uq_custom_field_definitions_workspace_id_entity_key"),
        ),
    )

    op.create_table(
        "tags",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_folded", sa.String(length=100), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        _owned_by_workspace("tags"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_tags")),
        sa.UniqueConstraint(
            "workspace_id", "name_folded", name=op.f("uq_tags_workspace_id_name_folded")
        ),
    )
    for owner, table in (("contact", "contacts"), ("lead", "leads")):
        name = f"{owner}_tags"
        op.create_table(
            name,
            sa.Column("workspace_id", UUID, nullable=False),
            sa.Column(f"{owner}_id", UUID, nullable=False),
            sa.Column("tag_id", UUID, nullable=False),
            _workspace_fk(name, f"{owner}_id", table, "CASCADE"),
            _workspace_fk(name, "tag_id", "tags", "CASCADE"),
            sa.PrimaryKeyConstraint(
                "workspace_id", f"{owner}_id", "tag_id", name=op.f(f"pk_{name}")
            ),
        )
        op.create_index(op.f(f"ix_{name}_workspace_id_tag_id"), name, ["workspace_id", "tag_id"])

    op.create_table(
        "segments",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("entity", _enum("fieldentity", "CONTACT", "LEAD", length=8), nullable=False),
        sa.Column("filter", JSON, nullable=False),
        sa.Column("created_by_id", UUID, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        _workspace_fk("segments", "created_by_id", "members"),
        _owned_by_workspace("segments"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_segments")),
    )
    op.create_index(
        op.f("ix_segments_workspace_id_created_at_id"),
        "segments",
        ["workspace_id", "created_at", "id"],
    )

    op.create_table(
        "contact_merges",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("kept_contact_id", UUID, nullable=False),
        sa.Column("merged_contact_id", UUID, nullable=False),
        sa.Column("merged_snapshot", JSON, nullable=False),
        sa.Column("kept_before", JSON, nullable=False),
        sa.Column("moved", JSON, nullable=False),
        sa.Column("proposal_id", UUID, nullable=True),
        sa.Column("merged_by_id", UUID, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("undone_at", TIME, nullable=True),
        _workspace_fk("contact_merges", "kept_contact_id", "contacts", "CASCADE"),
        _workspace_fk("contact_merges", "merged_by_id", "members"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_contact_merges")),
    )
    op.create_index(
        op.f("ix_contact_merges_workspace_id_created_at_id"),
        "contact_merges",
        ["workspace_id", "created_at", "id"],
    )
    op.create_index(
        op.f("ix_contact_merges_workspace_id_kept_contact_id"),
        "contact_merges",
        ["workspace_id", "kept_contact_id"],
    )

    op.create_table(
        "erasures",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("erased_by_id", UUID, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        _owned_by_workspace("erasures"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_erasures")),
    )
    op.create_index(
        op.f("ix_erasures_workspace_id_created_at_id"),
        "erasures",
        ["workspace_id", "created_at", "id"],
    )

    # The whole workspace's open tasks by due time: the owner's "overdue" list.
    op.create_index(
        op.f("ix_tasks_workspace_id_done_at_due_at_id"),
        "tasks",
        ["workspace_id", "done_at", "due_at", "id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_tasks_workspace_id_done_at_due_at_id"), table_name="tasks")
    for table in (
        "erasures",
        "contact_merges",
        "segments",
        "lead_tags",
        "contact_tags",
        "tags",
        "custom_field_definitions",
        "lead_items",
        "lead_stage_changes",
    ):
        op.drop_table(table)
    with op.batch_alter_table("leads") as batch:
        batch.drop_index(batch.f("ix_leads_workspace_id_stage_id_value"))
        batch.drop_index(batch.f("ix_leads_workspace_id_import_key"))
        for column in (
            "search_text",
            "delivery_to",
            "delivery_from",
            "delivery_address",
            "delivery_method",
            "ordered_at",
            "payment_method",
            "import_key",
            "channel",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("search_text")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("managers_edit_all")
