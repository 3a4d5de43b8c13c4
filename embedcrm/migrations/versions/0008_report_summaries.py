"""Analytics: what the funnel and the managers' report need of each lead's history, kept on it.

- leads.first_response_at: when a member first answered the lead;
- leads.stage_entered_at and leads.past_stages: when the lead entered the stage it stands in,
  and the stages it stood in before (stage ids in hex, comma-separated);
- lead_stage_changes.entered_at and lead_created_at: when the stay a move ends began, and when
  its lead was created, indexed so that the moves of a period's leads are one index range.

The application keeps them as leads move and are answered; here they are filled from the
history already there.

Revision ID: 0008
Revises: 0007, 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import embedcrm.db

revision = "0008"
# It also follows the CRM's branch, whose stage history it reads and extends: a merge rather
# than a dependency, so the version table and the heads stay one to one.
down_revision = ("0007", "0004")
branch_labels = None
depends_on = None

TIME = embedcrm.db.UTCDateTime(timezone=True)
RESPONSE_KINDS = ("NOTE", "CALL", "EMAIL", "MEETING", "MESSAGE")
COHORT_COLUMNS = [
    "pipeline_id",
    "stage_id",
    "past_stages",
    "site_id",
    "utm_source",
    "assignee_id",
    "status",
    "value",
    "first_response_at",
]

leads = sa.table(
    "leads",
    sa.column("workspace_id"),
    sa.column("id"),
    sa.column("created_at", TIME),
    sa.column("first_response_at", TIME),
    sa.column("stage_entered_at", TIME),
    sa.column("past_stages", sa.Text()),
)
moves = sa.table(
    "lead_stage_changes",
    sa.column("workspace_id"),
    sa.column("id"),
    sa.column("lead_id"),
    sa.column("from_stage_id"),
    sa.column("changed_at", TIME),
    sa.column("entered_at", TIME),
    sa.column("lead_created_at", TIME),
)
activities = sa.table(
    "activities",
    sa.column("workspace_id"),
    sa.column("lead_id"),
    sa.column("author_id"),
    sa.column("kind"),
    sa.column("created_at", TIME),
)
tasks = sa.table(
    "tasks",
    sa.column("workspace_id"),
    sa.column("lead_id"),
    sa.column("kind"),
    sa.column("done_at", TIME),
)


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("first_response_at", TIME, nullable=True))
        batch.add_column(sa.Column("stage_entered_at", TIME, nullable=True))
        batch.add_column(sa.Column("past_stages", sa.Text(), nullable=True))
    with op.batch_alter_table("lead_stage_changes") as batch:
        batch.add_column(sa.Column("entered_at", TIME, nullable=True))
        batch.add_column(sa.Column("lead_created_at", TIME, nullable=True))
    _fill_moves()
    _fill_leads(op.get_bind().dialect.name)
    # The index of the leads by creation also carries what the reports read of them, so that
    # on PostgreSQL they read the index alone (SQLite has no INCLUDE: the index stays as it was).
    op.drop_index("ix_leads_workspace_id_created_at_id", "leads")
    op.create_index(
        "ix_leads_workspace_id_created_at_id",
        "leads",
        ["workspace_id", "created_at", "id"],
        postgresql_include=COHORT_COLUMNS,
    )
    with op.batch_alter_table("lead_stage_changes") as batch:
        batch.alter_column("entered_at", existing_type=TIME, nullable=False)
        batch.alter_column("lead_created_at", existing_type=TIME, nullable=False)
        batch.create_index(
            "ix_lead_stage_changes_workspace_id_lead_created_at",
            ["workspace_id", "lead_created_at"],
            postgresql_include=["lead_id", "from_stage_id", "changed_at", "entered_at"],
        )


def _fill_moves() -> None:
    """Each move's stay began at the lead's move before it, or at its creation."""
    m = moves.alias("m")
    prior = (
        sa.select(
            m.c.workspace_id,
            m.c.id,
            sa.func.lag(m.c.changed_at)
            .over(partition_by=(m.c.workspace_id, m.c.lead_id), order_by=(m.c.changed_at, m.c.id))
            .label("entered_at"),
            leads.c.created_at,
        )
        .join(leads, sa.and_(leads.c.workspace_id == m.c.workspace_id, leads.c.id == m.c.lead_id))
        .subquery("prior")
    )
    op.execute(
        moves.update()
        .where(moves.c.workspace_id == prior.c.workspace_id, moves.c.id == prior.c.id)
        .values(
            entered_at=sa.func.coalesce(prior.c.entered_at, prior.c.created_at),
            lead_created_at=prior.c.created_at,
        )
    )


def _fill_leads(dialect: str) -> None:
    """From each lead's moves, answering activities and done first-response tasks at once."""
    no_time = sa.cast(sa.null(), TIME)
    no_text = sa.cast(sa.null(), sa.Text())
    # SQLite keeps UUIDs as hex already; PostgreSQL prints them with hyphens.
    stage_hex = sa.func.replace(sa.cast(moves.c.from_stage_id, sa.String()), "-", "")
    events = sa.union_all(
        sa.select(
            moves.c.workspace_id,
            moves.c.lead_id,
            moves.c.changed_at.label("moved_at"),
            stage_hex.label("left_stage"),
            no_time.label("answered_at"),
        ),
        sa.select(
            activities.c.workspace_id,
            activities.c.lead_id,
            no_time,
            no_text,
            activities.c.created_at,
        ).where(
            activities.c.lead_id.is_not(None),
            activities.c.author_id.is_not(None),
            activities.c.kind.in_(RESPONSE_KINDS),
        ),
        sa.select(tasks.c.workspace_id, tasks.c.lead_id, no_time, no_text, tasks.c.done_at).where(
            tasks.c.lead_id.is_not(None),
            tasks.c.kind == "FIRST_RESPONSE",
            tasks.c.done_at.is_not(None),
        ),
    ).subquery("events")
    left = events.c.left_stage.distinct()
    past = (
        sa.func.string_agg(left, sa.literal(","))
        if dialect == "postgresql"
        else sa.func.group_concat(left)  # SQLite's DISTINCT form takes the default "," only
    )
    per_lead = (
        sa.select(
            events.c.workspace_id,
            events.c.lead_id,
            sa.func.max(events.c.moved_at).label("stage_entered_at"),
            past.label("past_stages"),
            sa.func.min(events.c.answered_at).label("first_response_at"),
        )
        .group_by(events.c.workspace_id, events.c.lead_id)
        .subquery("per_lead")
    )
    op.execute(
        leads.update()
        .where(leads.c.workspace_id == per_lead.c.workspace_id, leads.c.id == per_lead.c.lead_id)
        .values(
            stage_entered_at=per_lead.c.stage_entered_at,
            past_stages=per_lead.c.past_stages,
            first_response_at=per_lead.c.first_response_at,
        )
    )


def downgrade() -> None:
    op.drop_index("ix_leads_workspace_id_created_at_id", "leads")
    op.create_index(
        "ix_leads_workspace_id_created_at_id", "leads", ["workspace_id", "created_at", "id"]
    )
    op.drop_index("ix_lead_stage_changes_workspace_id_lead_created_at", "lead_stage_changes")
    # Plain DROP COLUMN, which SQLite has had since 3.35: a batch would copy and drop `leads`,
    # and dropping it would delete every row that cascades from a lead.
    for table, column in (
        ("lead_stage_changes", "lead_created_at"),
        ("lead_stage_changes", "entered_at"),
        ("leads", "past_stages"),
        ("leads", "stage_entered_at"),
        ("leads", "first_response_at"),
    ):
        op.drop_column(table, column)
