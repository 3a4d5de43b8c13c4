"""Webhook delivery end to end: GraphQL and the public submission route in, a real receiver out,
the dispatcher driven with a fake clock instead of waiting."""

from __future__ import annotations

import asyncio
import random
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError
from webhook_support import FakeClock, Receiver, Reply, patch_verifier_clock, running_receiver

from conftest import GraphQL, counting_queries
from embedcrm.db import Database, StatementConnection
from embedcrm.errors import ServiceUnavailable
from embedcrm.events import Event
from embedcrm.graphql.ids import parse_global_id
from embedcrm.services import Services
from embedcrm.webhooks.dispatcher import Dispatcher, DispatcherConfig
from embedcrm.webhooks.models import (
    DeliveryStatus,
    OutboxEvent,
    PlatformWebhookEndpoint,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from embedcrm.webhooks.outbox import OutboxRepository
from embedcrm.webhooks.repository import RECORD_SUCCESSES
from embedcrm.webhooks.retry import RETRY_SCHEDULE
from embedcrm.webhooks.signing import generate_secret
from embedcrm.webhooks.ssrf import create_webhook_client, parse_allowed_networks
from event_schemas import example_of, validate
from factories import make_tenant, submission, submit

CREATE = """
mutation($url: String!, $types: [String!]!, $ws: ID) {
  createWebhookEndpoint(input: {url: $url, eventTypes: $types, workspaceId: $ws}) {
    endpoint { id url secret eventTypes enabled workspaceId } userErrors { field message code } } }
"""
UPDATE = """
mutation($id: ID!, $url: String, $types: [String!]) {
  updateWebhookEndpoint(input: {id: $id, url: $url, eventTypes: $types}) {
    endpoint { id url eventTypes } userErrors { field message code } } }
"""
ROTATE = """
mutation($id: ID!) { rotateWebhookSecret(input: {id: $id}) {
  endpoint { id secret previousSecretExpiresAt } userErrors { field message code } } }
"""
ENABLE = """
mutation($id: ID!) { enableWebhookEndpoint(input: {id: $id}) {
  endpoint { id enabled disabledReason } userErrors { field message code } } }
"""
DISABLE = """
mutation($id: ID!) { disableWebhookEndpoint(input: {id: $id}) {
  endpoint { id enabled disabledReason } userErrors { field message code } } }
"""
TEST = """
mutation($id: ID!) { sendTestWebhook(input: {id: $id}) { messageId userErrors { field message code } } }
"""
ENDPOINT = """
query($id: ID!, $status: WebhookDeliveryStatus) { webhookEndpoint(id: $id) {
  id enabled disabledReason failingSince
  deliveries(first: 100, status: $status) { totalCount pageInfo { hasNextPage endCursor }
    edges { node { id messageId eventType status attemptCount sequence lastStatusCode lastError } } }
  attempts(first: 100) { totalCount edges { node { attemptNumber succeeded statusCode durationMs
    responseExcerpt error } } } } }
"""
ENDPOINTS = "query($ws: ID) { webhookEndpoints(workspaceId: $ws) { id url } }"
RESEND = """
mutation($id: ID!) { resendWebhookDelivery(input: {id: $id}) {
  delivery { id status } userErrors { field message code } } }
"""
REPLAY = """
mutation($id: ID!, $since: DateTime!) { replayFailedWebhooks(input: {endpointId: $id, since: $since}) {
  replayed userErrors { field message code } } }
"""
EVENTS = """
query($first: Int, $after: String, $ws: ID) { events(first: $first, after: $after, workspaceId: $ws) {
  pageInfo { hasNextPage endCursor } edges { cursor node { id type messageId timestamp data } } } }
"""

TIMEOUT = 0.5


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def receiver(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Receiver]:
    patch_verifier_clock(monkeypatch, clock)
    async with running_receiver() as receiver:
        yield receiver


async def remove_endpoints(db: Database) -> None:
    """Endpoints are global to the shared test database: each test leaves none behind."""
    async with db.transaction() as session:
        await session.execute(delete(WebhookEndpoint))
        await session.execute(delete(PlatformWebhookEndpoint))


@pytest.fixture
async def dispatcher(services: Services, clock: FakeClock) -> AsyncIterator[Dispatcher]:
    await remove_endpoints(services.db)
    client = create_webhook_client(parse_allowed_networks("127.0.0.0/8"), timeout=TIMEOUT)
    dispatcher = Dispatcher(
        services.db,
        client,
        box=services.secret_box,
        config=DispatcherConfig(concurrency=8, endpoint_concurrency=4, poll_interval=0.01),
        clock=clock,
        rng=random.Random(7),
    )
    # Events other tests left: positioned now, so they do not reach this test's endpoints.
    while await dispatcher.fan_out():
        pass
    try:
        yield dispatcher
    finally:
        await client.aclose()
        await remove_endpoints(services.db)


async def drain(dispatcher: Dispatcher, clock: FakeClock, *, max_jumps: int = 300) -> None:
    """Deliver everything, jumping the clock to each next due time; bounded."""
    for _ in range(max_jumps):
        await dispatcher.run_until_idle()
        due = await dispatcher.next_due_at()
        if due is None:
            return
        clock.set(due)
    raise AssertionError("still busy after the allowed number of clock jumps")


async def create_endpoint(
    gql: GraphQL, url: str, *, types: list[str] | None = None, ws: str | None = None
) -> dict[str, Any]:
    data = await gql.data(CREATE, url=url, types=types or [], ws=ws)
    payload = data["createWebhookEndpoint"]
    assert payload["userErrors"] == [], payload
    endpoint: dict[str, Any] = payload["endpoint"]
    return endpoint


def lead_event(workspace_id: uuid.UUID, lead_id: uuid.UUID, seq: int, clock: FakeClock) -> Event:
    """Event ``seq`` of a lead, as the CRM would record it (``lead.created`` first), built from
    the catalog's example so that it stays valid against the closed schema."""
    event_type = "lead.updated" if seq > 1 else "lead.created"
    data = example_of(event_type)["data"]
    data.update(workspace_id=str(workspace_id), site_id=None, sequence=seq)
    contact_id = str(uuid.uuid4())
    data["lead"].update(
        id=str(lead_id),
        title=f"step {seq}",
        contact_id=contact_id,
        site_id=None,
        created_at=clock(),
    )
    if "contact" in data:
        data["contact"]["id"] = contact_id
    return Event(type=event_type, occurred_at=clock(), data=data)


async def record_events(
    db: Database, workspace_id: uuid.UUID, lead_id: uuid.UUID, count: int, clock: FakeClock
) -> None:
    async with db.transaction() as session:
        outbox = OutboxRepository(session, workspace_id)
        for seq in range(1, count + 1):
            outbox.record(
                lead_event(workspace_id, lead_id, seq, clock), lead_id=lead_id, sequence=seq
            )


async def disabled_notices(db: Database, workspace_id: uuid.UUID) -> list[OutboxEvent]:
    """The endpoint.disabled events the host was told of in this workspace's outbox."""
    async with db.transaction() as session:
        found = await session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.workspace_id == workspace_id, OutboxEvent.type == "endpoint.disabled"
            )
        )
        return list(found)


