"""Database faults with a PostgreSQL of the test's own, which it stops and starts.

The shared server is never touched: each run makes a cluster of its own (own_postgres.py).
SQLite runs skip these: its database is a file inside the process.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from own_postgres import PG_BIN, OwnPostgres, require_postgres_tools

from conftest import GraphQL
from embedcrm.config import Settings
from factories import Tenant, app_with, form_token, make_tenant, services_of, submission


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[OwnPostgres]:
    require_postgres_tools(str(PG_BIN / "initdb"))
    cluster = OwnPostgres()
    try:
        cluster.init()
        cluster.start()
        cluster.create_migrated_database()
        yield cluster
    finally:
        cluster.remove()


def app_on(cluster: OwnPostgres, settings: Settings) -> Any:
    """The app on the test's own cluster. Leads are made by the worker's pass, as with
    inline processing off, so that what was accepted during an outage is made afterwards."""
    return app_with(
        settings,
        database_url=cluster.url,
        db_pool_timeout_seconds=1.0,
        process_submissions_inline=False,
        # Four visitors each reading beside their forms, and the outage's own probe, are five
        # reads of one panel token at once: none of them may be the one refused for concurrency.
        graphql_concurrency_per_panel_token=8,
    )


PANEL_READ = "query { leads(first: 5) { totalCount edges { node { id contact { name } } } } }"


async def _submit(client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any]) -> Any:
    # The widget sends the form token its page was given (one per page: a retry is the same body).
    return await client.post(
        f"/v1/sites/{tenant.site_key}/submissions",
        json={**body, "form_token": form_token(client, tenant)},
        headers={"Origin": f"https://{tenant.domain}"},
    )


async def _read(client: httpx.AsyncClient, tenant: Tenant) -> Any:
    return await client.post(
        "/graphql",
        json={"query": PANEL_READ},
        headers={"Authorization": f"Bearer {tenant.panel.bearer}"},
    )


def _assert_retry_later(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert "Traceback" not in response.text
    body = response.json()
    codes = (
        {body["error"]["code"]}
        if "error" in body
        else {e["extensions"]["code"] for e in body["errors"]}
    )
    assert codes == {"unavailable"}, body


async def test_a_database_stopped_under_load_answers_503_and_loses_no_accepted_form(
    own_postgres: OwnPostgres, settings: Settings
) -> None:
    async with app_on(own_postgres, settings) as client:
        services = services_of(client)
        key = await services.workspaces.create_platform_key("faults")
        tenant = await make_tenant(GraphQL(client, key))
        sent: dict[str, dict[str, Any]] = {}
        statuses: list[int] = []
        retry_later: list[str] = []
        stopped = asyncio.Event()

        async def visitor(n: int) -> None:
            # Bounded: 30 forms per visitor, a panel read beside each.
            for i in range(30):
                body = submission(email=f"v{n}-{i}@example.com", phone="")
                sent[body["submission_id"]] = body
                answer = await _submit(client, tenant, body)
                read = await _read(client, tenant)
                for response in (answer, read):
                    statuses.append(response.status_code)
                    if response.status_code != 200 and response.status_code != 202:
                        _assert_retry_later(response)
                if answer.status_code == 503:
                    retry_later.append(body["submission_id"])
                if i == 10 and n == 0:
                    stopped.set()
                await asyncio.sleep(0.005)

        async def outage() -> None:
            await stopped.wait()
            await asyncio.to_thread(own_postgres.stop, "fast")
            down_submit = await _submit(client, tenant, submission(email="down@example.com"))
            _assert_retry_later(down_submit)
            _assert_retry_later(await _read(client, tenant))
            assert (await client.get("/readyz")).status_code == 503
            await asyncio.sleep(0.5)
            await asyncio.to_thread(own_postgres.start)

        await asyncio.gather(*(visitor(n) for n in range(4)), outage())
        assert 503 in statuses, "the outage fell between requests"
        assert 500 not in statuses

        # Back within seconds: the pool drops dead connections and makes new ones.
        started = time.perf_counter()
        while (await _read(client, tenant)).status_code != 200:
            assert time.perf_counter() - started < 10
            await asyncio.sleep(0.1)
        # The widget retries each 503 with the same submission id.
        for submission_id in retry_later:
            again = await _submit(client, tenant, sent[submission_id])
            assert again.status_code in (200, 202), again.text
        await services.capture.retry_unprocessed()
        read = await _read(client, tenant)
    assert read.status_code == 200, read.text
    # Every form answered 202 (or retried after a 503) is a lead: nothing accepted was lost,
    # and nothing refused was half-written.
    assert read.json()["data"]["leads"]["totalCount"] == len(sent)


async def test_a_database_shutting_down_answers_503(
    own_postgres: OwnPostgres, settings: Settings
) -> None:
    async with app_on(own_postgres, settings) as client:
        services = services_of(client)
        key = await services.workspaces.create_platform_key("faults")
        tenant = await make_tenant(GraphQL(client, key))
        # Warm the site cache; then let the pool hold nothing, so each request connects anew.
        assert (await _submit(client, tenant, submission())).status_code == 202
        await services.db.engine.dispose()
    # A smart shutdown waits for open sessions; until they end, new ones are refused with
    # "the database system is shutting down" (SQLSTATE 57P03, CannotConnectNowError).
    holder = await own_postgres.connect()
    try:
        await asyncio.to_thread(own_postgres.stop, "smart", wait=False)
        for _ in range(100):
            try:
                probe = await own_postgres.connect()
            except asyncpg.CannotConnectNowError:
                break
            await probe.close()
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the cluster never refused a connection while shutting down")
        async with app_on(own_postgres, settings) as client:
            _assert_retry_later(await _read(client, tenant))
            _assert_retry_later(
                await _submit(client, tenant, submission(submission_id=str(uuid.uuid4())))
            )
    finally:
        await holder.close()
    for _ in range(100):  # the last session gone, the server stops
        if not (own_postgres.data / "postmaster.pid").exists():
            break
        await asyncio.sleep(0.05)
    await asyncio.to_thread(own_postgres.start)
