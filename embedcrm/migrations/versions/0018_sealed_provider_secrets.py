"""Payment provider secrets sealed at rest: the column grows to hold a sealed value, and the
secrets already kept in the clear are sealed with the newest of EMBEDCRM_SECRET_KEYS (the keys
of the settings the migration runs with). The downgrade opens them again.

Revision ID: 0018
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import context, op

from embedcrm.config import Settings
from embedcrm.kit.sealed import SecretBox, is_sealed

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None

PROVIDERS = sa.table(
    "payment_providers",
    sa.column("workspace_id", sa.Uuid()),
    sa.column("provider", sa.String()),
    sa.column("secret", sa.Text()),
)


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


def upgrade() -> None:
    with op.batch_alter_table("payment_providers", schema=None) as batch_op:
        batch_op.alter_column(
            "secret", existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=False
        )
    box = _box()
    _rewrite(lambda secret: None if is_sealed(secret) else box.seal(secret))


def downgrade() -> None:
    box = _box()
    _rewrite(lambda secret: box.open(secret) if is_sealed(secret) else None)
    with op.batch_alter_table("payment_providers", schema=None) as batch_op:
        batch_op.alter_column(
            "secret", existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=False
        )