def ws_uuid(global_id: str) -> uuid.UUID:
    return parse_global_id(global_id).row_id


# ---- AT-02: a lead from the public route reaches the receiver, verified ----------------------


async def test_a_submitted_lead_is_delivered_signed_and_valid(
    client: httpx.AsyncClient,
    platform: GraphQL,
    dispatcher: Dispatcher,
    receiver: Receiver,
    clock: FakeClock,
) -> None:
    tenant = await make_tenant(platform)
    endpoint = await create_endpoint(platform, receiver.url(), ws=tenant.workspace_id)
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]+=*", endpoint["secret"])
    receiver.secrets = [endpoint["secret"]]

    response = await submit(client, tenant, submission(email="at02@example.com"))
    assert response.status_code == 202
    await drain(dispatcher, clock)

    types = sorted(r.payload["type"] for r in receiver.received)
    assert {"contact.created", "lead.created"} <= set(types)
    count = len(types)
    for request in receiver.received:
        assert request.verified_by == {0}
        assert "." not in request.message_id and request.message_id.startswith("msg_")
        assert len(request.body) < 20_000
        assert request.timestamp == int(clock().timestamp())
        validate(request.payload)
        assert list(request.payload) == ["type", "timestamp", "data"]
    lead = next(r for r in receiver.received if r.payload["type"] == "lead.created")
    assert lead.payload["data"]["sequence"] == 1
    assert lead.payload["data"]["workspace_id"] == tenant.workspace_id

    log = (await platform.data(ENDPOINT, id=endpoint["id"]))["webhookEndpoint"]
    assert log["deliveries"]["totalCount"] == count
    assert {e["node"]["status"] for e in log["deliveries"]["edges"]} == {"DELIVERED"}
    assert {e["node"]["messageId"] for e in log["deliveries"]["edges"]} == set(receiver.ids())
    attempts = [e["node"] for e in log["attempts"]["edges"]]
    assert len(attempts) == count
    assert all(
        a["succeeded"] and a["statusCode"] == 200 and a["responseExcerpt"] == "ok" for a in attempts
    )


# ---- AT-04, AT-06: retries, schedule, exhaustion ---------------------------------------------


async def test_retries_keep_the_id_and_sign_the_attempt_time(
    platform: GraphQL,
    services: Services,
    dispatcher: Dispatcher,
    receiver: Receiver,
    clock: FakeClock,
) -> None:
    tenant = await make_tenant(platform)
    endpoint = await create_endpoint(platform, receiver.url(), ws=tenant.workspace_id)
    receiver.secrets = [endpoint["secret"]]
    receiver.script = lambda request, n: Reply(status=500 if n <= 2 else 200)
    await record_events(services.db, ws_uuid(tenant.workspace_id), uuid.uuid4(), 1, clock)
    await drain(dispatcher, clock)

    assert len(receiver.received) == 3
    assert len(set(receiver.ids())) == 1
    assert all(r.verified_by == {0} for r in receiver.received)
    stamps = [r.timestamp for r in receiver.received]
    assert stamps == sorted(stamps) and stamps[2] - stamps[0] >= 270
    assert len({r.payload["timestamp"] for r in receiver.received}) == 1


