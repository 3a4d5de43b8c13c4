"""Migration 0020 on a database with contacts: down to 0019 drops the table of e-mails and
phones (the primary ones stay on the contacts), up again backfills one primary row for every
e-mail and phone a contact has; on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
from alembic import command
from analytics.test_summaries import empty_database  # noqa: F401 (a fixture)
from sqlalchemy import inspect, select

from conftest import GraphQL
from embedcrm.app import create_app
from embedcrm.config import Settings
from embedcrm.contacts.models import Contact, ContactPoint
from embedcrm.db import create_engine
from embedcrm.migrations import alembic_config, upgrade_to_head
from embedcrm.services import Services
from factories import make_tenant, submission, submit


async def read(settings: Settings) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]] | None]:
    """Every contact's (id, email, email_normalized, phone, phone_e164), and every row of
    contact_points as (contact_id, kind, value, normalized, primary), None without the table."""
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            contacts = {
                tuple(row)
                for row in await connection.execute(
                    select(
                        Contact.id,
                        Contact.email,
                        Contact.email_normalized,
                        Contact.phone,
                        Contact.phone_e164,
                    )
                )
            }
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
            if "contact_points" not in tables:
                return contacts, None
            points = {
                (row[0], row[1].value, row[2], row[3], row[4])
                for row in await connection.execute(
                    select(
                        ContactPoint.contact_id,
                        ContactPoint.kind,
                        ContactPoint.value,
                        ContactPoint.normalized,
                        ContactPoint.is_primary,
                    )
                )
            }
            return contacts, points
    finally:
        await engine.dispose()


def primary_rows(contacts: set[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    rows = set()
    for contact_id, email, email_normalized, phone, phone_e164 in contacts:
        if email is not None:
            rows.add((contact_id, "EMAIL", email, email_normalized, True))
        if phone is not None:
            rows.add((contact_id, "PHONE", phone, phone_e164, True))
    return rows


async def test_down_and_up_again_backfills_the_primary_emails_and_phones(
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
            tenant = await make_tenant(platform)
            for body in (
                submission(email="both@example.com", phone="+7 912 000-00-01"),
                submission(email="", phone="8 (912) 000-00-02"),
                submission(email="only@example.com", phone=""),
                # A second phone of the first person: a row that is not primary.
                submission(email="both@example.com", phone="+7 912 000-00-03"),
            ):
                assert (await submit(client, tenant, body)).status_code == 202
    finally:
        await services.db.dispose()
    contacts, points = await read(own)
    assert len(contacts) == 3
    assert points is not None
    assert points - primary_rows(contacts) == {
        (
            next(c[0] for c in contacts if c[1] == "both@example.com"),
            "PHONE",
            "+7 912 000-00-03",
            "+79120000003",
            False,
        )
    }

    config = alembic_config(own)
    command.downgrade(config, "0019")
    assert await read(own) == (contacts, None)

    command.upgrade(config, "head")
    backfilled = await read(own)
    assert backfilled == (contacts, primary_rows(contacts))
    assert len(primary_rows(contacts)) == 4
