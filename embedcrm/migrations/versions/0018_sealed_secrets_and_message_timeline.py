"""Payment provider secrets sealed at rest: the column grows to hold a sealed value, and the
secrets already kept in the clear are sealed with the newest of EMBEDCRM_SECRET_KEYS (the keys
of the settings the migration runs with). The downgrade opens them again.

Every message to a contact is now an entry of the contact's timeline, made with the message: the
messages sent before get theirs here, and the downgrade removes them.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import sqlalchemy as sa
from alembic import context, op

from embedcrm.config import Settings
from embedcrm.db import JSONDocument, UTCDateTime
from embedcrm.kit.sealed import SecretBox, is_sealed

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

PROVIDERS = sa.table(
    "payment_providers",
    sa.column("workspace_id", sa.Uuid()),
    sa.column("provider", sa.String()),
    sa.column("secret", sa.Text()),
)


MESSAGES = sa.table(
    "messages",
    sa.column("workspace_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("contact_id", sa.Uuid()),
    sa.column("lead_id", sa.Uuid()),
    sa.column("channel", sa.String()),
    sa.column("template", sa.String()),
    sa.column("subject", sa.String()),
    sa.column("body", sa.Text()),
    sa.column("created_at", UTCDateTime(timezone=True)),
)
ACTIVITIES = sa.table(
    "activities",
    sa.column("workspace_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("contact_id", sa.Uuid()),
    sa.column("lead_id", sa.Uuid()),
    sa.column("author_id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("body", sa.Text()),
    sa.column("data", JSONDocument()),
    sa.column("created_at", UTCDateTime(timezone=True)),
)
BATCH = 500
# As embedcrm.messages.service writes the entry: the subject, else the body's start.
MAX_ENTRY_BODY = 300


def _box() -> SecretBox:
    settings = context.config.attributes.get("settings")
    if not isinstance(settings, Settings):
        settings = Settings.from_env()
    return SecretBox(settings.secret_keys)


def _rewrite(change: Callable[[str], str | None]) -> None:
    """Each row's secret through ``change``; None leaves the row as it is."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(PROVIDERS.c.workspace_id, PROVIDERS.c.provider, PROVIDERS.c.secret)
    ).all()
    for workspace_id, provider, secret in rows:
        new = change(secret)
        if new is not None:
            bind.execute(
                PROVIDERS.update()
                .where(PROVIDERS.c.workspace_id == workspace_id, PROVIDERS.c.provider == provider)
                .values(secret=new)
            )


def _timeline_entries() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(MESSAGES).where(MESSAGES.c.contact_id.is_not(None)).order_by(MESSAGES.c.id)
    ).all()
    entries = [
        {
            "workspace_id": row.workspace_id,
            "id": uuid.uuid4(),
            "contact_id": row.contact_id,
            "lead_id": row.lead_id,
            "author_id": None,
            "kind": "MESSAGE",
            "body": row.subject or row.body[:MAX_ENTRY_BODY],
            "data": {
                "message_id": str(row.id),
                "channel": row.channel,
                "template": row.template,
            },
            "created_at": row.created_at,
        }
        for row in rows
    ]
    for start in range(0, len(entries), BATCH):
        bind.execute(ACTIVITIES.insert(), entries[start : start + BATCH])


def _drop_timeline_entries() -> None:
    bind = op.get_bind()
    message_ids = {str(i) for i in bind.execute(sa.select(MESSAGES.c.id)).scalars()}
    entries = bind.execute(
        sa.select(ACTIVITIES.c.workspace_id, ACTIVITIES.c.id, ACTIVITIES.c.data).where(
            ACTIVITIES.c.kind == "MESSAGE", ACTIVITIES.c.author_id.is_(None)
        )
    ).all()
    for workspace_id, entry_id, data in entries:
        if isinstance(data, dict) and data.get("message_id") in message_ids:
            bind.execute(
                ACTIVITIES.delete().where(
                    ACTIVITIES.c.workspace_id == workspace_id, ACTIVITIES.c.id == entry_id
                )
            )


def upgrade() -> None:
    with op.batch_alter_table("payment_providers", schema=None) as batch_op:
        batch_op.alter_column(
            "secret", existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=False
        )
    box = _box()
    _rewrite(lambda secret: None if is_sealed(secret) else box.seal(secret))
    _timeline_entries()


def downgrade() -> None:
    _drop_timeline_entries()
    box = _box()
    _rewrite(lambda secret: box.open(secret) if is_sealed(secret) else None)
    with op.batch_alter_table("payment_providers", schema=None) as batch_op:
        batch_op.alter_column(
            "secret", existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=False
        )