async def test_the_schedule_runs_to_exhaustion_and_the_host_is_told(
    platform: GraphQL,
    services: Services,
    dispatcher: Dispatcher,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = await make_tenant(platform)
    async with running_receiver() as failing, running_receiver() as ops:
        failing.script = lambda request, n: Reply(status=500)
        endpoint = await create_endpoint(
            platform, failing.url(), types=["lead.created"], ws=tenant.workspace_id
        )
        await create_endpoint(platform, ops.url(), types=["message.attempt.exhausted"])
        failing.secrets = [endpoint["secret"]]
        start = clock()
        await record_events(services.db, ws_uuid(tenant.workspace_id), uuid.uuid4(), 1, clock)
        await drain(dispatcher, clock)

        offsets = [r.timestamp - int(start.timestamp()) for r in failing.received]
        assert len(offsets) == 10
        expected = [0.0]
        for delay in RETRY_SCHEDULE:
            expected.append(expected[-1] + delay.total_seconds())
        for got, want in zip(offsets, expected, strict=True):
            assert abs(got - want) <= 0.1 * want + 1, (offsets, expected)
        assert len(set(failing.ids())) == 1

        log = (await platform.data(ENDPOINT, id=endpoint["id"]))["webhookEndpoint"]
        delivery = log["deliveries"]["edges"][0]["node"]
        assert delivery["status"] == "FAILED" and delivery["attemptCount"] == 10
        assert log["attempts"]["totalCount"] == 10
        assert all(
            a["statusCode"] == 500 and a["error"]
            for a in (e["node"] for e in log["attempts"]["edges"])
        )

        [notice] = [r.payload for r in ops.received]
        assert notice["type"] == "message.attempt.exhausted"
        assert notice["data"]["attempts"] == 10
        assert notice["data"]["message_id"] == failing.ids()[0]
        validate(notice)


# ---- AT-07: what each answer means -----------------------------------------------------------


async def test_status_codes_redirects_gone_and_retry_after(
    platform: GraphQL,
    services: Services,
    dispatcher: Dispatcher,
    receiver: Receiver,
    clock: FakeClock,
) -> None:
    tenant = await make_tenant(platform)
    ws = ws_uuid(tenant.workspace_id)
    replies = {
        "/ok": Reply(status=204, body=b""),
        "/redirect": Reply(status=302, headers={"location": receiver.url("/internal")}),
        "/gone": Reply(status=410),
        "/busy": Reply(status=429, headers={"retry-after": "120"}),
        "/down": Reply(status=503, headers={"retry-after": "3600"}),
        "/slow": Reply(sleep=TIMEOUT * 3),
        "/reset": Reply(reset=True),
    }
    paths: dict[str, str] = {}
    for path in replies:
        endpoint = await create_endpoint(platform, receiver.url(path), ws=tenant.workspace_id)
        paths[endpoint["id"]] = path

    receiver.script = lambda request, n: replies[request.path]

    started = clock()
    await record_events(services.db, ws, uuid.uuid4(), 1, clock)
    await dispatcher.run_until_idle()

    by_path: dict[str, dict[str, Any]] = {}
    for endpoint_id, path in paths.items():
        by_path[path] = (await platform.data(ENDPOINT, id=endpoint_id))["webhookEndpoint"]

    def only_delivery(path: str) -> dict[str, Any]:
        # The lead's event; later ones (the 410 endpoint's disabled notice) are not asked about.
        edges = by_path[path]["deliveries"]["edges"]
        node: dict[str, Any] = next(
            e["node"] for e in edges if e["node"]["eventType"] == "lead.created"
        )
        return node

    assert only_delivery("/ok")["status"] == "DELIVERED"
    redirect = only_delivery("/redirect")
    assert redirect["status"] == "PENDING" and "redirect" in redirect["lastError"]
    assert "/internal" not in [r.path for r in receiver.received]
    assert by_path["/gone"]["enabled"] is False
    assert "410" in by_path["/gone"]["disabledReason"]
    assert only_delivery("/gone")["status"] == "FAILED"
    assert "timeout" in only_delivery("/slow")["lastError"]
    assert "connection" in only_delivery("/reset")["lastError"]
    for path in ("/redirect", "/busy", "/down", "/slow", "/reset"):
        assert by_path[path]["attempts"]["edges"][0]["node"]["error"], path

    async with services.db.transaction() as session:
        rows = (
            await session.scalars(select(WebhookDelivery).where(WebhookDelivery.workspace_id == ws))
        ).all()
    keys = {row.endpoint_key: row for row in rows}

    def due_after(path: str) -> float:
        endpoint_id = next(k for k, v in paths.items() if v == path)
        row = keys[parse_global_id(endpoint_id).row_id]
        assert row.next_attempt_at is not None
        return (row.next_attempt_at - started).total_seconds()

    assert due_after("/busy") >= 120
    assert due_after("/down") >= 3600
    assert due_after("/reset") < 10

    # The 410 endpoint told the host: an endpoint.disabled event is in the feed.
    notices = await disabled_notices(services.db, ws)
    assert len(notices) == 1
    validate(notices[0].payload)


# ---- AT-08, AT-09: five days of failure disable; replay after re-enabling --------------------


async def test_a_receiver_s_cookies_are_never_sent_back() -> None:
    """A cookie one receiver sets must not reach another on the same host, nor itself."""
    client = create_webhook_client(parse_allowed_networks("127.0.0.0/8"), timeout=TIMEOUT)
    async with running_receiver() as receiver:
        receiver.script = lambda request, n: Reply(headers={"set-cookie": "session=abc; Path=/"})
        try:
            for path in ("/one", "/two"):
                response = await client.post(receiver.url(path), content=b"{}")
                assert response.status_code == 200
        finally:
            await client.aclose()
    assert [r.cookie for r in receiver.received] == [None, None]


async def test_an_endpoint_failing_for_five_days_is_disabled_then_replayed(
    platform: GraphQL,
    services: Services,
    dispatcher: Dispatcher,
    receiver: Receiver,
    clock: FakeClock,
) -> None:
    tenant = await make_tenant(platform)
    ws = ws_uuid(tenant.workspace_id)
    endpoint = await create_endpoint(platform, receiver.url(), ws=tenant.workspace_id)
    receiver.secrets = [endpoint["secret"]]
    receiver.script = lambda request, n: Reply(status=500)
    start = clock()
    emitted = 0
    # One event every 6 hours for 6 days; the clock only ever jumps to the next due moment.
    for step in range(24):
        emit_at = start + timedelta(hours=6 * step)
        while True:
            due = await dispatcher.next_due_at()
            if due is None or due > emit_at:
                break
            clock.set(due)
            await dispatcher.run_until_idle()
        clock.set(emit_at)
        await record_events(services.db, ws, uuid.uuid4(), 1, clock)
        emitted += 1
        await dispatcher.run_until_idle()

    state = (await platform.data(ENDPOINT, id=endpoint["id"]))["webhookEndpoint"]
    assert state["enabled"] is False
    assert state["disabledReason"] == "failing continuously for 120 hours"
    skipped = await platform.data(ENDPOINT, id=endpoint["id"], status="SKIPPED_ENDPOINT_DISABLED")
    assert skipped["webhookEndpoint"]["deliveries"]["totalCount"] >= 1
    assert len(await disabled_notices(services.db, ws)) == 1

    # AT-09: fixed and re-enabled, a replay sends every failed or skipped one once more.
    receiver.script = lambda request, n: Reply(status=200)
    first_try = set(receiver.ids())
    replay = await platform.data(REPLAY, id=endpoint["id"], since=start.isoformat())
    assert replay["replayFailedWebhooks"]["userErrors"][0]["code"] == "conflict"
    enabled = await platform.data(ENABLE, id=endpoint["id"])
    assert enabled["enableWebhookEndpoint"]["endpoint"]["enabled"] is True
    replay = await platform.data(REPLAY, id=endpoint["id"], since=start.isoformat())
    assert replay["replayFailedWebhooks"]["replayed"] >= 1
    await drain(dispatcher, clock)

    delivered = {r.message_id for r in receiver.received if r.message_id and r.verified_by}
    log = (await platform.data(ENDPOINT, id=endpoint["id"]))["webhookEndpoint"]["deliveries"]
    statuses = {e["node"]["status"] for e in log["edges"]}
    # Besides the leads' events: the exhausted notices and the endpoint.disabled notice, which
    # are this workspace's events too and were skipped while it was disabled.
    assert statuses == {"DELIVERED"}
    assert len(delivered) == log["totalCount"] >= emitted + 1
    types = {r.payload["type"] for r in receiver.received}
    assert {"lead.created", "endpoint.disabled", "message.attempt.exhausted"} <= types
    assert first_try <= delivered


# ---- AT-03: rotation overlap -----------------------------------------------------------------


async def test_rotation_sends_two_signatures_during_the_overlap(
    platform: GraphQL,
    services: Services,
    dispatcher: Dispatcher,
    receiver: Receiver,
    clock: FakeClock,
) -> None:
    tenant = await make_tenant(platform)
    ws = ws_uuid(tenant.workspace_id)
    endpoint = await create_endpoint(platform, receiver.url(), ws=tenant.workspace_id)
    other = await create_endpoint(platform, receiver.url("/other"), ws=tenant.workspace_id)
    assert other["secret"] != endpoint["secret"]
    old = endpoint["secret"]
    rotated = (await platform.data(ROTATE, id=endpoint["id"]))["rotateWebhookSecret"]["endpoint"]
    new = rotated["secret"]
    assert new != old
    await platform.data(UPDATE, id=other["id"], types=["task.created"])
    receiver.secrets = [old, new]

    await record_events(services.db, ws, uuid.uuid4(), 1, clock)
    await drain(dispatcher, clock)
    [during] = receiver.received
    assert len(during.signature.split(" ")) == 2
    assert during.verified_by == {0, 1}

    clock.advance(timedelta(hours=24, seconds=1))
    await record_events(services.db, ws, uuid.uuid4(), 1, clock)
    await drain(dispatcher, clock)
    after = receiver.received[-1]
    assert len(after.signature.split(" ")) == 1
    assert after.verified_by == {1}


# ---- AT-16: order per lead -------------------------------------------------------------------


async def test_a_lead_s_events_arrive_in_sequence_order(
    platform: GraphQL,
    services: Services,
    dispatcher: Dispatcher,
    receiver: Receiver,
    clock: FakeClock,
) -> None:
    tenant = await make_tenant(platform)
    await create_endpoint(platform, receiver.url(), ws=tenant.workspace_id)
    fails = {"left": 2}

    def script(request: Any, n: int) -> Reply:
        if request.payload["data"]["sequence"] == 1 and fails["left"]:
            fails["left"] -= 1
            return Reply(status=500)
        return Reply()

    receiver.script = script
    await record_events(services.db, ws_uuid(tenant.workspace_id), uuid.uuid4(), 3, clock)
    await drain(dispatcher, clock)
    sequences = [r.payload["data"]["sequence"] for r in receiver.received]
    assert sequences == [1, 1, 1, 2, 3]


# ---- AT-10: a slow endpoint cannot starve the others ------------------------------------------


async def test_a_hanging_endpoint_is_capped_and_others_flow(
    platform: GraphQL,
    services: Services,
    dispatcher: Dispatcher,
    clock: FakeClock,
) -> None:
    slow_tenant = await make_tenant(platform)
    fast_tenant = await make_tenant(platform)
    async with running_receiver() as slow, running_receiver() as fast:
        # Slow but answering within the timeout, so the receiver's own count of open requests
        # is the dispatcher's (an abandoned request would linger on the receiver's side).
        # Well inside the timeout even on a loaded machine.
        slow.script = lambda request, n: Reply(sleep=TIMEOUT * 0.4)
        await create_endpoint(platform, slow.url(), ws=slow_tenant.workspace_id)
        await create_endpoint(platform, fast.url(), ws=fast_tenant.workspace_id)
        for _ in range(5):
            await record_events(
                services.db, ws_uuid(slow_tenant.workspace_id), uuid.uuid4(), 4, clock
            )
        for _ in range(5):
            await record_events(
                services.db, ws_uuid(fast_tenant.workspace_id), uuid.uuid4(), 4, clock
            )
        run = asyncio.create_task(dispatcher.run())
        try:
            for _ in range(1500):
                if len(fast.received) >= 20:
                    break
                await asyncio.sleep(0.01)
        finally:
            dispatcher.request_stop()
            await run
        assert len(fast.received) == 20
        assert slow.max_in_flight <= 4
        # Stopping handed every lease back: nothing is left in flight.
        async with services.db.transaction() as session:
            stuck = (
                await session.scalars(
                    select(WebhookDelivery).where(
                        WebhookDelivery.status == DeliveryStatus.IN_FLIGHT
                    )
                )
            ).all()
        assert stuck == []


async def test_an_overloaded_endpoint_gets_fewer_requests_at_once_then_more_again(
    platform: GraphQL,
    services: Services,
    dispatcher: Dispatcher,
    clock: FakeClock,
) -> None:
    """AT-07: a 502 or 503 halves what one endpoint is sent at once; successes win it back."""
    tenant = await make_tenant(platform)
    async with running_receiver() as receiver:
        # The first four (sent together, four being the cap) say "bad gateway"; every answer
        # takes a short while, so that requests overlap.
        receiver.script = lambda request, n: Reply(
            status=502 if len(receiver.received) <= 4 else 200, sleep=0.05
        )
        await create_endpoint(platform, receiver.url(), ws=tenant.workspace_id)
        for _ in range(16):
            await record_events(services.db, ws_uuid(tenant.workspace_id), uuid.uuid4(), 1, clock)
        run = asyncio.create_task(dispatcher.run())
        try:
            for _ in range(1000):
                if len(receiver.received) >= 16:
                    break
                await asyncio.sleep(0.01)
        finally:
            dispatcher.request_stop()
            await run
    arrivals = [r.open_on_arrival for r in receiver.received]
    assert len(arrivals) == 16
    assert max(arrivals[:4]) == 4  # the cap, before the endpoint said anything
    # After four 502s it is sent one at a time, then two: the first three after that never
    # meet more than one other request at the endpoint.
    assert arrivals[4] == 1
    assert max(arrivals[4:7]) <= 2
    assert max(arrivals[5:]) == 4  # and back to the cap as it answers
    assert max(arrivals) <= 4


async def test_leases_are_renewed_while_deliveries_wait_their_turn(
    platform: GraphQL, services: Services, dispatcher: Dispatcher
) -> None:
    """A delivery queued behind a slow endpoint keeps its lease for as long as it waits, so no
    other dispatcher takes it over and sends it twice."""
    tenant = await make_tenant(platform)
    # Renewed every third of a lease: a second of slack before one could expire, which a
    # loaded machine's event loop needs; the sending still outlasts two whole leases.
    lease = timedelta(seconds=1.5)
    client = create_webhook_client(parse_allowed_networks("127.0.0.0/8"), timeout=5)
    slow = Dispatcher(
        services.db,
        client,
        box=services.secret_box,
        config=DispatcherConfig(endpoint_concurrency=1, lease=lease, poll_interval=0.01),
    )
    other = Dispatcher(
        services.db, client, box=services.secret_box, config=DispatcherConfig(lease=lease)
    )
    async with running_receiver() as receiver:
        receiver.script = lambda request, n: Reply(sleep=0.5)
        await create_endpoint(platform, receiver.url(), ws=tenant.workspace_id)
        for _ in range(7):  # 3.5 seconds of sending, one at a time: over two leases
            await record_events(
                services.db, ws_uuid(tenant.workspace_id), uuid.uuid4(), 1, FakeClock()
            )
        run = asyncio.create_task(slow.run())
        taken_over = []
        try:
            for _ in range(1000):
                if len(receiver.received) >= 7 and receiver.in_flight == 0:
                    break
                taken_over.extend(await other.claim(8))
                await asyncio.sleep(0.05)
        finally:
            slow.request_stop()
            await run
            await client.aclose()
    assert taken_over == []
    assert sorted(set(receiver.ids())) == sorted(receiver.ids())
    assert len(receiver.ids()) == 7
    async with services.db.transaction() as session:
        errors = (
            await session.scalars(
                select(WebhookAttempt.error).where(
                    WebhookAttempt.workspace_id == ws_uuid(tenant.workspace_id)
                )
            )
        ).all()
    assert errors == [None] * 7


# ---- SSRF, permissions and isolation ----------------------------------------------------------


async def test_unsafe_urls_are_refused_at_creation_and_update(
    platform: GraphQL, dispatcher: Dispatcher, receiver: Receiver, services: Services
) -> None:
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        "http://10.0.0.1/",
    ):
        data = await platform.data(CREATE, url=url, types=[], ws=None)
        assert data["createWebhookEndpoint"]["endpoint"] is None
        assert data["createWebhookEndpoint"]["userErrors"][0]["field"] == "url"
    bad_type = await platform.data(CREATE, url=receiver.url(), types=["lead.deleted"], ws=None)
    assert bad_type["createWebhookEndpoint"]["userErrors"][0]["field"] == "eventTypes"
    endpoint = await create_endpoint(platform, receiver.url())
    updated = await platform.data(UPDATE, id=endpoint["id"], url="http://192.168.1.1/")
    assert updated["updateWebhookEndpoint"]["userErrors"][0]["code"] == "invalid"
    updated = await platform.data(UPDATE, id=endpoint["id"], url=receiver.url("/v2"))
    assert updated["updateWebhookEndpoint"]["endpoint"]["url"].endswith("/v2")


