"""Each analytics report for the big workspace over 90 days, on 1 000 000 leads.

    .venv/bin/python bench/analytics.py [--leads 1000000] [--database embedcrm_bench_analytics] [--keep]

Makes its own database (dropped and made again unless --keep finds it filled; a kept one is
migrated to the code's schema), and fills it inside PostgreSQL with generate_series: 1 000
workspaces, one holding 200 000 leads over a year with their stage history, first-response tasks,
answers, cart items, ad spend and form-event rollups; the others share the rest. VACUUM ANALYZE
then leaves it as autovacuum would. Then it times every report through AnalyticsService, as the
GraphQL resolvers call it, and prints the median of several runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import server_url
from embedcrm.analytics.repository import Scope
from embedcrm.analytics.service import AnalyticsService, Interval
from embedcrm.auth import Platform
from embedcrm.config import Settings
from embedcrm.db import Database
from embedcrm.migrations import is_up_to_date, upgrade_to_head

BIG = 200_000
WORKSPACES = 1000

FILL = """
INSERT INTO workspaces (id, external_id, name, timezone, first_response_minutes, managers_edit_all, created_at)
SELECT md5('w' || n)::uuid, 'bench-' || n, 'Workspace ' || n, 'Europe/Moscow', 15, false, now()
FROM generate_series(0, {workspaces} - 1) n;

INSERT INTO members (workspace_id, id, external_id, name, role, active, created_at)
SELECT md5('w' || n)::uuid, md5('m' || n || '-' || k)::uuid, 'm' || k, 'Менеджер ' || k, 'MANAGER', true, now()
FROM generate_series(0, {workspaces} - 1) n, generate_series(0, 4) k;

INSERT INTO sites (workspace_id, id, public_key, name, domains, language, phone_region, settings, created_at)
SELECT md5('w' || n)::uuid, md5('site' || n)::uuid, 'pk_bench_' || n, 'Site', '[]', 'ru', 'RU', '{{}}', now()
FROM generate_series(0, {workspaces} - 1) n;

INSERT INTO pipelines (workspace_id, id, name, position, is_default, created_at)
SELECT md5('w' || n)::uuid, md5('p' || n)::uuid, 'Продажи', 0, true, now()
FROM generate_series(0, {workspaces} - 1) n;

INSERT INTO stages (workspace_id, id, pipeline_id, name, position, probability, kind, created_at)
SELECT md5('w' || n)::uuid, md5('s' || n || '-' || k)::uuid, md5('p' || n)::uuid,
       (ARRAY['Новый','В работе','Предложение','Успешно','Отказ'])[k + 1], k,
       (ARRAY[10, 30, 60, 100, 0])[k + 1], (ARRAY['OPEN','OPEN','OPEN','WON','LOST'])[k + 1], now()
FROM generate_series(0, {workspaces} - 1) n, generate_series(0, 4) k;

CREATE TEMP TABLE gen AS
SELECT i,
       CASE WHEN i < {big} THEN 0 ELSE 1 + (i - {big}) % ({workspaces} - 1) END AS w,
       now() - random() * interval '365 days' AS created,
       CASE WHEN r < 0.20 THEN 3 WHEN r < 0.35 THEN 4 WHEN r < 0.6 THEN 0 WHEN r < 0.8 THEN 1 ELSE 2 END AS stage,
       (ARRAY['yandex','google','vk','email','2gis',NULL])[1 + (i % 6)] AS source,
       'c' || (i % 7) AS campaign,
       round((100 + random() * 9900)::numeric, 2) AS value,
       random() AS r2
FROM (SELECT i, random() AS r FROM generate_series(0, {leads} - 1) i) s;

INSERT INTO contacts (workspace_id, id, name, custom_fields, first_touch, last_touch, created_at, updated_at)
SELECT md5('w' || w)::uuid, md5('c' || i)::uuid, 'Клиент ' || i, '{{}}', '{{}}', '{{}}', created, created FROM gen;

-- With what the application keeps on each lead of the history below: when it was first
-- answered (the earlier of its call and its done task), when it entered its stage, and the
-- stages it left (hex ids; md5 text is the hex of the uuid made from it).
INSERT INTO leads (workspace_id, id, site_id, contact_id, pipeline_id, stage_id, assignee_id, title, status,
                   value, custom_fields, utm_source, utm_medium, utm_campaign, click_ids, first_touch,
                   event_sequence, created_at, updated_at, expected_close_at,
                   first_response_at, stage_entered_at, past_stages)
