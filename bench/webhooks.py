"""Webhook delivery speed: one dispatcher against a bare httpx loop, and idle latency.

    .venv/bin/python bench/webhooks.py [--events 5000] [--database postgresql+asyncpg://…]

Makes a database of its own on the server (dropped at the end), starts a receiver (uvicorn, in
its own process, answering 204) and prints, side by side from one run:

* deliveries/s of a bare httpx loop posting the same signed bodies one at a time, through the
  dispatcher's own kind of client (``create_webhook_client``: httpx behind the SSRF guard, on
  ``embedcrm.webhooks.network``), which the ratios are taken against; and, for reference, the
  same loop through a stock ``httpx.AsyncClient()`` (httpcore on anyio);
* deliveries/s of one dispatcher draining the same number of outbox events;
* for both, the CPU time this process spent per delivery (steadier than rates on a busy machine);
* the median time from an event's commit to its delivery's answer while the dispatcher idles.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import asyncpg
import httpx
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench.common import write_figures
from embedcrm.config import Settings
from embedcrm.events import Event
from embedcrm.migrations import upgrade_to_head
from embedcrm.services import Services
from embedcrm.webhooks.models import (
    DeliveryStatus,
    PlatformWebhookEndpoint,
    WebhookAttempt,
    WebhookDelivery,
)
from embedcrm.webhooks.outbox import OutboxRepository
from embedcrm.webhooks.send import body_of
from embedcrm.webhooks.signing import generate_secret, signature_header
from embedcrm.workspaces.models import Workspace

PORT = 18765


async def _receiver(scope: dict[str, object], receive: object, send: object) -> None:
    if scope["type"] != "http":
        return
    while True:
        message = await receive()  # type: ignore[operator]
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 204, "headers": []})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]


def _serve_receiver() -> None:
    uvicorn.run(_receiver, host="127.0.0.1", port=PORT, log_level="error", lifespan="off")


async def _admin(url: str, sql: str) -> None:
    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database="postgres",
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _event(workspace_id: uuid.UUID, n: int) -> Event:
    return Event(
        type="contact.updated",
        occurred_at=datetime.now(UTC),
        data={
            "workspace_id": str(workspace_id),
            "site_id": None,
            "contact": {
                "id": str(uuid.uuid4()),
                "name": f"Контакт {n}",
                "email": None,
                "phone": None,
                "company": None,
            },
        },
    )


async def _emit(services: Services, workspace_id: uuid.UUID, count: int) -> None:
    for start in range(0, count, 1000):
        async with services.db.transaction() as session:
            outbox = OutboxRepository(session, workspace_id)
            for n in range(start, min(count, start + 1000)):
                outbox.record(_event(workspace_id, n))


async def _delivered(services: Services) -> int:
    async with services.db.transaction() as session:
        return int(
            await session.scalar(
                select(func.count()).where(WebhookDelivery.status == DeliveryStatus.DELIVERED)
            )
            or 0
        )


@dataclass
class Rate:
    per_second: float
    cpu_ms: float  # this process's CPU time per delivery


async def bare_loop(client: httpx.AsyncClient, url: str, secret: str, count: int) -> Rate:
    """The same signed bodies, posted one at a time."""
    workspace_id = uuid.uuid4()
    bodies = [body_of(_event(workspace_id, n).to_dict()) for n in range(count)]
    started, cpu = time.perf_counter(), time.process_time()
    for n, body in enumerate(bodies):
        msg_id = f"msg_{n}"
        timestamp = int(time.time())
        response = await client.post(
            url,
            content=body,
            headers={
                "content-type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signature_header([secret], msg_id, timestamp, body),
            },
        )
        assert response.status_code == 204
    return Rate(count / (time.perf_counter() - started), (time.process_time() - cpu) / count * 1000)


async def dispatcher_drain(services: Services, workspace_id: uuid.UUID, count: int) -> Rate:
    await _emit(services, workspace_id, count)
    dispatcher = services.dispatcher()
    started, cpu = time.perf_counter(), time.process_time()
    task = asyncio.create_task(dispatcher.run())
    # Looked at five times a second: each look is a query that competes with the dispatcher, and
    # the time to notice the end is small beside a run of several seconds.
    for _ in range(5 * 600):  # at most ten minutes
        if await _delivered(services) >= count:
            break
        await asyncio.sleep(0.2)
    elapsed, spent = time.perf_counter() - started, time.process_time() - cpu
    dispatcher.request_stop()
    await task
    return Rate(count / elapsed, spent / count * 1000)


async def idle_latency(services: Services, workspace_id: uuid.UUID, samples: int) -> list[float]:
    dispatcher = services.dispatcher()
    task = asyncio.create_task(dispatcher.run())
    latencies = []
    try:
        await asyncio.sleep(0.5)
        for n in range(samples):
            async with services.db.transaction() as session:
                event = OutboxRepository(session, workspace_id).record(_event(workspace_id, n))
            committed = datetime.now(UTC)
            for _ in range(400):
                async with services.db.transaction() as session:
                    attempt = (
                        await session.scalars(
                            select(WebhookAttempt)
                            .join(
                                WebhookDelivery,
                                (WebhookDelivery.workspace_id == WebhookAttempt.workspace_id)
                                & (WebhookDelivery.id == WebhookAttempt.delivery_id),
                            )
                            .where(WebhookDelivery.event_id == event.id, WebhookAttempt.succeeded)
                        )
                    ).first()
                if attempt is not None:
                    answered = attempt.created_at.timestamp() + (attempt.duration_ms or 0) / 1000
                    latencies.append(answered - committed.timestamp())
                    break
                await asyncio.sleep(0.002)
            # Idle between events, as a quiet system would be.
            await asyncio.sleep(0.2)
    finally:
        dispatcher.request_stop()
        await task
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--json", help="also write the figures to this file, as JSON")
    parser.add_argument(
        "--database",
        default=os.environ.get(
            "EMBEDCRM_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()

    name = f"embedcrm_bench_{uuid.uuid4().hex[:8]}"
    await _admin(args.database, f'CREATE DATABASE "{name}"')
    url = make_url(args.database).set(database=name).render_as_string(hide_password=False)
    settings = Settings(
        secret_keys=("bench-secret",), database_url=url, webhook_allowed_networks="127.0.0.0/8"
    )
    receiver = multiprocessing.get_context("spawn").Process(target=_serve_receiver, daemon=True)
    receiver.start()
    try:
        await asyncio.to_thread(upgrade_to_head, settings)
        services = Services.create(settings)
        target = f"http://127.0.0.1:{PORT}/hook"
        secret = generate_secret()
        workspace_id = uuid.uuid4()
        async with services.db.transaction() as session:
            session.add(Workspace(id=workspace_id, name="bench"))
            session.add(
                PlatformWebhookEndpoint(
                    url=target, secret=services.secret_box.seal(secret), event_types=[]
                )
            )
        for _ in range(100):
            try:
                await services.webhook_client.post(target, content=b"{}")
                break
            except Exception:
                await asyncio.sleep(0.1)

        bare = await bare_loop(services.webhook_client, target, secret, args.events)
        async with httpx.AsyncClient() as stock_client:
            stock = await bare_loop(stock_client, target, secret, args.events)
        worker = await dispatcher_drain(services, workspace_id, args.events)
        latencies = await idle_latency(services, workspace_id, args.samples)
        await services.webhook_client.aclose()
        await services.db.dispose()

        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        print(f"events: {args.events}, database: PostgreSQL ({make_url(args.database).host})")
        print(
            f"bare httpx loop, one at a time:   {bare.per_second:8.0f} deliveries/s,"
            f" {bare.cpu_ms:.2f} ms CPU each"
        )
        print(
            f"  (the same through a stock httpx.AsyncClient: {stock.per_second:.0f}/s,"
            f" {stock.cpu_ms:.2f} ms CPU each)"
        )
        print(
            f"one dispatcher (concurrency {settings.webhook_concurrency}, "
            f"{settings.webhook_endpoint_concurrency} per endpoint): "
            f"{worker.per_second:8.0f} deliveries/s, {worker.cpu_ms:.2f} ms CPU each"
            f"  ({worker.per_second / bare.per_second:.2f} of the bare loop)"
        )
        print(
            f"commit to delivery when idle: median {statistics.median(latencies) * 1000:.0f} ms, "
            f"p90 {sorted(latencies)[int(len(latencies) * 0.9)] * 1000:.0f} ms "
            f"({len(latencies)} samples)"
        )
        write_figures(
            args.json,
            {
                "bare": asdict(bare),
                "stock_httpx": asdict(stock),
                "dispatcher": asdict(worker),
                "idle_median_ms": statistics.median(latencies) * 1000,
            },
        )
    finally:
        receiver.terminate()
        await _admin(args.database, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