async def test_panels_see_and_manage_only_their_own_endpoints(
    client: httpx.AsyncClient,
    platform: GraphQL,
    services: Services,
    dispatcher: Dispatcher,
    clock: FakeClock,
) -> None:
    a = await make_tenant(platform, domain="a.example.com")
    b = await make_tenant(platform, domain="b.example.com")
    manager = await make_tenant(platform, role="MANAGER")
    async with (
        running_receiver() as a_hook,
        running_receiver() as b_hook,
        running_receiver() as host,
    ):
        # A panel OWNER creates for its own workspace, whatever workspaceId says.
        a_endpoint = await create_endpoint(a.panel, a_hook.url())
        assert a_endpoint["workspaceId"] == a.workspace_id
        foreign = await a.panel.data(CREATE, url=a_hook.url(), types=[], ws=b.workspace_id)
        assert foreign["createWebhookEndpoint"]["userErrors"][0]["code"] == "not_found"
        b_endpoint = await create_endpoint(b.panel, b_hook.url())
        host_endpoint = await create_endpoint(platform, host.url())
        assert host_endpoint["workspaceId"] is None
        denied = await manager.panel.data(CREATE, url=a_hook.url(), types=[], ws=None)
        assert denied["createWebhookEndpoint"]["userErrors"][0]["code"] == "forbidden"

        assert [e["id"] for e in (await a.panel.data(ENDPOINTS))["webhookEndpoints"]] == [
            a_endpoint["id"]
        ]
        assert [e["id"] for e in (await platform.data(ENDPOINTS))["webhookEndpoints"]] == [
            host_endpoint["id"]
        ]
        for other in (b_endpoint["id"], host_endpoint["id"]):
            answer = await a.panel(ENDPOINT, id=other)
            assert answer.get("data") is None
            assert answer["errors"][0]["extensions"]["code"] == "not_found"
            for mutation in (ROTATE, DISABLE, TEST):
                result = await a.panel.data(mutation, id=other)
                assert next(iter(result.values()))["userErrors"][0]["code"] == "not_found"

        a_hook.secrets = [a_endpoint["secret"]]
        b_hook.secrets = [b_endpoint["secret"]]
        host.secrets = [host_endpoint["secret"]]
        await submit(
            client, a, submission(email="iso-a@example.com"), origin="https://a.example.com"
        )
        await submit(
            client, b, submission(email="iso-b@example.com"), origin="https://b.example.com"
        )
        await drain(dispatcher, clock)

        def emails(receiver: Receiver) -> set[str]:
            return {
                r.payload["data"]["contact"]["email"]
                for r in receiver.received
                if r.payload["type"] == "contact.created"
            }

        assert emails(a_hook) == {"iso-a@example.com"}
        assert emails(b_hook) == {"iso-b@example.com"}
        assert emails(host) == {"iso-a@example.com", "iso-b@example.com"}
        assert all(r.verified_by == {0} for r in a_hook.received + b_hook.received + host.received)

        # A's panel cannot resend a delivery of the host's platform-wide endpoint.
        host_log = (await platform.data(ENDPOINT, id=host_endpoint["id"]))["webhookEndpoint"]
        a_ws = ws_uuid(a.workspace_id)
        host_delivery = next(
            e["node"]["id"]
            for e in host_log["deliveries"]["edges"]
            if parse_global_id(e["node"]["id"]).workspace_id == a_ws
        )
        refused = await a.panel.data(RESEND, id=host_delivery)
        assert refused["resendWebhookDelivery"]["userErrors"][0]["code"] == "not_found"
        resent = await platform.data(RESEND, id=host_delivery)
        assert resent["resendWebhookDelivery"]["delivery"]["status"] == "PENDING"
        before = len(host.received)
        await drain(dispatcher, clock)
        assert len(host.received) == before + 1
        assert host.received[-1].message_id in host.ids()[:before]

        # The feed: a panel reads its own workspace only, in order, by cursor.
        a_feed = (await a.panel.data(EVENTS, first=100))["events"]
        assert {e["node"]["data"]["workspace_id"] for e in a_feed["edges"]} == {a.workspace_id}
        assert (await a.panel(EVENTS, first=5, ws=b.workspace_id)).get("data") is None


