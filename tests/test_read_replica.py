"""Reports and exports from a streaming replica (EMBEDCRM_READ_DATABASE_URL).

The shared server cannot be made a primary, so the test starts a primary and a replica of its
own (own_postgres.py: initdb, pg_basebackup -R). It shows that a report is read on the replica
by pausing its replay: the report keeps the old numbers while the primary has new leads, and
says how far behind it is; that no write ever reaches the replica; and it measures how long a
committed lead takes to show in the reports.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from own_postgres import PG_BIN, OwnPostgres, require_postgres_tools
from sqlalchemy import event

from conftest import GraphQL
from embedcrm.config import Settings
from embedcrm.ids import parse_global_id
from factories import Tenant, app_with, make_tenant, services_of, submission, submit

REPORT = """query($filter: AnalyticsFilter!) {
  analytics(filter: $filter) { lagSeconds funnel { leads } } }"""
LEADS = "query { leads(first: 1) { totalCount } }"
LEADS_CSV = "query { leadsCsv { rowCount } }"


@pytest.fixture(scope="module")
def primary_and_replica() -> Iterator[tuple[OwnPostgres, OwnPostgres]]:
    require_postgres_tools(str(PG_BIN / "initdb"), str(PG_BIN / "pg_basebackup"))
    primary, replica = OwnPostgres(), OwnPostgres()
    try:
        primary.init()
        primary.start(durable=True)
        primary.create_migrated_database()
        replica.init_as_replica_of(primary)
        replica.start()
        yield primary, replica
    finally:
        replica.remove()
        primary.remove()


def _period() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
    }


async def _report(tenant: Tenant) -> dict[str, Any]:
    data = await tenant.panel.data(REPORT, filter=_period())
    report: dict[str, Any] = data["analytics"]
    return report


async def _replica_reached(primary: OwnPostgres, replica: OwnPostgres, how: str) -> None:
    """Until the replica has received or replayed (``how``: pg_last_wal_receive_lsn or
    pg_last_wal_replay_lsn) everything the primary has written so far."""
    source, standby = await primary.connect(), await replica.connect()
    try:
        target = await source.fetchval("SELECT pg_current_wal_lsn()")
        for _ in range(500):
            if await standby.fetchval(f"SELECT {how}() >= $1::pg_lsn", target):
                return
            await asyncio.sleep(0.01)
        pytest.fail(f"the replica's {how} never reached the primary's WAL")
    finally:
        await source.close()
        await standby.close()


async def test_reports_and_exports_read_the_replica_and_say_how_stale_they_are(
    primary_and_replica: tuple[OwnPostgres, OwnPostgres], settings: Settings
) -> None:
    primary, replica = primary_and_replica
    on_replica: list[str] = []
    async with app_with(
        settings, database_url=primary.url, read_database_url=replica.url
    ) as client:
        services = services_of(client)
        assert services.db.read_engine is not None
        event.listen(
            services.db.read_engine.sync_engine,
            "before_cursor_execute",
            lambda _c, _cur, statement, *_: on_replica.append(statement),
        )
        tenant = await make_tenant(
            GraphQL(client, await services.workspaces.create_platform_key("r"))
        )
        workspace_id = parse_global_id(tenant.workspace_id).workspace_id

        # How long a lead, once committed on the primary, takes to show on the replica.
        lags: list[float] = []
        standby = await replica.connect()
        try:
            for n in range(5):
                answer = await submit(client, tenant, submission(email=f"r{n}@example.com"))
                assert answer.status_code == 202
                committed = time.perf_counter()
                while (
                    await standby.fetchval(
                        "SELECT count(*) FROM leads WHERE workspace_id = $1", workspace_id
                    )
                    < n + 1
                ):
                    assert time.perf_counter() - committed < 10
                    await asyncio.sleep(0.001)
                lags.append(time.perf_counter() - committed)
        finally:
            await standby.close()
        print(
            f"replay lag, commit to visible on the replica: median "
            f"{statistics.median(lags) * 1000:.1f} ms, max {max(lags) * 1000:.1f} ms"
        )
        report = await _report(tenant)
        assert report["funnel"]["leads"] == 5
        assert report["lagSeconds"] == 0

        # The replica stops replaying: reports and exports keep what it had; the primary moves.
        paused = await replica.connect()
        try:
            await paused.execute("SELECT pg_wal_replay_pause()")
            for n in range(2):
                answer = await submit(client, tenant, submission(email=f"late{n}@example.com"))
                assert answer.status_code == 202
            await _replica_reached(primary, replica, "pg_last_wal_receive_lsn")
            await asyncio.sleep(0.2)
            assert (await tenant.panel.data(LEADS))["leads"]["totalCount"] == 7
            stale = await _report(tenant)
            assert stale["funnel"]["leads"] == 5
            assert stale["lagSeconds"] >= 0.2
            assert (await tenant.panel.data(LEADS_CSV))["leadsCsv"]["rowCount"] == 5
        finally:
            await paused.execute("SELECT pg_wal_replay_resume()")
            await paused.close()
        await _replica_reached(primary, replica, "pg_last_wal_replay_lsn")
        fresh = await _report(tenant)
        assert fresh["funnel"]["leads"] == 7
        assert fresh["lagSeconds"] == 0
        assert (await tenant.panel.data(LEADS_CSV))["leadsCsv"]["rowCount"] == 7

        # The replica gone: reports say "unavailable, retry later"; the rest goes on.
        await asyncio.to_thread(replica.stop, "immediate")
        gone = await tenant.panel.client.post(
            "/graphql",
            json={"query": REPORT, "variables": {"filter": _period()}},
            headers={"Authorization": f"Bearer {tenant.panel.bearer}"},
        )
        assert gone.status_code == 503, gone.text
        assert {e["extensions"]["code"] for e in gone.json()["errors"]} == {"unavailable"}
        assert int(gone.headers["Retry-After"]) > 0
        assert (await tenant.panel.data(LEADS))["leads"]["totalCount"] == 7

    # Reads only on the replica: a write there would have failed (a standby is read-only)
    # and been logged; the statements sent to it are reads.
    assert on_replica
    writes = [
        s for s in on_replica if s.lstrip().split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
    assert writes == []
    assert "read-only transaction" not in (replica.root / "log").read_text(errors="replace")
    assert uuid.UUID(str(workspace_id))
