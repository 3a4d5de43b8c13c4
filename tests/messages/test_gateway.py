"""Messages through GraphQL: the host's gateway gets `message.requested` with an idempotency key
over the webhooks and reports back; roles; the contact's list; the unsubscribe link."""

from __future__ import annotations

import random
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from webhooks.webhook_support import FakeClock, Reply, patch_verifier_clock, running_receiver

from conftest import GraphQL
from embedcrm.graphql.ids import parse_global_id
from embedcrm.messages.models import Message
from embedcrm.services import Services
from embedcrm.webhooks.dispatcher import Dispatcher, DispatcherConfig
from embedcrm.webhooks.models import OutboxEvent, WebhookEndpoint
from embedcrm.webhooks.ssrf import create_webhook_client, parse_allowed_networks
from event_schemas import validate
from factories import Tenant, make_tenant, submission, submit

SEND = """
mutation($contact: ID!, $channel: MessageChannel!, $subject: String!, $body: String!,
         $lead: ID) {
  sendMessage(input: {contactId: $contact, channel: $channel, subject: $subject, body: $body,
                      leadId: $lead}) {
    message { id channel status recipient subject body language idempotencyKey contactId leadId }
    userErrors { field message code } } }
"""
REPORT = """
mutation($id: ID!, $status: MessageStatus!, $error: String) {
  reportMessageStatus(input: {id: $id, status: $status, error: $error}) {
    message { id status lastError sentAt deliveredAt } userErrors { field message code } } }
"""
MESSAGES = """
query($contact: ID!) { messages(contactId: $contact, first: 10) {
  totalCount edges { node { id status channel subject } } } }
"""
LEADS = "query { leads(first: 5) { edges { node { id contact { id } } } } }"
ENDPOINT = """
mutation($url: String!, $ws: ID) {
  createWebhookEndpoint(input: {url: $url, eventTypes: ["message.requested"], workspaceId: $ws}) {
    endpoint { id secret } userErrors { field message code } } }
"""


async def contact_of(client: httpx.AsyncClient, tenant: Tenant, **fields: Any) -> tuple[str, str]:
    """A contact and its lead, made as a visitor's form makes them."""
    response = await submit(client, tenant, submission(**fields))
    assert response.status_code == 202, response.text
    edges = (await tenant.panel.data(LEADS))["leads"]["edges"]
    node = edges[0]["node"]
    return node["contact"]["id"], node["id"]


async def send(gql: GraphQL, contact: str, channel: str, **extra: Any) -> dict[str, Any]:
    data = await gql.data(
        SEND,
        contact=contact,
        channel=channel,
        subject=extra.pop("subject", "Ваш заказ"),
        body=extra.pop("body", "Анна, ваш заказ передан в доставку."),
        **extra,
    )
    payload: dict[str, Any] = data["sendMessage"]
    return payload