async def test_send_test_webhook_reaches_only_that_endpoint(
    platform: GraphQL, dispatcher: Dispatcher, receiver: Receiver, clock: FakeClock
) -> None:
    endpoint = await create_endpoint(platform, receiver.url(), types=["lead.won"])
    await create_endpoint(platform, receiver.url("/other"))
    receiver.secrets = [endpoint["secret"]]
    sent = (await platform.data(TEST, id=endpoint["id"]))["sendTestWebhook"]
    assert sent["userErrors"] == []
    await drain(dispatcher, clock)
    [request] = receiver.received
    assert request.message_id == sent["messageId"]
    assert request.payload["type"] == "webhook.test"
    assert request.payload["data"] == {
        "workspace_id": None,
        "workspace_external_id": None,
        "endpoint_id": endpoint["id"],
    }
    assert request.verified_by == {0}
    validate(request.payload)

    disabled = (await platform.data(DISABLE, id=endpoint["id"]))["disableWebhookEndpoint"]
    assert disabled["endpoint"]["enabled"] is False


async def test_the_feed_is_ordered_by_commit_and_pages_by_cursor(
    platform: GraphQL, services: Services, dispatcher: Dispatcher, clock: FakeClock
) -> None:
    tenant = await make_tenant(platform)
    ws = ws_uuid(tenant.workspace_id)
    lead = uuid.uuid4()
    # Written with an occurrence time in the past, committed after newer ones: the cursor
    # must still not skip it.
    await record_events(services.db, ws, lead, 2, clock)
    await dispatcher.fan_out()
    first = (await platform.data(EVENTS, first=100, ws=tenant.workspace_id))["events"]
    assert [e["node"]["data"]["sequence"] for e in first["edges"]] == [1, 2]
    cursor = first["pageInfo"]["endCursor"]

    late = uuid.uuid4()
    back_then = FakeClock(clock() - timedelta(hours=1))
    await record_events(services.db, ws, late, 1, back_then)
    await dispatcher.fan_out()
    page = (await platform.data(EVENTS, first=100, after=cursor, ws=tenant.workspace_id))["events"]
    assert [e["node"]["data"]["lead"]["id"] for e in page["edges"]] == [str(late)]
    assert page["pageInfo"]["hasNextPage"] is False
    again = await platform.data(
        EVENTS, first=100, after=page["pageInfo"]["endCursor"], ws=tenant.workspace_id
    )
    assert again["events"]["edges"] == []


