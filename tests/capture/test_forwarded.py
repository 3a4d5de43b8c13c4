"""Behind a load balancer: the visitor's address comes from trusted proxies only."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from conftest import GraphQL
from embedcrm.app import create_app
from embedcrm.config import Settings
from embedcrm.errors import ConfigurationError
from embedcrm.services import Services
from factories import Tenant, make_tenant, submission

PROXY = "10.1.2.3"


async def services_trusting(settings: Settings, trusted: str) -> Services:
    return Services.create(
        dataclasses.replace(
            settings,
            forwarded_allow_ips=trusted,
            rate_limit_per_visitor="2/minute",
            rate_limit_per_site="1000/minute",
        )
    )


@pytest.fixture
async def behind_proxy(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    services = await services_trusting(settings, "10.1.0.0/16, 192.0.2.50")
    transport = httpx.ASGITransport(app=create_app(services.settings, services=services))
    transport.client = (PROXY, 41000)
    async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
        yield client
    await services.capture.close()
    await services.db.dispose()


@pytest.fixture
async def trusting_nobody(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    services = await services_trusting(settings, "")
    transport = httpx.ASGITransport(app=create_app(services.settings, services=services))
    transport.client = (PROXY, 41000)
    async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
        yield client
    await services.capture.close()
    await services.db.dispose()


async def post(client: httpx.AsyncClient, tenant: Tenant, headers: dict[str, str]) -> int:
    answer = await client.post(
        f"/v1/sites/{tenant.site_key}/submissions",
        json=submission(email=f"{uuid.uuid4().hex[:8]}@example.com", phone=""),
        headers={"Origin": f"https://{tenant.domain}", **headers},
    )
    return answer.status_code


async def test_a_trusted_proxy_names_each_visitor(
    behind_proxy: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    # Three visitors behind one proxy each get their own per-visitor limit (2/minute).
    for visitor in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        statuses = [
            await post(behind_proxy, tenant, {"X-Forwarded-For": visitor}) for _ in range(2)
        ]
        assert statuses == [202, 202], visitor
    # The same visitor a third time is limited, whichever header the proxy speaks.
    assert await post(behind_proxy, tenant, {"Forwarded": 'for="203.0.113.1:5555"'}) == 429
    ipv6 = {"Forwarded": 'for="[2001:db8::7]";proto=https'}
    assert [await post(behind_proxy, tenant, ipv6) for _ in range(3)] == [202, 202, 429]


async def test_a_visitor_cannot_spoof_the_chain(
    behind_proxy: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    # The visitor writes a fresh address to the left each time; the proxy appends the real one.
    # A second trusted proxy (192.0.2.50) in the chain is skipped too.
    statuses = [
        await post(
            behind_proxy,
            tenant,
            {"X-Forwarded-For": f"198.51.100.{i}, 203.0.113.9, 192.0.2.50"},
        )
        for i in range(3)
    ]
    assert statuses == [202, 202, 429]


async def test_nobody_is_trusted_by_default(
    trusting_nobody: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    statuses = [
        await post(trusting_nobody, tenant, {"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(3)
    ]
    # Every request is the proxy's own: the header is ignored.
    assert statuses == [202, 202, 429]


def test_a_bad_proxy_list_is_refused_at_start() -> None:
    with pytest.raises(ConfigurationError, match="EMBEDCRM_FORWARDED_ALLOW_IPS"):
        Settings.from_env(
            {"EMBEDCRM_SECRET_KEYS": "k", "EMBEDCRM_FORWARDED_ALLOW_IPS": "10.0.0.0/8, proxy"}
        )
