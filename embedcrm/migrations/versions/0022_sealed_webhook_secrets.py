"""Webhook endpoints' signing secrets sealed at rest, as payment providers' are since 0018: the
columns grow to hold a sealed value, and the secrets (current and previous, of workspace and
platform-wide endpoints) kept in the clear are sealed with the newest of EMBEDCRM_SECRET_KEYS
(the keys of the settings the migration runs with). The downgrade opens them again.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import context, op

from embedcrm.config import Settings
from embedcrm.kit.sealed import SecretBox, is_sealed

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# Each table with the columns of its primary key.
TABLES = {"webhook_endpoints": ("workspace_id", "id"), "platform_webhook_endpoints": ("id",)}
COLUMNS = (("secret", False), ("previous_secret", True))
# What the columns held before: a `whsec_` secret is 50 characters.
PLAIN_LENGTH = 128


def _table(name: str) -> sa.TableClause:
    keys = [sa.column(key, sa.Uuid()) for key in TABLES[name]]
    return sa.table(
        name, *keys, sa.column("secret", sa.Text()), sa.column("previous_secret", sa.Text())
    )


def _box() -> SecretBox:
    settings = context.config.attributes.get("settings")
    if not isinstance(settings, Settings):
        settings = Settings.from_env()
    return SecretBox(settings.secret_keys)


def _rewrite(change: Callable[[str], str | None]) -> None:
    """Each secret through ``change``; None leaves it as it is. The owner migrating is bound by
    no row security: every workspace's endpoints are seen."""
    bind = op.get_bind()
    for name, keys in TABLES.items():
        table = _table(name)
        key_columns = [table.c[key] for key in keys]
        rows = bind.execute(sa.select(*key_columns, table.c.secret, table.c.previous_secret))
        for *key, secret, previous in rows.all():
            values = {}
            for column, value in (("secret", secret), ("previous_secret", previous)):
                new = None if value is None else change(value)
                if new is not None:
                    values[column] = new
            if values:
                where = [column == value for column, value in zip(key_columns, key, strict=True)]
                bind.execute(table.update().where(*where).values(**values))


def _alter(type_: sa.types.TypeEngine[str], existing: sa.types.TypeEngine[str]) -> None:
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            for column, nullable in COLUMNS:
                batch_op.alter_column(
                    column, existing_type=existing, type_=type_, existing_nullable=nullable
                )


def upgrade() -> None:
    _alter(sa.Text(), sa.String(length=PLAIN_LENGTH))
    box = _box()
    _rewrite(lambda secret: None if is_sealed(secret) else box.seal(secret))


def downgrade() -> None:
    box = _box()
    _rewrite(lambda secret: box.open(secret) if is_sealed(secret) else None)
    _alter(sa.String(length=PLAIN_LENGTH), sa.Text())