async def test_the_feed_counts_every_event_not_the_page(
    platform: GraphQL, services: Services, dispatcher: Dispatcher, clock: FakeClock
) -> None:
    tenant = await make_tenant(platform)
    await record_events(services.db, ws_uuid(tenant.workspace_id), uuid.uuid4(), 7, clock)
    await dispatcher.fan_out()
    query = EVENTS.replace("pageInfo {", "totalCount pageInfo {")
    page = (await platform.data(query, first=5, ws=tenant.workspace_id))["events"]
    assert len(page["edges"]) == 5
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["totalCount"] == 7
    # Every page of the same feed tells the same total.
    rest = await platform.data(
        query, first=5, after=page["pageInfo"]["endCursor"], ws=tenant.workspace_id
    )
    assert len(rest["events"]["edges"]) == 2
    assert rest["events"]["totalCount"] == 7


async def test_a_rolled_back_change_has_no_event(
    platform: GraphQL,
    services: Services,
    dispatcher: Dispatcher,
    receiver: Receiver,
    clock: FakeClock,
) -> None:
    tenant = await make_tenant(platform)
    ws = ws_uuid(tenant.workspace_id)
    await create_endpoint(platform, receiver.url(), ws=tenant.workspace_id)
    lead = uuid.uuid4()
    with pytest.raises(RuntimeError):
        async with services.db.transaction() as session:
            OutboxRepository(session, ws).record(
                Event(
                    type="lead.won",
                    occurred_at=clock(),
                    data={**example_of("lead.won")["data"], "workspace_id": str(ws)},
                ),
                lead_id=lead,
                sequence=1,
            )
            await session.flush()
            raise RuntimeError("the change failed after its event was written")
    await drain(dispatcher, clock)
    assert receiver.received == []
    async with services.db.transaction() as session:
        assert (
            await session.scalars(select(OutboxEvent).where(OutboxEvent.lead_id == lead))
        ).all() == []