async def requested_events(services: Services, workspace_id: uuid.UUID) -> list[dict[str, Any]]:
    async with services.db.transaction() as session:
        rows = await session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.workspace_id == workspace_id,
                OutboxEvent.type == "message.requested",
            )
            .order_by(OutboxEvent.created_at)
        )
        return [row.payload for row in rows]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_a_gateway_message_reaches_the_host_with_one_idempotency_key_and_is_reported(
    client: httpx.AsyncClient,
    platform: GraphQL,
    services: Services,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patch_verifier_clock(monkeypatch, clock)
    tenant = await make_tenant(platform)
    workspace_id = parse_global_id(tenant.workspace_id).workspace_id
    contact, lead = await contact_of(client, tenant)
    http = create_webhook_client(parse_allowed_networks("127.0.0.0/8"), timeout=2)
    dispatcher = Dispatcher(
        services.db,
        http,
        box=services.secret_box,
        config=DispatcherConfig(concurrency=4, endpoint_concurrency=2, poll_interval=0.01),
        clock=clock,
        rng=random.Random(3),
    )
    while await dispatcher.fan_out():  # what other tests left goes nowhere new
        pass
    try:
        async with running_receiver() as gateway:
            made = (await platform.data(ENDPOINT, url=gateway.url(), ws=tenant.workspace_id))[
                "createWebhookEndpoint"
            ]
            gateway.secrets = [made["endpoint"]["secret"]]
            # The gateway fails its first answer: the retry must carry the same keys.
            gateway.script = lambda request, n: Reply(status=503 if n == 1 else 200)
            sent = await send(tenant.panel, contact, "SMS", lead=lead)
            assert sent["userErrors"] == []
            message = sent["message"]
            assert message["channel"] == "SMS" and message["status"] == "QUEUED"
            assert message["recipient"] == "+79123456789"
            assert message["contactId"] == contact and message["leadId"] == lead
            for _ in range(20):
                await dispatcher.run_until_idle()
                due = await dispatcher.next_due_at()
                if due is None:
                    break
                clock.set(due)
    finally:
        await http.aclose()
        async with services.db.transaction() as session:
            await session.execute(delete(WebhookEndpoint))

    assert len(gateway.received) == 2
    assert len(set(gateway.ids())) == 1
    bodies = [r.payload for r in gateway.received]
    assert bodies[0] == bodies[1]
    data = bodies[0]["data"]["message"]
    assert data["idempotency_key"] == message["idempotencyKey"]
    assert data["id"] == message["id"]
    assert data["channel"] == "sms" and data["to"] == "+79123456789"
    assert data["body"] == "Анна, ваш заказ передан в доставку."
    assert data["language"] == "ru"

    # The host reports; a late SENT after DELIVERED takes nothing back.
    delivered = (await platform.data(REPORT, id=message["id"], status="DELIVERED"))[
        "reportMessageStatus"
    ]
    assert delivered["userErrors"] == []
    assert delivered["message"]["status"] == "DELIVERED"
    assert delivered["message"]["deliveredAt"] is not None
    late = (await platform.data(REPORT, id=message["id"], status="SENT"))["reportMessageStatus"]
    assert late["message"]["status"] == "DELIVERED"
    listed = (await tenant.panel.data(MESSAGES, contact=contact))["messages"]
    assert listed["totalCount"] == 1
    assert [e["node"]["status"] for e in listed["edges"]] == ["DELIVERED"]
    assert len(await requested_events(services, workspace_id)) == 1


async def test_without_smtp_an_email_goes_to_the_gateway_and_only_the_host_reports(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    assert services.smtp is None
    tenant = await make_tenant(platform)
    workspace_id = parse_global_id(tenant.workspace_id).workspace_id
    contact, _ = await contact_of(client, tenant, email="olga@example.com")
    sent = await send(tenant.panel, contact, "EMAIL")
    assert sent["userErrors"] == []
    (event,) = await requested_events(services, workspace_id)
    assert event["data"]["message"]["channel"] == "email"
    assert event["data"]["message"]["to"] == "olga@example.com"

    # A member cannot pretend to be the gateway.
    refused = (await tenant.panel.data(REPORT, id=sent["message"]["id"], status="FAILED"))[
        "reportMessageStatus"
    ]
    assert [e["code"] for e in refused["userErrors"]] == ["forbidden"]
    failed = (
        await platform.data(REPORT, id=sent["message"]["id"], status="FAILED", error="bounced")
    )["reportMessageStatus"]
    assert failed["message"]["status"] == "FAILED"
    assert failed["message"]["lastError"] == "bounced"
    # QUEUED is not the gateway's to report.
    body = await platform(REPORT, id=sent["message"]["id"], status="QUEUED")
    assert body["data"]["reportMessageStatus"]["userErrors"][0]["field"] == "status"


async def test_roles_tenants_and_bad_input(client: httpx.AsyncClient, platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    other = await make_tenant(platform)
    contact, _ = await contact_of(client, tenant)
    viewer = await make_tenant(platform, role="VIEWER")

    # Another workspace's panel: the contact does not exist for it.
    foreign = await send(other.panel, contact, "SMS")
    assert [e["code"] for e in foreign["userErrors"]] == ["not_found"]
    assert (await other.panel(MESSAGES, contact=contact))["errors"]
    # A viewer of its own workspace reads but never sends.
    own_contact, _ = await contact_of(client, viewer)
    refused = await send(viewer.panel, own_contact, "SMS")
    assert [e["code"] for e in refused["userErrors"]] == ["forbidden"]

    no_subject = await send(tenant.panel, contact, "EMAIL", subject="  ")
    assert [e["field"] for e in no_subject["userErrors"]] == ["subject"]
    empty = await send(tenant.panel, contact, "SMS", body="")
    assert [e["field"] for e in empty["userErrors"]] == ["body"]
    huge = await send(tenant.panel, contact, "SMS", body="я" * 20_001)
    assert [e["field"] for e in huge["userErrors"]] == ["body"]
    nul = await tenant.panel.client.post(
        "/graphql",
        json={
            "query": SEND,
            "variables": {"contact": contact, "channel": "SMS", "subject": "", "body": "a\x00"},
        },
        headers={"Authorization": f"Bearer {tenant.panel.bearer}"},
    )
    assert nul.status_code == 400
    listed = (await tenant.panel.data(MESSAGES, contact=contact))["messages"]
    assert listed["totalCount"] == 0


async def test_the_unsubscribe_link_asks_then_one_click_unsubscribes(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    contact, _ = await contact_of(client, tenant)
    ids = parse_global_id(contact)
    path = f"/unsubscribe/{services.messages.tokens.token(ids.workspace_id, ids.row_id)}"

    page = await client.get(path)
    assert page.status_code == 200
    assert 'lang="ru"' in page.text and "Отписаться" in page.text
    assert page.headers["cache-control"] == "no-store"
    # Opening the page (or a link scanner doing it) unsubscribes nobody.
    assert (await send(tenant.panel, contact, "SMS"))["userErrors"] == []

    # What a mail client's one-click button sends (RFC 8058).
    done = await client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200 and "Вы отписались" in done.text
    again = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    refused = await send(tenant.panel, contact, "SMS")
    assert [e["code"] for e in refused["userErrors"]] == ["conflict"]

    forged = await client.post(path[:-3] + "xyz")
    assert forged.status_code == 404 and "недействительна" in forged.text
    assert (await client.get("/unsubscribe/" + "a" * 40)).status_code == 404


ERASE = """
mutation($contact: ID!) { erasePerson(input: {contactId: $contact}) {
  erasure { id } userErrors { field message code } } }
"""


async def test_erasing_a_person_removes_their_messages_and_blanks_the_requests(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    workspace_id = parse_global_id(tenant.workspace_id).workspace_id
    contact, lead = await contact_of(client, tenant, email="erase.me@example.com")
    sent = await send(tenant.panel, contact, "SMS", lead=lead, body="Анна, заказ готов")
    assert sent["userErrors"] == []
    ids = parse_global_id(contact)
    await services.messages.unsubscribe(
        services.messages.tokens.token(ids.workspace_id, ids.row_id)
    )
    erased = (await platform.data(ERASE, contact=contact))["erasePerson"]
    assert erased["userErrors"] == []

    async with services.db.transaction() as session:
        left = list(
            await session.scalars(select(Message).where(Message.workspace_id == workspace_id))
        )
    assert left == []
    (event,) = await requested_events(services, workspace_id)
    message = event["data"]["message"]
    assert (message["to"], message["subject"], message["body"], message["variables"]) == (
        "",
        "",
        "",
        {},
    )
    assert message["id"] == sent["message"]["id"]
    assert message["idempotency_key"] == sent["message"]["idempotencyKey"]
    validate(event)
