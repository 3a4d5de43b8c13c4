"""No tenant's receiver harms another's deliveries: a hanging endpoint beside a healthy one on
another tenant, a receiver that answers too slowly to finish, and an endpoint disabled while the
dispatcher holds its deliveries. Real receivers on 127.0.0.1, the dispatcher running for real."""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from test_delivery import (
    DISABLE,
    ENABLE,
    REPLAY,
    create_endpoint,
    drain,
    lead_event,
    remove_endpoints,
    ws_uuid,
)
from webhook_support import FakeClock, Received, Receiver, Reply, running_receiver

from conftest import GraphQL
from embedcrm.db import Database
from embedcrm.services import Services
from embedcrm.webhooks.dispatcher import Dispatcher, DispatcherConfig
from embedcrm.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, message_id_of
from embedcrm.webhooks.outbox import OutboxRepository
from embedcrm.webhooks.ssrf import create_webhook_client, parse_allowed_networks
from factories import make_tenant

TIMEOUT = 0.5


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def dispatcher(services: Services, clock: FakeClock) -> AsyncIterator[Dispatcher]:
    await remove_endpoints(services.db)
    client = create_webhook_client(parse_allowed_networks("127.0.0.0/8"), timeout=TIMEOUT)
    dispatcher = Dispatcher(
        services.db,
        client,
        box=services.secret_box,
        # The settings' defaults, but for the timeout and a shorter poll.
        config=DispatcherConfig(concurrency=8, endpoint_concurrency=4, poll_interval=0.01),
        clock=clock,
        rng=random.Random(7),
    )
    while await dispatcher.fan_out():  # events other tests left
        pass
    try:
        yield dispatcher
    finally:
        await client.aclose()
        await remove_endpoints(services.db)


async def record_leads(
    db: Database, workspace_id: uuid.UUID, count: int, clock: FakeClock
) -> list[uuid.UUID]:
    """``count`` new leads' first events, committed together; returns the event ids."""
    async with db.transaction() as session:
        outbox = OutboxRepository(session, workspace_id)
        events = [
            outbox.record(lead_event(workspace_id, lead, 1, clock), lead_id=lead, sequence=1)
            for lead in (uuid.uuid4() for _ in range(count))
        ]
    return [event.id for event in events]


async def commit_to_delivery(
    db: Database, receiver: Receiver, workspace_id: uuid.UUID, clock: FakeClock, *, give_up: float
) -> float:
    """Seconds from one event's commit to its arrival at ``receiver``; ``give_up`` if later.

    Samples are spaced out, so that those beside a hanging endpoint span several of its
    timeouts."""
    await asyncio.sleep(0.2)
    (event_id,) = await record_leads(db, workspace_id, 1, clock)
    committed = time.monotonic()
    wanted = message_id_of(event_id)
    while time.monotonic() - committed < give_up:
        for request in reversed(receiver.received):
            if request.message_id == wanted:
                return request.arrived - committed
        await asyncio.sleep(0.002)
    return give_up


@contextlib.asynccontextmanager
async def running(dispatcher: Dispatcher) -> AsyncIterator[None]:
    run = asyncio.create_task(dispatcher.run())
    try:
        yield
    finally:
        dispatcher.request_stop()
        await run


async def wait_for(condition: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not reached within {seconds} s")


async def statuses(db: Database, workspace_id: uuid.UUID) -> dict[DeliveryStatus, int]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(WebhookDelivery.status, func.count())
            .where(WebhookDelivery.workspace_id == workspace_id)
            .group_by(WebhookDelivery.status)
        )
        return {DeliveryStatus(status): int(n) for status, n in rows}


SAMPLES = 12


async def test_a_hanging_receiver_does_not_delay_another_tenant_s_deliveries(
    platform: GraphQL, services: Services, dispatcher: Dispatcher, clock: FakeClock
) -> None:
    """The healthy tenant's commit-to-delivery latency beside a receiver that never answers
    stays within a generous bound of its latency alone.

    The hanging tenant has a backlog older than every healthy event, so the dispatcher meets
    its deliveries first; each of them holds a sending slot until the timeout. The bound is
    loose (ten times the baseline median, and never under two seconds) so that a loaded machine
    cannot trip it; a dispatcher that lets the hanging lane stop its claims misses it by far.
    """
    healthy_tenant = await make_tenant(platform)
    hanging_tenant = await make_tenant(platform)
    healthy_ws = ws_uuid(healthy_tenant.workspace_id)
    release = asyncio.Event()

    async def never_answer(request: Received, n: int) -> Reply:
        await release.wait()  # set at the end, so that the receiver can stop cleanly
        return Reply()

    async with running_receiver() as healthy, running_receiver() as hanging:
        hanging.script = never_answer
        await create_endpoint(platform, healthy.url(), ws=healthy_tenant.workspace_id)
        await create_endpoint(platform, hanging.url(), ws=hanging_tenant.workspace_id)
        try:
            async with running(dispatcher):
                alone = [
                    await commit_to_delivery(services.db, healthy, healthy_ws, clock, give_up=10)
                    for _ in range(SAMPLES)
                ]
                bound = max(2.0, 10 * statistics.median(alone))
                await record_leads(services.db, ws_uuid(hanging_tenant.workspace_id), 300, clock)
                await wait_for(lambda: len(hanging.received) >= 4, 10)
                beside = [
                    await commit_to_delivery(
                        services.db, healthy, healthy_ws, clock, give_up=bound + 0.5
                    )
                    for _ in range(SAMPLES)
                ]
                hung = len(hanging.received)
                # A lane holds at most lease_ahead (32) per slot of the endpoint's allowance
                # when it claims; the rest of the backlog stays free for other dispatchers.
                held = (await statuses(services.db, ws_uuid(hanging_tenant.workspace_id))).get(
                    DeliveryStatus.IN_FLIGHT, 0
                )
        finally:
            release.set()
    figures = (
        f"alone: median {statistics.median(alone) * 1000:.0f} ms, max {max(alone) * 1000:.0f} ms;"
        f" beside the hanging receiver: median {statistics.median(beside) * 1000:.0f} ms,"
        f" max {max(beside) * 1000:.0f} ms; bound {bound * 1000:.0f} ms;"
        f" {hung} requests to the hanging receiver, {held} of its deliveries leased"
    )
    print(figures)
    assert max(beside) <= bound, figures
    # The hanging endpoint was really tried all along (its abandoned requests stay open at the
    # receiver, so its own count of open requests says nothing about the dispatcher's).
    assert hung >= 6, figures
    assert held <= 4 * 32, f"{held} deliveries leased for the hanging endpoint"


