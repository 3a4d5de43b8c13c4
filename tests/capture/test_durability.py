"""Nothing lost (C3): the raw submission survives a failed processing and a database outage."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

import embedcrm.capture.service as capture_service
from conftest import GraphQL
from embedcrm.app import create_app
from embedcrm.capture.models import Submission, SubmissionStatus
from embedcrm.config import Settings
from embedcrm.graphql.ids import parse_global_id
from embedcrm.services import Services
from factories import LEADS, form_token, make_tenant, submission, submit


async def test_processing_that_raises_keeps_the_submission_for_the_worker(
    client: httpx.AsyncClient,
    platform: GraphQL,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = await make_tenant(platform)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the CRM is having a bad day")

    monkeypatch.setattr(capture_service, "create_leads", broken)
    response = await submit(client, tenant, submission())
    assert response.status_code == 202
    assert (await tenant.panel.data(LEADS))["leads"]["totalCount"] == 0
    workspace = parse_global_id(tenant.workspace_id).row_id
    async with services.db.transaction() as session:
        row = (
            await session.scalars(select(Submission).where(Submission.workspace_id == workspace))
        ).one()
    assert row.status is SubmissionStatus.FAILED
    assert "bad day" in (row.failure_reason or "")

    monkeypatch.undo()
    assert await services.capture.retry_unprocessed() >= 1
    assert (await tenant.panel.data(LEADS))["leads"]["totalCount"] == 1
    # A repeat of the same submission now is a plain duplicate.
    again = await submit(client, tenant, submission(submission_id=row.client_submission_id))
    assert again.status_code in (200, 409)


async def test_with_inline_processing_off_the_worker_makes_every_lead(
    settings: Settings, platform: GraphQL
) -> None:
    services = Services.create(dataclasses.replace(settings, process_submissions_inline=False))
    tenant = await make_tenant(platform)
    app = create_app(services.settings, services=services)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://crm.test"
        ) as http:
            for i in range(7):
                response = await http.post(
                    f"/v1/sites/{tenant.site_key}/submissions",
                    json={
                        **submission(email=f"w{i}@example.com", phone=""),
                        "form_token": form_token(http, tenant),
                    },
                    headers={"Origin": f"https://{tenant.domain}"},
                )
                assert response.status_code == 202
        assert (await tenant.panel.data(LEADS))["leads"]["totalCount"] == 0
        assert await services.capture.retry_unprocessed(batch=3) >= 7
        assert (await tenant.panel.data(LEADS))["leads"]["totalCount"] == 7
    finally:
        await services.capture.close()
        await services.db.dispose()


class SwitchableProxy:
    """A TCP proxy in front of PostgreSQL that can be cut, as if the server had stopped."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.links: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self.links):
            task.cancel()
        await asyncio.gather(*self.links, return_exceptions=True)
        await self.server.wait_closed()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.links.add(task)
        up_reader, up_writer = await asyncio.open_connection(*self.target)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()

        pipes = [
            asyncio.ensure_future(pipe(reader, up_writer)),
            asyncio.ensure_future(pipe(up_reader, writer)),
        ]
        try:
            # Either side closing closes the link, as a real socket would.
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for p in pipes:
                p.cancel()
            for w in (writer, up_writer):
                w.close()
            self.links.discard(task)


@pytest.fixture
async def proxied(settings: Settings) -> AsyncIterator[tuple[SwitchableProxy, Services]]:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("a database server outage needs PostgreSQL; SQLite is a file in the process")
    proxy = SwitchableProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    services = Services.create(dataclasses.replace(settings, database_url=through))
    yield proxy, services
    await services.capture.close()
    await services.db.dispose()
    await proxy.stop()


async def test_a_database_outage_answers_503_and_the_retry_succeeds(
    proxied: tuple[SwitchableProxy, Services], platform: GraphQL
) -> None:
    proxy, services = proxied
    tenant = await make_tenant(platform)
    app = create_app(services.settings, services=services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://crm.test"
    ) as http:
        body = {**submission(), "form_token": form_token(http, tenant)}
        url = f"/v1/sites/{tenant.site_key}/submissions"
        headers = {"Origin": f"https://{tenant.domain}"}
        # Warm the site cache and the pool, then stop the database.
        assert (
            await http.post(
                url,
                json={
                    **submission(email="warm@example.com", phone=""),
                    "form_token": form_token(http, tenant),
                },
                headers=headers,
            )
        ).status_code == 202
        await services.capture.processor.idle()
        await proxy.stop()
        down = await http.post(url, json=body, headers=headers)
        assert down.status_code == 503
        assert int(down.headers["retry-after"]) > 0
        assert down.json()["error"]["code"] == "unavailable"
        assert "Traceback" not in down.text
        ready = await http.get("/readyz")
        assert ready.status_code == 503

        await proxy.start()
        up = await http.post(url, json=body, headers=headers)
        assert up.status_code == 202, up.text
        await services.capture.processor.idle()
    leads = (await tenant.panel.data(LEADS))["leads"]
    assert leads["totalCount"] == 2
    assert {e["node"]["contact"]["email"] for e in leads["edges"]} == {
        "warm@example.com",
        "anna@example.com",
    }