SELECT md5('w' || w)::uuid, md5('l' || i)::uuid, md5('site' || w)::uuid, md5('c' || i)::uuid,
       md5('p' || w)::uuid, md5('s' || w || '-' || stage)::uuid,
       CASE WHEN i % 10 = 0 THEN NULL ELSE md5('m' || w || '-' || (i % 5))::uuid END,
       'Заявка', (ARRAY['OPEN','OPEN','OPEN','WON','LOST'])[stage + 1], value, '{{}}',
       source, 'cpc', campaign, '{{}}', '{{}}', 1, created, created,
       CASE WHEN stage < 3 AND r2 < 0.7 THEN created + (r2 * 120) * interval '1 day' END,
       CASE WHEN w = 0 THEN least(CASE WHEN r2 < 0.8 THEN created + r2 * interval '3 hours' END,
                                  CASE WHEN i % 2 = 0 THEN created + r2 * interval '90 minutes' END) END,
       CASE WHEN w = 0 AND stage = 1 THEN created + r2 * interval '2 days'
            WHEN w = 0 AND stage > 1 THEN created + r2 * interval '9 days' END,
       CASE WHEN w = 0 AND stage = 1 THEN md5('s0-0')
            WHEN w = 0 AND stage > 1 THEN md5('s0-0') || ',' || md5('s0-1') END
FROM gen;

-- Stage history of the big workspace: Новый → В работе for every lead that left Новый, then
-- В работе → where it stands for those further on.
INSERT INTO lead_stage_changes (workspace_id, id, lead_id, pipeline_id, from_stage_id, from_stage_name,
                                to_stage_id, to_stage_name, changed_at, created_at, entered_at, lead_created_at)
SELECT md5('w0')::uuid, md5('h1-' || i)::uuid, md5('l' || i)::uuid, md5('p0')::uuid,
       md5('s0-0')::uuid, 'Новый', md5('s0-1')::uuid, 'В работе',
       created + r2 * interval '2 days', created + r2 * interval '2 days', created, created
FROM gen WHERE w = 0 AND stage <> 0;
INSERT INTO lead_stage_changes (workspace_id, id, lead_id, pipeline_id, from_stage_id, from_stage_name,
                                to_stage_id, to_stage_name, changed_at, created_at, entered_at, lead_created_at)
SELECT md5('w0')::uuid, md5('h2-' || i)::uuid, md5('l' || i)::uuid, md5('p0')::uuid,
       md5('s0-1')::uuid, 'В работе', md5('s0-' || stage)::uuid, 'x',
       created + r2 * interval '9 days', created + r2 * interval '9 days',
       created + r2 * interval '2 days', created
FROM gen WHERE w = 0 AND stage > 1;

INSERT INTO tasks (workspace_id, id, kind, title, lead_id, contact_id, assignee_id, due_at, done_at, created_at)
SELECT md5('w' || w)::uuid, md5('t' || i)::uuid, 'FIRST_RESPONSE', 'Ответить', md5('l' || i)::uuid,
       md5('c' || i)::uuid, CASE WHEN i % 10 = 0 THEN NULL ELSE md5('m' || w || '-' || (i % 5))::uuid END,
       created + interval '15 minutes',
       CASE WHEN r2 < 0.8 THEN created + r2 * interval '3 hours' END, created
FROM gen WHERE w = 0;

INSERT INTO activities (workspace_id, id, contact_id, lead_id, author_id, kind, body, data, created_at)
SELECT md5('w0')::uuid, md5('a' || i)::uuid, md5('c' || i)::uuid, md5('l' || i)::uuid,
       md5('m0-' || (i % 5))::uuid, 'CALL', NULL, '{{}}', created + r2 * interval '90 minutes'
FROM gen WHERE w = 0 AND i % 2 = 0;

INSERT INTO lead_items (workspace_id, id, lead_id, position, product, quantity, unit_price, unit_cost, created_at)
SELECT md5('w0')::uuid, md5('it' || i || '-' || k)::uuid, md5('l' || i)::uuid, k, 'Товар', 1 + k,
       round(value / 3, 2), CASE WHEN i % 4 = 0 THEN NULL ELSE round(value / 5, 2) END, created
FROM gen, generate_series(0, 1) k WHERE w = 0 AND stage = 3;

