"""The sample gateway end to end: a member's Telegram and SMS messages leave embedcrm as
`message.requested`, reach the gateway under uvicorn through the webhook dispatcher, go to fake
Telegram and SMS APIs on 127.0.0.1, and come back as reported statuses."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from sqlalchemy import delete
from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from webhooks.webhook_support import FakeClock

from conftest import GraphQL
from embedcrm.services import Services
from embedcrm.webhooks.dispatcher import Dispatcher, DispatcherConfig
from embedcrm.webhooks.models import WebhookEndpoint
from embedcrm.webhooks.ssrf import create_webhook_client, parse_allowed_networks
from examples.gateway.app import GatewayConfig, create_app
from factories import make_tenant, submission, submit

SEND = """
mutation($contact: ID!, $channel: MessageChannel!, $body: String!) {
  sendMessage(input: {contactId: $contact, channel: $channel, body: $body}) {
    message { id status } userErrors { field message code } } }
"""
MESSAGES = """
query($contact: ID!) { messages(contactId: $contact) { edges { node { id status lastError } } } }
"""
ENDPOINT = """
mutation($url: String!, $ws: ID) {
  createWebhookEndpoint(input: {url: $url, eventTypes: ["message.requested"], workspaceId: $ws}) {
    endpoint { id secret } userErrors { field message code } } }
"""
LEADS = "query { leads(first: 1) { edges { node { contact { id } } } } }"


@dataclass
class FakeProviders:
    """Telegram's Bot API and an SMS provider, as far as the gateway uses them."""

    telegram: list[dict[str, Any]] = field(default_factory=list)
    sms: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sms_down_for: int = 0

    def app(self) -> Starlette:
        async def telegram(request: Request) -> Response:
            assert request.path_params["token"] == "bot123:secret"
            body = await request.json()
            self.telegram.append(body)
            if body["chat_id"] == "blocked":
                return JSONResponse(
                    {"ok": False, "description": "Forbidden: bot was blocked by the user"},
                    status_code=403,
                )
            return JSONResponse({"ok": True, "result": {"message_id": len(self.telegram)}})

        async def sms(request: Request) -> Response:
            assert request.headers["authorization"] == "Bearer sms-key"
            self.sms.append((request.headers["idempotency-key"], await request.json()))
            if self.sms_down_for > 0:
                self.sms_down_for -= 1
                return Response(status_code=503)
            return JSONResponse({"id": f"sms-{len(self.sms)}", "status": "accepted"})

        return Starlette(
            routes=[
                Route("/bot{token}/sendMessage", telegram, methods=["POST"]),
                Route("/messages", sms, methods=["POST"]),
            ]
        )


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


