"""Webhook endpoints' signing secrets are sealed at rest with a key of EMBEDCRM_SECRET_KEYS: the
row holds no usable secret, the host still reads its secret as the contract says, the
dispatcher opens each endpoint's secrets once however many deliveries it signs (again only when
they change), a rotation keeps two signatures verifying, and a new sealing key added first keeps
the old endpoints working."""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import test_delivery
from sqlalchemy import select, text
from test_delivery import (
    ROTATE,
    TIMEOUT,
    create_endpoint,
    drain,
    record_events,
    remove_endpoints,
    ws_uuid,
)
from webhook_support import FakeClock, Receiver

from conftest import GraphQL
from embedcrm.app import create_app
from embedcrm.config import Settings
from embedcrm.db import Database
from embedcrm.errors import ConfigurationError
from embedcrm.graphql.ids import parse_global_id
from embedcrm.kit.sealed import SEALED_PREFIX, SecretBox
from embedcrm.services import Services
from embedcrm.webhooks.dispatcher import Dispatcher, DispatcherConfig
from embedcrm.webhooks.models import DeliveryStatus, WebhookDelivery
from embedcrm.webhooks.ssrf import create_webhook_client, parse_allowed_networks
from factories import make_tenant

NEW_KEY = "a-newer-signing-key-for-webhooks-0123456789"
# The fake clock and the verifying receiver of the delivery tests.
clock = test_delivery.clock
receiver = test_delivery.receiver

READ = "query($id: ID!) { webhookEndpoint(id: $id) { id secret } }"


class CountingBox(SecretBox):
    """The settings' box, counting every secret it opens."""

    def __init__(self, secret_keys: tuple[str, ...]) -> None:
        super().__init__(secret_keys)
        self.opened = 0

    def open(self, stored: str) -> str:
        self.opened += 1
        return super().open(stored)


@pytest.fixture
async def webhook_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    await remove_endpoints(services.db)
    client = create_webhook_client(parse_allowed_networks("127.0.0.0/8"), timeout=TIMEOUT)
    try:
        yield client
    finally:
        await client.aclose()
        await remove_endpoints(services.db)


async def new_dispatcher(
    services: Services, client: httpx.AsyncClient, clock: FakeClock, box: SecretBox
) -> Dispatcher:
    dispatcher = Dispatcher(
        services.db,
        client,
        box=box,
        config=DispatcherConfig(concurrency=4, endpoint_concurrency=4, poll_interval=0.01),
        clock=clock,
        rng=random.Random(7),
    )
    # Events other tests left: positioned now, so they do not reach this test's endpoints.
    while await dispatcher.fan_out():
        pass
    return dispatcher


async def stored(db: Database, endpoint_gid: str) -> tuple[str, str | None]:
    """The secret columns as a dump shows them: plain SQL, no model in between."""
    gid = parse_global_id(endpoint_gid)
    platform = gid.workspace_id == uuid.UUID(int=0)
    table = "platform_webhook_endpoints" if platform else "webhook_endpoints"
    postgres = db.engine.dialect.name == "postgresql"
    async with db.engine.connect() as connection:
        row = (
            await connection.execute(
                text(f"SELECT secret, previous_secret FROM {table} WHERE id = :id"),
                {"id": gid.row_id if postgres else gid.row_id.hex},
            )
        ).one()
    return row[0], row[1]


def assert_sealed(raw: str, plain: str, keys: tuple[str, ...]) -> None:
    assert raw.startswith(SEALED_PREFIX)
    assert plain not in raw and plain.removeprefix("whsec_") not in raw
    assert SecretBox(keys).open(raw) == plain
    with pytest.raises(ConfigurationError):
        SecretBox(("not-the-key-0123456789",)).open(raw)


async def test_a_dump_holds_no_usable_secret_and_the_host_still_reads_it(
    services: Services, settings: Settings, platform: GraphQL, webhook_client: httpx.AsyncClient
) -> None:
    shop = await make_tenant(platform)
    for ws in (shop.workspace_id, None):
        endpoint = await create_endpoint(platform, "http://127.0.0.1:9/hook", ws=ws)
        secret = endpoint["secret"]
        assert secret.startswith("whsec_") and len(secret) == 50
        current, previous = await stored(services.db, endpoint["id"])
        assert previous is None
        assert_sealed(current, secret, settings.secret_keys)
        # The contract answers the current secret on every read, as before.
        read = await platform.data(READ, id=endpoint["id"])
        assert read["webhookEndpoint"]["secret"] == secret

        rotated = (await platform.data(ROTATE, id=endpoint["id"]))["rotateWebhookSecret"]
        assert rotated["userErrors"] == []
        new = rotated["endpoint"]["secret"]
        assert new != secret and new.startswith("whsec_")
        current_after, previous_after = await stored(services.db, endpoint["id"])
        # The old secret moved over as it was stored, never written in the clear.
        assert previous_after == current
        assert_sealed(current_after, new, settings.secret_keys)
        assert (await platform.data(READ, id=endpoint["id"]))["webhookEndpoint"]["secret"] == new


