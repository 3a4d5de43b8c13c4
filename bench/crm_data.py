"""1 000 000 leads over 1 000 workspaces, one of them holding 200 000, in a database of its own.

    .venv/bin/python bench/crm_data.py [--leads 1000000] [--database embedcrm_bench_crm]

The database is dropped and made again, migrated, then filled with COPY (the fastest way in),
with the same columns the application writes, search text included. bench/crm_queries.py reads it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import server_url
from embedcrm.config import Settings
from embedcrm.kit.models import fold
from embedcrm.migrations import upgrade_to_head
from embedcrm.pipelines.service import DEFAULT_STAGES

WORKSPACES = 1000
BIG_SHARE = 200_000
SOURCES = ["yandex", "google", "vk", "email", "2gis", None]
NAMES = ["Анна", "Иван", "Мария", "Олег", "Светлана", "Пётр", "Елена", "Сергей"]
SURNAMES = ["Петрова", "Иванов", "Смирнова", "Кузнецов", "Соколова", "Попов", "Волкова"]
COMPANIES = ["ООО Ромашка", "Кафе «Уют»", "Студия Йога+", "ООО Стройсервис", None]
TITLES = ["Заявка с сайта", "Обратный звонок", "Заказ букета", "Консультация", "Запрос цены"]
JSON_CONTACT = ("custom_fields", "first_touch", "last_touch")
JSON_LEAD = ("custom_fields", "click_ids", "first_touch")


def dsn(database: str) -> str:
    return server_url().rsplit("/", 1)[0] + "/" + database


def new_id(moment: datetime) -> uuid.UUID:
    """A UUIDv7 for ``moment``, as the application makes them (time-ordered)."""
    unix_ms = int(moment.timestamp() * 1000)
    rand = random.getrandbits(74)
    value = (
        (unix_ms << 80)
        | (0x7 << 76)
        | ((rand >> 62) << 64)
        | (0b10 << 62)
        | (rand & ((1 << 62) - 1))
    )
    return uuid.UUID(int=value)


async def fill(database: str, total: int) -> None:
    random.seed(42)
    connection = await asyncpg.connect(dsn(database))
    # asyncpg's COPY has no binary jsonb encoder: the empty documents come from defaults instead.
    for table, columns in (("contacts", JSON_CONTACT), ("leads", JSON_LEAD)):
        for column in columns:
            await connection.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT '{{}}'"
            )
    now = datetime.now(UTC)
    started = time.perf_counter()
    workspaces, members, pipelines, stages = [], [], [], []
    stage_ids: dict[uuid.UUID, list[uuid.UUID]] = {}
    member_ids: dict[uuid.UUID, list[uuid.UUID]] = {}
    for n in range(WORKSPACES):
        ws = uuid.uuid4()
        workspaces.append((ws, f"bench-{n}", f"Workspace {n}", "Europe/Moscow", 15, False, now))
        pipeline = new_id(now)
        pipelines.append((ws, pipeline, "Продажи", 0, True, now))
        stage_ids[ws] = []
        for position, (name, probability, kind) in enumerate(DEFAULT_STAGES):
            stage = new_id(now)
            stage_ids[ws].append(stage)
            stages.append((ws, stage, pipeline, name, position, probability, kind.value, now))
        member_ids[ws] = []
        for m in range(5):
            member = new_id(now)
            member_ids[ws].append(member)
            members.append((ws, member, f"m{m}", f"Менеджер {m}", None, "MANAGER", True, now))
    await connection.copy_records_to_table(
        "workspaces",
        records=workspaces,
        columns=[
            "id",
            "external_id",
            "name",
            "timezone",
            "first_response_minutes",
            "managers_edit_all",
            "created_at",
        ],
    )
    await connection.copy_records_to_table(
        "members",
        records=members,
        columns=[
            "workspace_id",
            "id",
            "external_id",
            "name",
            "email",
            "role",
            "active",
            "created_at",
        ],
    )
    await connection.copy_records_to_table(
        "pipelines",
        records=pipelines,
        columns=["workspace_id", "id", "name", "position", "is_default", "created_at"],
    )
    await connection.copy_records_to_table(
        "stages",
        records=stages,
        columns=[
            "workspace_id",
            "id",
            "pipeline_id",
            "name",
            "position",
            "probability",
            "kind",
            "created_at",
        ],
    )
    # Indexes are built once at the end: maintaining seven of them row by row is what makes a
    # bulk load slow; the constraints of the keys stay.
    index_sql = [
        row["indexdef"]
        for row in await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('leads', 'contacts', 'contact_points') AND indexname NOT LIKE 'pk_%'"
        )
    ]
    for row in await connection.fetch(
        "SELECT indexname FROM pg_indexes WHERE tablename IN "
        "('leads', 'contacts', 'contact_points') AND indexname NOT LIKE 'pk_%'"
    ):
        await connection.execute(f'DROP INDEX "{row["indexname"]}"')
    await connection.execute("SET synchronous_commit = off")
    ids = [w[0] for w in workspaces]
    share = (total - BIG_SHARE) // (WORKSPACES - 1)
    counts = [BIG_SHARE] + [share] * (WORKSPACES - 1)
    counts[-1] += total - sum(counts)
    contact_columns = [
        "workspace_id",
        "id",
        "name",
        "email",
        "email_normalized",
        "phone",
        "phone_e164",
        "company",
        "search_text",
        "created_at",
        "updated_at",
    ]
    lead_columns = [
        "workspace_id",
        "id",
        "contact_id",
        "pipeline_id",
        "stage_id",
        "assignee_id",
        "title",
        "status",
        "value",
        "currency",
        "utm_source",
        "search_text",
        "event_sequence",
        "created_at",
        "updated_at",
    ]
    pipeline_of = {p[0]: p[1] for p in pipelines}
    serial = 0
    batch_contacts: list[tuple[object, ...]] = []
    batch_leads: list[tuple[object, ...]] = []
    for ws, count in zip(ids, counts, strict=True):
        for _ in range(count):
            serial += 1
            created = now - timedelta(seconds=random.randint(0, 365 * 86400))
            name = f"{random.choice(NAMES)} {random.choice(SURNAMES)}"
            email = f"client{serial}@example.com"
            phone = f"+7912{serial:07d}"
            company = random.choice(COMPANIES)
            contact = new_id(created)
            batch_contacts.append(
                (
                    ws,
                    contact,
                    name,
                    email,
                    email,
                    phone,
                    phone,
                    company,
                    fold(name, email, phone, company),
                    created,
                    created,
                )
            )
            stage_index = random.choices(range(5), weights=[30, 25, 15, 15, 15])[0]
            status = ("OPEN", "OPEN", "OPEN", "WON", "LOST")[stage_index]
            title = random.choice(TITLES)
            value = Decimal(random.randint(5, 900) * 100) if random.random() < 0.6 else None
            batch_leads.append(
                (
                    ws,
                    new_id(created),
                    contact,
                    pipeline_of[ws],
                    stage_ids[ws][stage_index],
                    random.choice(member_ids[ws]) if random.random() < 0.8 else None,
                    title,
                    status,
                    value,
                    "RUB" if value else None,
                    random.choice(SOURCES),
                    fold(title),
                    1,
                    created,
                    created,
                )
            )
            if len(batch_leads) >= 50_000:
                await connection.copy_records_to_table(
                    "contacts", records=batch_contacts, columns=contact_columns
                )
                await connection.copy_records_to_table(
                    "leads", records=batch_leads, columns=lead_columns
                )
                batch_contacts.clear()
                batch_leads.clear()
                print(f"  {serial:>9} leads  {time.perf_counter() - started:6.1f} s", flush=True)
    if batch_leads:
        await connection.copy_records_to_table(
            "contacts", records=batch_contacts, columns=contact_columns
        )
        await connection.copy_records_to_table("leads", records=batch_leads, columns=lead_columns)
    # Every contact's e-mail and phone as its primary ones, as the application keeps them:
    # capture and the panel's searches find a person by these rows. (The statement's pieces
    # are constants of this file.) Each row points at a contact just read from the table, so
    # the foreign key's check per row (a trigger) is skipped, as pg_restore --disable-triggers
    # does: it was most of the time of the whole fill.
    await connection.execute("SET session_replication_role = replica")
    for kind, raw, normalized in (
        ("EMAIL", "email", "email_normalized"),
        ("PHONE", "phone", "phone_e164"),
    ):
        await connection.execute(
            "INSERT INTO contact_points (workspace_id, id, contact_id, kind, value, normalized,"
            f" is_primary, created_at) SELECT workspace_id, gen_random_uuid(), id, '{kind}', {raw},"
            f" {normalized}, true, created_at FROM contacts WHERE {raw} IS NOT NULL"
        )
    await connection.execute("SET session_replication_role = DEFAULT")
    print(f"  e-mails and phones  {time.perf_counter() - started:6.1f} s", flush=True)
    await connection.execute("SET maintenance_work_mem = '256MB'")
    for sql in index_sql:
        await connection.execute(sql)
    print(f"  indexes rebuilt     {time.perf_counter() - started:6.1f} s", flush=True)
    # VACUUM sets the visibility map, so counts can be answered from indexes alone.
    await connection.execute("VACUUM ANALYZE")
    await connection.close()
    print(
        f"{serial} leads and contacts over {WORKSPACES} workspaces in {time.perf_counter() - started:.1f} s"
    )
    print(f"the big workspace: {ids[0]}")


async def recreate(database: str) -> None:
    admin = await asyncpg.connect(server_url())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--database", default="embedcrm_bench_crm")
    args = parser.parse_args()
    asyncio.run(recreate(args.database))
    url = dsn(args.database).replace("postgresql://", "postgresql+asyncpg://", 1)
    upgrade_to_head(Settings(secret_keys=("bench-secret-0123456789",), database_url=url))
    asyncio.run(fill(args.database, args.leads))


if __name__ == "__main__":
    main()
