"""Migration 0014 on a database with data: going down to 0013 and up again keeps every site,
submission and lead. Rebuilding the sites or members table (what a batch migration does on
SQLite) would cascade into those rows, or be refused by the leads that point at them."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
from alembic import command
from analytics.test_summaries import empty_database  # noqa: F401 (a fixture)
from sqlalchemy import func, select

from conftest import GraphQL
from embedcrm.app import create_app
from embedcrm.capture.models import Submission
from embedcrm.config import Settings
from embedcrm.db import create_engine
from embedcrm.leads.models import Lead
from embedcrm.migrations import alembic_config, upgrade_to_head
from embedcrm.services import Services
from embedcrm.workspaces.models import Member, Site
from factories import make_tenant, submission, submit


async def counts(settings: Settings) -> dict[str, int]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            found: dict[str, Any] = {}
            for model in (Site, Member, Submission, Lead):
                found[model.__tablename__] = await connection.scalar(
                    select(func.count()).select_from(model)
                )
            return found
    finally:
        await engine.dispose()


async def test_down_and_up_again_keeps_sites_and_what_points_at_them(
    settings: Settings,
    empty_database: str,  # noqa: F811
) -> None:
    own = dataclasses.replace(settings, database_url=empty_database)
    upgrade_to_head(own)
    services = Services.create(own)
    try:
        app = create_app(own, services=services)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://crm.test"
        ) as client:
            platform = GraphQL(client, await services.workspaces.create_platform_key("m"))
            for n in range(2):
                tenant = await make_tenant(platform)
                answer = await submit(client, tenant, submission(email=f"m{n}@example.com"))
                assert answer.status_code == 202
    finally:
        await services.db.dispose()
    before = await counts(own)
    assert before == {"sites": 2, "members": 2, "submissions": 2, "leads": 2}

    config = alembic_config(own)
    command.downgrade(config, "0013")
    assert await counts(own) == before
    command.upgrade(config, "head")
    assert await counts(own) == before