async def test_a_secret_is_opened_once_per_endpoint_however_many_deliveries_it_signs(
    services: Services,
    settings: Settings,
    platform: GraphQL,
    clock: FakeClock,
    receiver: Receiver,
    webhook_client: httpx.AsyncClient,
) -> None:
    box = CountingBox(settings.secret_keys)
    dispatcher = await new_dispatcher(services, webhook_client, clock, box)
    shop = await make_tenant(platform)
    workspace = ws_uuid(shop.workspace_id)
    endpoints = [
        await create_endpoint(platform, receiver.url(f"/hook/{n}"), ws=shop.workspace_id)
        for n in range(2)
    ]
    receiver.secrets = [endpoint["secret"] for endpoint in endpoints]

    # 60 events to 2 endpoints, claimed 4 at a time: 30 claims, 120 signed requests.
    for _ in range(6):
        await record_events(services.db, workspace, uuid.uuid4(), 10, clock)
    await drain(dispatcher, clock)
    assert len(receiver.received) == 120
    for request in receiver.received:
        index = int(request.path.rsplit("/", 1)[1])
        assert request.verified_by == {index}
    assert box.opened == 2

    # A rotation, made as the host would: the new sealed value opens once (with the previous
    # secret beside it), and both signatures go out on every request of the overlap.
    old = endpoints[0]["secret"]
    rotated = await platform.data(ROTATE, id=endpoints[0]["id"])
    new = rotated["rotateWebhookSecret"]["endpoint"]["secret"]
    receiver.secrets = [old, new]
    receiver.received.clear()
    await record_events(services.db, workspace, uuid.uuid4(), 10, clock)
    await drain(dispatcher, clock)
    to_rotated = [r for r in receiver.received if r.path == "/hook/0"]
    assert len(to_rotated) == 10
    for request in to_rotated:
        assert request.verified_by == {0, 1}
        assert len(request.signature.split(" ")) == 2
    assert box.opened == 2 + 2

    # The overlap over: the new secret alone, opened once more, then never again.
    clock.advance(timedelta(hours=25))
    receiver.received.clear()
    for _ in range(3):
        await record_events(services.db, workspace, uuid.uuid4(), 5, clock)
    await drain(dispatcher, clock)
    to_rotated = [r for r in receiver.received if r.path == "/hook/0"]
    assert len(to_rotated) == 15
    for request in to_rotated:
        assert request.verified_by == {1}
        assert len(request.signature.split(" ")) == 1
    assert box.opened == 4 + 1


async def test_a_new_sealing_key_added_first_keeps_old_endpoints_working(
    services: Services,
    settings: Settings,
    platform: GraphQL,
    clock: FakeClock,
    receiver: Receiver,
    webhook_client: httpx.AsyncClient,
) -> None:
    shop = await make_tenant(platform)
    workspace = ws_uuid(shop.workspace_id)
    old_endpoint = await create_endpoint(platform, receiver.url("/hook/0"), ws=shop.workspace_id)
    old_sealed, _ = await stored(services.db, old_endpoint["id"])

    # The keys as an operator rotates them: the new one added last, the old one kept.
    keys = (*settings.secret_keys, NEW_KEY)
    rotated_settings = dataclasses.replace(settings, secret_keys=keys)
    rotated_services = Services.create(rotated_settings, db=services.db)
    app = create_app(rotated_settings, services=rotated_services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://crm.test"
    ) as rotated_client:
        rotated_platform = GraphQL(rotated_client, platform.bearer)
        read = await rotated_platform.data(READ, id=old_endpoint["id"])
        assert read["webhookEndpoint"]["secret"] == old_endpoint["secret"]
        new_endpoint = await create_endpoint(
            rotated_platform, receiver.url("/hook/1"), ws=shop.workspace_id
        )
    new_sealed, _ = await stored(services.db, new_endpoint["id"])
    # Sealed under the newest key alone; the old endpoint's row is left as it was.
    assert_sealed(new_sealed, new_endpoint["secret"], (NEW_KEY,))
    assert (await stored(services.db, old_endpoint["id"]))[0] == old_sealed
    with pytest.raises(ConfigurationError):
        SecretBox(settings.secret_keys).open(new_sealed)

    receiver.secrets = [old_endpoint["secret"], new_endpoint["secret"]]
    dispatcher = await new_dispatcher(services, webhook_client, clock, SecretBox(keys))
    await record_events(services.db, workspace, uuid.uuid4(), 5, clock)
    await drain(dispatcher, clock)
    assert sorted((r.path, tuple(r.verified_by)) for r in receiver.received) == sorted(
        [("/hook/0", (0,))] * 5 + [("/hook/1", (1,))] * 5
    )

    # A dispatcher without the key an endpoint was sealed with parks that endpoint's deliveries
    # and goes on with the others.
    receiver.received.clear()
    lacking = await new_dispatcher(services, webhook_client, clock, SecretBox((NEW_KEY,)))
    await record_events(services.db, workspace, uuid.uuid4(), 3, clock)
    await drain(lacking, clock)
    assert [r.path for r in receiver.received] == ["/hook/1"] * 3
    old_key = parse_global_id(old_endpoint["id"]).row_id
    async with services.db.transaction() as session:
        statuses = list(
            await session.scalars(
                select(WebhookDelivery.status).where(
                    WebhookDelivery.workspace_id == workspace,
                    WebhookDelivery.endpoint_key == old_key,
                    WebhookDelivery.status != DeliveryStatus.DELIVERED,
                )
            )
        )
    assert statuses == [DeliveryStatus.SKIPPED_ENDPOINT_DISABLED] * 3
