"""Erasing a person also blanks what receivers answered about their events (AT-31)."""

from __future__ import annotations

import random

import httpx
from sqlalchemy import Text, cast, delete, func, select
from webhook_support import FakeClock, Received, Reply, running_receiver

from conftest import GraphQL
from embedcrm.graphql.ids import parse_global_id
from embedcrm.services import Services
from embedcrm.webhooks.dispatcher import Dispatcher, DispatcherConfig
from embedcrm.webhooks.models import PlatformWebhookEndpoint, WebhookAttempt, WebhookEndpoint
from embedcrm.webhooks.ssrf import create_webhook_client, parse_allowed_networks
from factories import LEADS, make_tenant, submission, submit

CREATE = """mutation($url: String!, $ws: ID) {
  createWebhookEndpoint(input: {url: $url, eventTypes: ["lead.created"], workspaceId: $ws}) {
    endpoint { id } userErrors { code } } }"""
ERASE = """mutation($id: ID!) { erasePerson(input: {contactId: $id}) {
  erasure { counts } userErrors { code } } }"""


async def test_erasure_blanks_the_receivers_answers(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    async with services.db.transaction() as session:
        await session.execute(delete(WebhookEndpoint))
        await session.execute(delete(PlatformWebhookEndpoint))
    clock = FakeClock()
    http = create_webhook_client(parse_allowed_networks("127.0.0.0/8"), timeout=2)
    dispatcher = Dispatcher(
        services.db,
        http,
        box=services.secret_box,
        config=DispatcherConfig(poll_interval=0.01),
        clock=clock,
        rng=random.Random(1),
    )
    while await dispatcher.fan_out():  # events of earlier tests are not this test's
        pass
    tenant = await make_tenant(platform)
    async with running_receiver() as receiver:

        def echo(request: Received, n: int) -> Reply:
            # A careless receiver that answers with what it was sent.
            return Reply(status=200, body=request.body)

        receiver.script = echo
        created = await platform.data(CREATE, url=receiver.url(), ws=tenant.workspace_id)
        assert created["createWebhookEndpoint"]["userErrors"] == []
        await submit(
            client, tenant, submission(email="gone@example.com", phone="", name="Ушедший Клиент")
        )
        await dispatcher.run_until_idle()
        assert len(receiver.received) == 1

    workspace = parse_global_id(tenant.workspace_id).row_id

    async def echoed() -> int:
        async with services.db.transaction() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(WebhookAttempt)
                .where(
                    WebhookAttempt.workspace_id == workspace,
                    # The lead's title names the person within the excerpt's first kilobyte.
                    cast(WebhookAttempt.response_excerpt, Text).contains("Ушедший Клиент"),
                )
            )
        return int(found or 0)

    assert await echoed() == 1
    contact = (await tenant.panel.data(LEADS))["leads"]["edges"][0]["node"]["contact"]["id"]
    erased = await tenant.panel.data(ERASE, id=contact)
    assert erased["erasePerson"]["userErrors"] == []
    assert await echoed() == 0
    await http.aclose()
    async with services.db.transaction() as session:
        await session.execute(delete(WebhookEndpoint))