INSERT INTO ad_spend (workspace_id, id, source, campaign, starts_on, ends_on, amount, currency, created_at)
SELECT md5('w0')::uuid, md5('ad' || s || c)::uuid, s, 'c' || c, current_date - 365, current_date, 36600, 'RUB', now()
FROM unnest(ARRAY['yandex','google','vk','email','2gis']) s, generate_series(0, 6) c;
INSERT INTO ad_spend_days (workspace_id, spend_id, day, source, campaign, amount)
SELECT a.workspace_id, a.id, d::date, a.source, a.campaign, 100
FROM ad_spend a, generate_series(current_date - 365, current_date, interval '1 day') d;

INSERT INTO form_event_days (workspace_id, site_id, form, day, views, starts)
SELECT md5('w0')::uuid, md5('site0')::uuid, 'form' || f, d::date, 1000, 200
FROM generate_series(0, 4) f, generate_series(current_date - 365, current_date, interval '1 day') d;
"""


def dsn(database: str) -> str:
    return server_url().rsplit("/", 1)[0] + "/" + database


async def prepare(database: str, leads: int, keep: bool) -> None:
    url = dsn(database).replace("postgresql://", "postgresql+asyncpg://", 1)
    settings = Settings(secret_keys=("bench",), database_url=url)
    admin = await asyncpg.connect(server_url())
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not (exists and keep):
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    if exists and keep:
        # A database filled by an older checkout is brought up to date by the migrations.
        if await asyncio.to_thread(is_up_to_date, settings):
            return
        started = time.perf_counter()
        await asyncio.to_thread(upgrade_to_head, settings)
        print(f"migrated the kept database in {time.perf_counter() - started:.0f} s")
    else:
        await asyncio.to_thread(upgrade_to_head, settings)
        started = time.perf_counter()
        connection = await asyncpg.connect(dsn(database))
        try:
            await connection.execute(FILL.format(workspaces=WORKSPACES, big=BIG, leads=leads))
        finally:
            await connection.close()
        print(f"filled {leads} leads in {time.perf_counter() - started:.0f} s")
    connection = await asyncpg.connect(dsn(database))
    try:
        # As autovacuum would leave it: statistics, and the visibility map that lets an
        # index-only scan skip the table.
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def measure(database: str, runs: int) -> list[tuple[str, float]]:
    url = dsn(database).replace("postgresql://", "postgresql+asyncpg://", 1)
    settings = Settings(secret_keys=("bench",), database_url=url)
    db = Database.from_settings(settings)
    service = AnalyticsService(db)
    principal = Platform(key_id=uuid.uuid4())
    big = uuid.UUID(await _big_workspace(database))
    ends = datetime.now(UTC)
    scope = Scope(starts=ends - timedelta(days=90), ends=ends)
    reports: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("funnel", lambda: service.funnel(principal, big, scope)),
        ("sources (last touch)", lambda: service.sources(principal, big, scope, first_touch=False)),
        ("sources (first touch)", lambda: service.sources(principal, big, scope, first_touch=True)),
        ("spend by campaign", lambda: service.spend(principal, big, scope, by_campaign=True)),
        ("managers", lambda: service.managers(principal, big, scope)),
        ("forecast", lambda: service.forecast(principal, big, scope)),
        ("profitability", lambda: service.profitability(principal, big, scope)),
        ("time series by day", lambda: service.time_series(principal, big, scope, Interval.DAY)),
        ("time series by week", lambda: service.time_series(principal, big, scope, Interval.WEEK)),
        ("forms", lambda: service.forms(principal, big, scope)),
    ]
    results = []
    try:
        for name, call in reports:
            await call()  # warm the pool and the caches
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                await call()
                timings.append((time.perf_counter() - started) * 1000)
            results.append((name, statistics.median(timings)))
            print(f"{name:24} {statistics.median(timings):8.1f} ms  (max {max(timings):.1f})")
    finally:
        await db.dispose()
    return results


async def _big_workspace(database: str) -> str:
    connection = await asyncpg.connect(dsn(database))
    try:
        return str(await connection.fetchval("SELECT md5('w0')::uuid"))
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--database", default="embedcrm_bench_analytics")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="reuse a filled database")
    args = parser.parse_args()
    asyncio.run(prepare(args.database, args.leads, args.keep))
    asyncio.run(measure(args.database, args.runs))


if __name__ == "__main__":
    main()
