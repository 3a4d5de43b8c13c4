"""Migration 0022 on a database with endpoints: up from 0021 seals the webhook secrets (current
and previous, of workspace and platform-wide endpoints) an older version kept in the clear, and
down opens them again; on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from conftest import database_at
from embedcrm.config import Settings
from embedcrm.db import utcnow
from embedcrm.kit.sealed import SEALED_PREFIX, SecretBox
from embedcrm.migrations import alembic_config
from embedcrm.webhooks.models import PlatformWebhookEndpoint, WebhookEndpoint
from embedcrm.webhooks.signing import generate_secret
from embedcrm.workspaces.models import Workspace


@pytest.fixture
def database_at_0021(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with database_at(tmp_path_factory, "0021", prefix="endpoint_secrets") as settings:
        yield settings


async def test_migration_0022_seals_the_secrets_kept_in_the_clear_and_its_downgrade_opens_them(
    database_at_0021: Settings,
) -> None:
    settings = database_at_0021
    # A connection per statement: the migrations change the columns a pooled one planned for.
    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    workspace = uuid.uuid4()
    plain = {name: generate_secret() for name in ("current", "previous", "platform", "other")}
    now = utcnow()
    async with engine.begin() as connection:
        await connection.execute(
            Workspace.__table__.insert(), [{"id": workspace, "name": "Ромашка"}]
        )
        await connection.execute(
            WebhookEndpoint.__table__.insert(),
            [
                {
                    "workspace_id": workspace,
                    "id": uuid.uuid4(),
                    "url": "https://hooks.example.com/a",
                    "secret": plain["current"],
                    "previous_secret": plain["previous"],
                    "previous_secret_expires_at": now + timedelta(hours=3),
                    "event_types": [],
                    "enabled": True,
                    "created_at": now,
                    "updated_at": now,
                },
                {
                    "workspace_id": workspace,
                    "id": uuid.uuid4(),
                    "url": "https://hooks.example.com/b",
                    "secret": plain["other"],
                    "previous_secret": None,
                    "previous_secret_expires_at": None,
                    "event_types": ["lead.created"],
                    "enabled": False,
                    "created_at": now,
                    "updated_at": now,
                },
            ],
        )
        await connection.execute(
            PlatformWebhookEndpoint.__table__.insert(),
            [
                {
                    "id": uuid.uuid4(),
                    "url": "https://hooks.example.com/platform",
                    "secret": plain["platform"],
                    "event_types": [],
                    "enabled": True,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )

    async def secrets() -> dict[str, str | None]:
        async with engine.connect() as connection:
            rows = list(
                await connection.execute(
                    select(
                        WebhookEndpoint.url, WebhookEndpoint.secret, WebhookEndpoint.previous_secret
                    )
                )
            )
            rows += list(
                await connection.execute(
                    select(
                        PlatformWebhookEndpoint.url,
                        PlatformWebhookEndpoint.secret,
                        PlatformWebhookEndpoint.previous_secret,
                    )
                )
            )
        found: dict[str, str | None] = {}
        for url, secret, previous in rows:
            found[url.rsplit("/", 1)[1]] = secret
            found[url.rsplit("/", 1)[1] + "-previous"] = previous
        return found

    expected_plain = {
        "a": plain["current"],
        "a-previous": plain["previous"],
        "b": plain["other"],
        "b-previous": None,
        "platform": plain["platform"],
        "platform-previous": None,
    }
    try:
        assert await secrets() == expected_plain
        config = alembic_config(settings)
        command.upgrade(config, "0022")
        sealed = await secrets()
        box = SecretBox(settings.secret_keys)
        for key, value in expected_plain.items():
            stored = sealed[key]
            if value is None:
                assert stored is None
                continue
            assert stored is not None and stored.startswith(SEALED_PREFIX)
            assert value not in stored and value.removeprefix("whsec_") not in stored
            assert box.open(stored) == value

        # Down and up again: the same secrets in the clear, then sealed anew.
        command.downgrade(config, "0021")
        assert await secrets() == expected_plain
        command.upgrade(config, "0022")
        resealed = await secrets()
        assert {k: v and box.open(v) for k, v in resealed.items()} == expected_plain
        command.downgrade(config, "0021")
        assert await secrets() == expected_plain
    finally:
        await engine.dispose()
