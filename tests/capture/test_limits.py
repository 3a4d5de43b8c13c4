"""Rate limits per site and per visitor: 429 with Retry-After, nothing stored past the limit."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis

from conftest import SECRET, GraphQL
from embedcrm.app import create_app
from embedcrm.capture.ratelimit import UseWindows
from embedcrm.config import Settings
from embedcrm.services import Services
from factories import Tenant, form_token, make_tenant, submission


async def post(client: httpx.AsyncClient, tenant: Tenant) -> httpx.Response:
    return await client.post(
        f"/v1/sites/{tenant.site_key}/submissions",
        json={
            **submission(email=f"{uuid.uuid4().hex[:8]}@example.com", phone=""),
            "form_token": form_token(client, tenant),
        },
        headers={"Origin": f"https://{tenant.domain}"},
    )


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[Services]:
    strict = dataclasses.replace(
        settings, rate_limit_per_visitor="3/minute", rate_limit_per_site="5/minute"
    )
    services = Services.create(strict)
    yield services
    await services.capture.close()
    await services.db.dispose()


def client_from(services: Services, ip: str) -> httpx.AsyncClient:
    app = create_app(services.settings, services=services)
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://crm.test")


async def test_visitor_and_site_limits(limited: Services, platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    other_site = await make_tenant(platform)
    async with (
        client_from(limited, "10.0.0.1") as visitor,
        client_from(limited, "10.0.0.2") as other,
    ):
        statuses = [(await post(visitor, tenant)).status_code for _ in range(4)]
        assert statuses == [202, 202, 202, 429]
        refused = await post(visitor, tenant)
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]["code"] == "rate_limited"
        # Another visitor of the same site, and the same visitor on another site, go on.
        assert (await post(other, tenant)).status_code == 202
        assert (await post(visitor, other_site)).status_code == 202
        # The site as a whole is capped too.
        assert (await post(other, tenant)).status_code == 202
        assert (await post(other, tenant)).status_code == 429
    await limited.capture.processor.idle()
    leads = await tenant.panel.data("{ leads { totalCount } }")
    assert leads["leads"]["totalCount"] == 5


# A database of its own, never 0 (where a developer's other data lives); keys are removed after.
TEST_REDIS_URL = os.environ.get("EMBEDCRM_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(TEST_REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def keys_of(site_key: str) -> list[bytes]:
    """The counters the servers wrote for one site (every key names the site it counts)."""
    with redis.Redis.from_url(TEST_REDIS_URL, socket_timeout=5) as client:
        return list(client.scan_iter(match=f"*{site_key}*"))


def delete_keys_of(site_key: str) -> None:
    with redis.Redis.from_url(TEST_REDIS_URL, socket_timeout=5) as client:
        for key in client.scan_iter(match=f"*{site_key}*"):
            client.delete(key)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(not redis_available(), reason=f"no Redis at {TEST_REDIS_URL}")
async def test_two_processes_share_one_count_through_redis(
    database_url: str, platform: GraphQL, tmp_path: Path
) -> None:
    tenant = await make_tenant(platform)
    env = {
        **os.environ,
        "EMBEDCRM_DATABASE_URL": database_url,
        "EMBEDCRM_SECRET_KEYS": SECRET,
        "EMBEDCRM_REDIS_URL": TEST_REDIS_URL,
        "EMBEDCRM_RATE_LIMIT_VISITOR": "10/minute",
        "EMBEDCRM_RATE_LIMIT_SITE": "1000/hour",
    }
    ports = [free_port(), free_port()]
    logs = [(tmp_path / f"server{i}.log").open("w") for i in range(2)]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "embedcrm", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for port, log in zip(ports, logs, strict=True)
    ]
    try:
        async with httpx.AsyncClient() as http:
            for port in ports:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    try:
                        if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.2)
            statuses = []
            for i in range(12):
                response = await http.post(
                    f"http://127.0.0.1:{ports[i % 2]}/v1/sites/{tenant.site_key}/submissions",
                    json=submission(email=f"r{i}@example.com", phone=""),
                    headers={"Origin": f"https://{tenant.domain}"},
                )
                statuses.append(response.status_code)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=15)
        for log in logs:
            log.close()
        written = keys_of(tenant.site_key)
        delete_keys_of(tenant.site_key)
    assert statuses == [202] * 10 + [429, 429], statuses
    # The counts were in the test's Redis database, and the test took them away again.
    assert written
    assert keys_of(tenant.site_key) == []


def test_a_form_tokens_uses_are_counted_for_its_life_and_then_forgotten() -> None:
    now = [1000.0]
    uses = UseWindows(limit=2, window_seconds=60, clock=lambda: now[0])
    assert [uses.use("a"), uses.use("a"), uses.use("a")] == [True, True, False]
    now[0] += 30
    assert uses.use("b") and not uses.use("a")  # "a"'s window is still open
    now[0] += 30  # "a"'s window has ended, "b"'s has not
    assert uses.use("a") and uses.use("b") and not uses.use("b")
    assert len(uses) == 2
    now[0] += 120  # every window ended: none is kept
    assert uses.use("c") and len(uses) == 1