# ---- AT-34: a receiver failing at random still gets everything, in order ----------------------


async def test_a_randomly_failing_receiver_still_gets_every_event_in_order(
    platform: GraphQL,
    services: Services,
    dispatcher: Dispatcher,
    receiver: Receiver,
    clock: FakeClock,
) -> None:
    rng = random.Random(34)
    tenants = [await make_tenant(platform) for _ in range(3)]
    host = await create_endpoint(platform, receiver.url())
    receiver.secrets = [host["secret"]]

    def chaos(request: Any, n: int) -> Reply:
        roll = rng.random()
        if roll < 0.3:
            return Reply(status=500)
        if roll < 0.4:
            return Reply(sleep=TIMEOUT * 2)
        if roll < 0.5:
            return Reply(reset=True)
        return Reply()

    receiver.script = chaos
    leads: list[uuid.UUID] = []
    for tenant in tenants:
        for _ in range(4):
            lead = uuid.uuid4()
            leads.append(lead)
            await record_events(services.db, ws_uuid(tenant.workspace_id), lead, 5, clock)
    await drain(dispatcher, clock)

    assert len({r.message_id for r in receiver.received}) == 60
    async with services.db.transaction() as session:
        rows = (
            await session.scalars(
                select(WebhookDelivery).where(
                    WebhookDelivery.endpoint_key == parse_global_id(host["id"]).row_id
                )
            )
        ).all()
        attempts = (
            await session.scalars(
                select(WebhookAttempt).where(WebhookAttempt.endpoint_key == rows[0].endpoint_key)
            )
        ).all()
    assert {row.status for row in rows} == {DeliveryStatus.DELIVERED}
    assert len(rows) == 60
    successes = [a for a in attempts if a.succeeded]
    assert len(successes) == 60
    # Head of line per lead: sequence k is first sent only after k-1 was answered 2xx in time.
    for lead in leads:
        arrivals = [
            (index, r.payload["data"]["sequence"], r.status)
            for index, r in enumerate(receiver.received)
            if r.payload["data"]["lead"]["id"] == str(lead)
        ]
        for seq in range(2, 6):
            first_sent = min(i for i, s, _ in arrivals if s == seq)
            accepted = min(i for i, s, status in arrivals if s == seq - 1 and status == 200)
            assert accepted < first_sent, (lead, seq, arrivals)