async def test_a_receiver_too_slow_to_finish_its_answer_frees_the_slot_at_the_timeout(
    platform: GraphQL, services: Services, clock: FakeClock
) -> None:
    """A receiver that answers at once but sends its body a byte at a time never trips a read
    timeout; the dispatcher's whole-request timeout still ends the attempt."""
    await remove_endpoints(services.db)
    tenant = await make_tenant(platform)
    ws = ws_uuid(tenant.workspace_id)
    trickling: set[asyncio.Task[None]] = set()
    stop = asyncio.Event()

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        trickling.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n")
            for _ in range(100000):
                if stop.is_set():
                    break
                writer.write(b".")
                await writer.drain()
                await asyncio.sleep(0.05)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(trickle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = create_webhook_client(parse_allowed_networks("127.0.0.0/8"), timeout=TIMEOUT)
    dispatcher = Dispatcher(
        services.db,
        client,
        box=services.secret_box,
        config=DispatcherConfig(poll_interval=0.01, timeout=1.0),
        clock=clock,
    )
    try:
        while await dispatcher.fan_out():
            pass
        await create_endpoint(platform, f"http://127.0.0.1:{port}/hook", ws=tenant.workspace_id)
        await record_leads(services.db, ws, 1, clock)
        started = time.monotonic()
        await dispatcher.run_until_idle()
        took = time.monotonic() - started
        async with services.db.transaction() as session:
            attempts = list(
                await session.scalars(
                    select(WebhookAttempt).where(WebhookAttempt.workspace_id == ws)
                )
            )
        left = await statuses(services.db, ws)
    finally:
        stop.set()
        server.close()
        await asyncio.gather(*trickling, return_exceptions=True)
        await server.wait_closed()
        await client.aclose()
        await remove_endpoints(services.db)
    assert [(a.succeeded, a.error) for a in attempts] == [(False, "timeout: no answer in time")]
    assert 0.9 <= took < 5, took
    assert left == {DeliveryStatus.PENDING: 1}  # to be retried


async def test_disabling_an_endpoint_stops_its_posts_at_once_and_loses_none(
    platform: GraphQL, services: Services, dispatcher: Dispatcher, clock: FakeClock
) -> None:
    """Disabled while the dispatcher holds dozens of its deliveries (sending, and waiting in the
    endpoint's lane): no request starts a second after the answer, and what was not delivered
    is parked like any delivery of a disabled endpoint, for a replay to send."""
    tenant = await make_tenant(platform)
    ws = ws_uuid(tenant.workspace_id)
    count = 80
    async with running_receiver() as receiver:
        receiver.script = lambda request, n: Reply(sleep=0.2)
        endpoint = await create_endpoint(platform, receiver.url(), ws=tenant.workspace_id)
        since = clock() - timedelta(minutes=1)
        event_ids = await record_leads(services.db, ws, count, clock)
        async with running(dispatcher):
            await wait_for(lambda: len(receiver.received) >= 8, 10)
            held = (await statuses(services.db, ws)).get(DeliveryStatus.IN_FLIGHT, 0)
            answer = await platform.data(DISABLE, id=endpoint["id"])
            disabled = time.monotonic()
            assert answer["disableWebhookEndpoint"]["endpoint"]["enabled"] is False
            await asyncio.sleep(2.0)
        late = [r.arrived - disabled for r in receiver.received if r.arrived > disabled + 1.0]
        assert held > 8  # leased to the dispatcher, most of them waiting in the lane
        assert late == [], f"{len(late)} requests after the disable, the last {max(late):.2f} s"

        after = await statuses(services.db, ws)
        assert DeliveryStatus.IN_FLIGHT not in after
        assert after.get(DeliveryStatus.SKIPPED_ENDPOINT_DISABLED, 0) >= count - len(
            receiver.received
        )
        assert sum(after.values()) == count

        async with services.db.transaction() as session:
            parked = set(
                await session.scalars(
                    select(WebhookDelivery.event_id).where(
                        WebhookDelivery.workspace_id == ws,
                        WebhookDelivery.status == DeliveryStatus.SKIPPED_ENDPOINT_DISABLED,
                    )
                )
            )
        # Enabled again, a replay sends every one that was parked.
        receiver.script = lambda request, n: Reply()
        await platform.data(ENABLE, id=endpoint["id"])
        replay = await platform.data(REPLAY, id=endpoint["id"], since=since.isoformat())
        assert replay["replayFailedWebhooks"]["replayed"] == len(parked)
        await drain(dispatcher, clock)
    answered = {r.message_id for r in receiver.received if r.status == 200}
    assert {message_id_of(event_id) for event_id in parked} <= answered
    assert set(event_ids) >= parked
    assert await statuses(services.db, ws) == {DeliveryStatus.DELIVERED: count}