async def test_the_sample_gateway_sends_telegram_and_sms_and_reports_back(
    client: httpx.AsyncClient, platform: GraphQL, platform_key: str, services: Services
) -> None:
    tenant = await make_tenant(platform)
    await submit(client, tenant, submission(phone="+7 912 555-01-02"))
    contact = (await tenant.panel.data(LEADS))["leads"]["edges"][0]["node"]["contact"]["id"]
    providers = FakeProviders(sms_down_for=1)
    clock = FakeClock()
    http = create_webhook_client(parse_allowed_networks("127.0.0.0/8"), timeout=5)
    dispatcher = Dispatcher(
        services.db,
        http,
        box=services.secret_box,
        config=DispatcherConfig(concurrency=2, endpoint_concurrency=1, poll_interval=0.01),
        clock=clock,
        rng=random.Random(5),
    )
    while await dispatcher.fan_out():
        pass
    try:
        async with serving(providers.app()) as provider_url, httpx.AsyncClient() as outgoing:
            # The gateway reports back to embedcrm in-process, through the tests' client.
            holder: dict[str, Any] = {}

            async def gateway_app(scope: Any, receive: Any, send: Any) -> None:
                await holder["app"](scope, receive, send)

            async with serving(gateway_app) as gateway_url:
                made = (
                    await platform.data(
                        ENDPOINT, url=f"{gateway_url}/messages", ws=tenant.workspace_id
                    )
                )["createWebhookEndpoint"]
                holder["app"] = create_app(
                    GatewayConfig(
                        webhook_secret=made["endpoint"]["secret"],
                        crm_url="http://crm.test",
                        platform_key=platform_key,
                        telegram_api=provider_url,
                        telegram_token="bot123:secret",
                        sms_api=provider_url,
                        sms_key="sms-key",
                    ),
                    http=outgoing,
                    crm=client,
                )
                sms = (
                    await tenant.panel.data(
                        SEND, contact=contact, channel="SMS", body="Заказ №7 готов к выдаче"
                    )
                )["sendMessage"]
                telegram = (
                    await tenant.panel.data(
                        SEND, contact=contact, channel="TELEGRAM", body="Привет из магазина"
                    )
                )["sendMessage"]
                assert sms["userErrors"] == [] and telegram["userErrors"] == []
                for _ in range(10):
                    await dispatcher.run_until_idle()
                    due = await dispatcher.next_due_at()
                    if due is None:
                        break
                    clock.set(due)
    finally:
        await http.aclose()
        async with services.db.transaction() as session:
            await session.execute(delete(WebhookEndpoint))

    # The SMS provider was down once: the retry brought the same idempotency key.
    assert [body for _, body in providers.sms] == [
        {"to": "+79125550102", "text": "Заказ №7 готов к выдаче"}
    ] * 2
    assert len({key for key, _ in providers.sms}) == 1
    assert providers.telegram == [{"chat_id": "+79125550102", "text": "Привет из магазина"}]
    statuses = {
        edge["node"]["id"]: edge["node"]["status"]
        for edge in (await tenant.panel.data(MESSAGES, contact=contact))["messages"]["edges"]
    }
    assert statuses == {sms["message"]["id"]: "SENT", telegram["message"]["id"]: "SENT"}


async def test_the_sample_gateway_refuses_a_forged_webhook_and_sends_a_repeat_once(
    client: httpx.AsyncClient, platform_key: str
) -> None:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    providers = FakeProviders()
    async with serving(providers.app()) as provider_url, httpx.AsyncClient() as outgoing:
        reports: list[dict[str, Any]] = []

        async def crm(request: httpx.Request) -> httpx.Response:
            reports.append(json.loads(request.content)["variables"])
            return httpx.Response(200, json={"data": {}})

        gateway = create_app(
            GatewayConfig(
                webhook_secret=secret,
                crm_url="http://crm.test",
                platform_key=platform_key,
                telegram_api=provider_url,
                telegram_token="bot123:secret",
            ),
            http=outgoing,
            crm=httpx.AsyncClient(transport=httpx.MockTransport(crm)),
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gateway), base_url="http://gateway"
        ) as to_gateway:
            event = {
                "type": "message.requested",
                "timestamp": "2026-11-30T10:00:00Z",
                "data": {
                    "workspace_id": "0f8b6f1e-4c3a-4d2b-9a57-2c1e8d3b6a10",
                    "site_id": None,
                    "message": {
                        "template": "manual",
                        "channel": "telegram",
                        "contact_id": None,
                        "lead_id": None,
                        "variables": {},
                        "id": "3e1f8a52-6c0d-4b7e-9f21-5a8d3c6b1e04",
                        "idempotency_key": "msg_3e1f8a526c0d4b7e9f215a8d3c6b1e04",
                        "to": "blocked",
                        "language": "ru",
                        "subject": "",
                        "body": "Привет",
                    },
                },
            }
            body = json.dumps(event, ensure_ascii=False).encode()
            headers = {
                "webhook-id": "msg_1",
                "webhook-timestamp": str(int(datetime.now(UTC).timestamp())),
            }
            headers["webhook-signature"] = Webhook(secret).sign(
                "msg_1", datetime.now(UTC), body.decode()
            )
            forged = await to_gateway.post(
                "/messages", content=body, headers={**headers, "webhook-signature": "v1,AAAA"}
            )
            assert forged.status_code == 400
            first = await to_gateway.post("/messages", content=body, headers=headers)
            again = await to_gateway.post("/messages", content=body, headers=headers)
    assert first.status_code == again.status_code == 200
    # Telegram refused it for good: one try, reported FAILED with Telegram's reason.
    assert len(providers.telegram) == 1
    assert [r["status"] for r in reports] == ["FAILED", "FAILED"]
    assert "blocked" in reports[0]["error"]
    assert reports[0]["id"] != event["data"]["message"]["id"]
