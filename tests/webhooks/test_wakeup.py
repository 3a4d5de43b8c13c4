"""On PostgreSQL a committed event wakes the dispatchers at once (LISTEN/NOTIFY); the poll stays
what delivery relies on. The dispatchers here poll every 30 s, so a delivery within seconds
was woken."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from test_delivery import create_endpoint, ws_uuid
from test_delivery_processes import clean, emit, wait_for
from webhook_support import Receiver, running_receiver

from conftest import GraphQL
from embedcrm.services import Services
from embedcrm.webhooks import wakeup
from embedcrm.webhooks.dispatcher import Dispatcher, DispatcherConfig
from embedcrm.webhooks.ssrf import create_webhook_client, parse_allowed_networks
from factories import Tenant, make_tenant

__all__ = ["clean"]

SLOW_POLL = 30.0


@contextlib.asynccontextmanager
async def running_dispatcher(
    platform: GraphQL,
    services: Services,
    poll: float,
    *,
    looks: list[float] | None = None,
    woken_gap: float = DispatcherConfig.woken_gap,
) -> AsyncIterator[tuple[Tenant, Receiver]]:
    """A dispatcher running with this poll interval, a tenant and its endpoint's receiver.
    ``looks`` gets the time of each look it makes for new events once it runs."""
    tenant = await make_tenant(platform)
    client = create_webhook_client(parse_allowed_networks("127.0.0.0/8"), timeout=5)
    async with running_receiver() as receiver:
        endpoint = await create_endpoint(platform, receiver.url(), ws=tenant.workspace_id)
        receiver.secrets = [endpoint["secret"]]
        dispatcher = Dispatcher(
            services.db,
            client,
            box=services.secret_box,
            config=DispatcherConfig(poll_interval=poll, woken_gap=woken_gap),
        )
        # Events other tests left are positioned now, so that none reaches this endpoint.
        while await dispatcher.fan_out():
            pass
        if looks is not None:
            fan_out = dispatcher.fan_outs.fan_out

            async def looked() -> int:
                looks.append(time.monotonic())
                return await fan_out()

            dispatcher.fan_outs.fan_out = looked  # type: ignore[method-assign]
        running = asyncio.create_task(dispatcher.run())
        try:
            yield tenant, receiver
        finally:
            dispatcher.request_stop()
            await running
            await client.aclose()


@pytest.fixture
async def listening(
    platform: GraphQL, services: Services, clean: None
) -> AsyncIterator[tuple[Tenant, Receiver]]:
    """A running dispatcher that polls every 30 s, once it listens."""
    if services.db.dialect != "postgresql":
        pytest.skip("notifications are PostgreSQL's; SQLite's dispatchers poll")
    async with running_dispatcher(platform, services, SLOW_POLL) as (tenant, receiver):
        await wait_for_listeners(services, 1)
        yield tenant, receiver
    await wait_for_listeners(services, 0)


async def listeners(services: Services) -> list[int]:
    """The server processes of the connections listening for events."""
    async with services.db.transaction() as session:
        found = await session.scalars(
            text(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND query = :listen"
            ),
            {"listen": f'LISTEN "{wakeup.CHANNEL}"'},
        )
        return list(found)


async def wait_for_listeners(services: Services, count: int) -> None:
    for _ in range(200):
        if len(await listeners(services)) == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{len(await listeners(services))} listening connections, not {count}")


async def test_a_committed_event_is_delivered_without_waiting_for_the_poll(
    services: Services, listening: tuple[Tenant, Receiver]
) -> None:
    tenant, receiver = listening
    for sent in (1, 2, 3):
        await emit(services, ws_uuid(tenant.workspace_id), 1)
        await wait_for(lambda sent=sent: len(receiver.received) == sent, seconds=5)
    assert len(set(receiver.ids())) == 3


async def test_a_lost_listening_connection_is_replaced_and_misses_nothing(
    services: Services, monkeypatch: pytest.MonkeyPatch, listening: tuple[Tenant, Receiver]
) -> None:
    tenant, receiver = listening
    monkeypatch.setattr(wakeup, "RECONNECT_SECONDS", 0.5)
    # The server ends the listening connection (a restart, a failover, an operator's kill)...
    async with services.db.transaction() as session:
        for pid in await listeners(services):
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    # ...and an event is committed while nobody listens: the dispatcher looks for it as soon as
    # it listens again, well before its next poll.
    await emit(services, ws_uuid(tenant.workspace_id), 1)
    await wait_for(lambda: len(receiver.received) == 1, seconds=10)
    await wait_for_listeners(services, 1)
    await emit(services, ws_uuid(tenant.workspace_id), 1)
    await wait_for(lambda: len(receiver.received) == 2, seconds=5)


async def test_a_listener_that_cannot_connect_leaves_delivery_to_the_poll(
    platform: GraphQL,
    services: Services,
    clean: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if services.db.dialect != "postgresql":
        pytest.skip("notifications are PostgreSQL's; SQLite's dispatchers poll")

    async def refused(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("no listening for you")

    monkeypatch.setattr(wakeup.asyncpg, "connect", refused)
    async with running_dispatcher(platform, services, 0.1) as (tenant, receiver):
        await emit(services, ws_uuid(tenant.workspace_id), 2)
        await wait_for(lambda: len(receiver.received) == 2, seconds=5)
    assert "webhook wake-ups: cannot listen" in caplog.text


async def test_a_stream_of_commits_wakes_each_dispatcher_no_more_often_than_its_gap(
    platform: GraphQL, services: Services, clean: None
) -> None:
    """Every commit of events notifies every dispatching process. Each wake-up used to start a
    look for new events at once, so a stream of commits made each process look back to back;
    now a woken look waits until ``woken_gap`` has passed since the last one began. The events
    are all delivered, and the first, after a quiet moment, without waiting for the gap."""
    if services.db.dialect != "postgresql":
        pytest.skip("notifications are PostgreSQL's; SQLite's dispatchers poll")
    looks: list[float] = []
    gap = 0.25
    async with running_dispatcher(platform, services, SLOW_POLL, looks=looks, woken_gap=gap) as (
        tenant,
        receiver,
    ):
        await wait_for_listeners(services, 1)
        await asyncio.sleep(gap)
        workspace = ws_uuid(tenant.workspace_id)
        looks.clear()
        began = time.monotonic()
        await emit(services, workspace, 1)
        await wait_for(lambda: len(receiver.received) == 1, seconds=5)
        assert looks and looks[0] - began < gap
        for _ in range(40):
            await emit(services, workspace, 1)
            await asyncio.sleep(0.02)
        lasted = time.monotonic() - began
        await wait_for(lambda: len(receiver.received) == 41, seconds=10)
    assert len(set(receiver.ids())) == 41
    # 41 commits in about a second: a look per commit before, one per gap now.
    assert len(looks) <= lasted / gap + 3, (len(looks), lasted)
    assert all(b - a >= gap * 0.9 for a, b in itertools.pairwise(looks))