# ---- Speed: the dispatcher's frequent steps are single statements on PostgreSQL -------------


def statement_connection(services: Services) -> StatementConnection:
    statements = services.db.statements()
    if statements is None:
        pytest.skip("steps take transactions here (SQLite, PgBouncer or row security)")
    return statements


async def test_successes_are_recorded_by_one_statement_a_batch(
    services: Services,
    platform: GraphQL,
    dispatcher: Dispatcher,
    receiver: Receiver,
    clock: FakeClock,
) -> None:
    statement_connection(services)
    tenant = await make_tenant(platform)
    endpoint = await create_endpoint(platform, receiver.url(), ws=tenant.workspace_id)
    receiver.secrets = [endpoint["secret"]]
    await record_events(services.db, ws_uuid(tenant.workspace_id), uuid.uuid4(), 3, clock)

    with counting_queries(services) as statements:
        await drain(dispatcher, clock)

    assert len(receiver.received) == 3
    recorded = [s for s in statements if "webhook_attempts" in s]
    # The lead's events go one at a time, so each success is a batch of its own.
    assert recorded == [RECORD_SUCCESSES] * 3
    log = (await platform.data(ENDPOINT, id=endpoint["id"]))["webhookEndpoint"]
    assert {e["node"]["status"] for e in log["deliveries"]["edges"]} == {"DELIVERED"}
    attempts = [e["node"] for e in log["attempts"]["edges"]]
    assert len(attempts) == 3
    assert all(a["succeeded"] and a["statusCode"] == 200 for a in attempts)


async def test_an_idle_fan_out_is_one_read(services: Services, dispatcher: Dispatcher) -> None:
    statement_connection(services)
    with counting_queries(services) as statements:
        assert await dispatcher.fan_out() == 0
    assert len(statements) == 1 and "position IS NULL" in statements[0]


async def test_the_statement_connection_recovers_from_failures(services: Services) -> None:
    statements = statement_connection(services)
    with pytest.raises(DBAPIError):
        await statements.execute("SELECT 1 / $1::integer", (0,))
    assert [tuple(row) for row in await statements.execute("SELECT $1::integer", (7,))] == [(7,)]

    # The connection is lost: that statement fails as "unavailable", the next one reconnects.
    (pid,) = (await statements.execute("SELECT pg_backend_pid()", ()))[0]
    async with services.db.transaction() as session:
        await session.execute(select(func.pg_terminate_backend(pid)))
    with pytest.raises(ServiceUnavailable):
        await statements.execute("SELECT 1", ())
    assert [tuple(row) for row in await statements.execute("SELECT 1", ())] == [(1,)]


async def test_disabled_endpoints_are_found_in_one_read(
    services: Services, dispatcher: Dispatcher
) -> None:
    enabled, disabled = (
        PlatformWebhookEndpoint(
            url="http://127.0.0.1:9/hook",
            secret=services.secret_box.seal(generate_secret()),
            event_types=[],
            enabled=on,
        )
        for on in (True, False)
    )
    async with services.db.transaction() as session:
        session.add_all([enabled, disabled])
    gone = uuid.uuid4()

    with counting_queries(services) as statements:
        found = await dispatcher.claims.queue.disabled_endpoints(
            services.db, [enabled.id, disabled.id, gone]
        )

    assert found == {disabled.id, gone}
    if services.db.keeps_connections:
        assert len(statements) == 1
