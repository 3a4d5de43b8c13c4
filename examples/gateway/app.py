"""A host's message gateway: embedcrm's `message.requested` in, Telegram and SMS out.

embedcrm sends e-mail itself when EMBEDCRM_SMTP_URL is set; every other channel (and e-mail
without it) comes to the host as a signed `message.requested` webhook. This receiver:

1. verifies the webhook (Standard Webhooks) and answers 400 to a bad signature;
2. sends the message through the gateway's HTTP API: Telegram's Bot API ``sendMessage`` for
   ``telegram``, an SMS provider's JSON API for ``sms``, passing the message's
   ``idempotency_key`` so that a provider that saw it once drops a repeat;
3. reports the outcome with ``reportMessageStatus`` (a platform key): SENT, or FAILED when the
   provider refused the message for good. A provider that is down or busy gets a 503 back to
   embedcrm, whose webhook retries bring the same message, with the same key, later.

Run it: ``python -m examples.gateway`` with EMBEDCRM_URL, EMBEDCRM_PLATFORM_KEY,
GATEWAY_WEBHOOK_SECRET, TELEGRAM_BOT_TOKEN, SMS_API_URL and SMS_API_KEY in the environment,
then create a webhook endpoint for ``message.requested`` pointing at ``/messages``.
"""

from __future__ import annotations

import base64
import logging
import os
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

log = logging.getLogger("examples.gateway")

REPORT = """
mutation($id: ID!, $status: MessageStatus!, $error: String) {
  reportMessageStatus(input: {id: $id, status: $status, error: $error}) {
    message { id status } userErrors { field message code } } }
"""
# How many idempotency keys are remembered; a real gateway keeps them in its database.
REMEMBERED = 10_000


@dataclass(frozen=True)
class GatewayConfig:
    webhook_secret: str
    crm_url: str
    platform_key: str
    telegram_api: str = "https://api.telegram.org"
    telegram_token: str = ""
    sms_api: str = ""
    sms_key: str = ""


class Refused(Exception):
    """The provider refused this message for good: report FAILED, do not retry."""


class Unavailable(Exception):
    """The provider is down or busy: let embedcrm retry the webhook later."""


def _message_node_id(workspace_id: str, message_id: str) -> str:
    """The GraphQL id of a message from the ids the event carries; an id that already is a
    global id is used as it is."""
    try:
        workspace, message = uuid.UUID(workspace_id), uuid.UUID(message_id)
    except ValueError:
        return message_id
    raw = f"Message:{workspace.hex}:{message.hex}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _check(response: httpx.Response) -> None:
    if response.status_code == 429 or response.status_code >= 500:
        raise Unavailable(f"{response.status_code} from {response.request.url.host}")
    if response.status_code >= 400:
        raise Refused(f"{response.status_code}: {response.text[:200]}")


class Gateway:
    def __init__(self, config: GatewayConfig, http: httpx.AsyncClient, crm: httpx.AsyncClient):
        self.config = config
        self.http = http
        self.crm = crm
        # What became of each message handled: a repeat is reported again, never sent again.
        self.handled: OrderedDict[str, tuple[str, str | None]] = OrderedDict()

    async def send_telegram(self, message: dict[str, Any]) -> None:
        text = (
            message["body"]
            if not message["subject"]
            else f"{message['subject']}\n\n{message['body']}"
        )
        response = await self.http.post(
            f"{self.config.telegram_api}/bot{self.config.telegram_token}/sendMessage",
            json={"chat_id": message["to"], "text": text},
        )
        _check(response)
        if not response.json().get("ok"):
            raise Refused(str(response.json().get("description", "not ok")))

    async def send_sms(self, message: dict[str, Any]) -> None:
        response = await self.http.post(
            f"{self.config.sms_api}/messages",
            json={"to": message["to"], "text": message["body"]},
            headers={
                "Authorization": f"Bearer {self.config.sms_key}",
                "Idempotency-Key": message["idempotency_key"],
            },
        )
        _check(response)

    async def report(self, node_id: str, status: str, error: str | None = None) -> None:
        response = await self.crm.post(
            f"{self.config.crm_url}/graphql",
            json={"query": REPORT, "variables": {"id": node_id, "status": status, "error": error}},
            headers={"Authorization": f"Bearer {self.config.platform_key}"},
        )
        response.raise_for_status()

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        try:
            event = Webhook(self.config.webhook_secret).verify(body, dict(request.headers))
        except WebhookVerificationError:
            return Response("bad signature", status_code=400)
        if event.get("type") != "message.requested":
            return Response(status_code=204)
        data = event["data"]
        message = data["message"]
        senders = {"telegram": self.send_telegram, "sms": self.send_sms}
        send = senders.get(message["channel"])
        if send is None:
            return Response(status_code=204)  # e-mail: the host's own mailer, not this sample
        key = message["idempotency_key"]
        node_id = _message_node_id(data["workspace_id"], message["id"])
        outcome = self.handled.get(key)
        if outcome is None:
            try:
                await send(message)
                outcome = ("SENT", None)
            except Unavailable as exc:
                log.warning("message %s: %s; embedcrm will retry", key, exc)
                return Response(status_code=503, headers={"Retry-After": "5"})
            except Refused as exc:
                outcome = ("FAILED", str(exc)[:500])
            self._remember(key, outcome)
        # Reported again on a repeat: the report may be what failed the first time.
        await self.report(node_id, *outcome)
        return Response(status_code=200)

    def _remember(self, key: str, outcome: tuple[str, str | None]) -> None:
        self.handled[key] = outcome
        while len(self.handled) > REMEMBERED:
            self.handled.popitem(last=False)


def create_app(
    config: GatewayConfig,
    *,
    http: httpx.AsyncClient | None = None,
    crm: httpx.AsyncClient | None = None,
) -> Starlette:
    client = http or httpx.AsyncClient(timeout=10)
    gateway = Gateway(config, client, crm or client)
    app = Starlette(routes=[Route("/messages", gateway.handle, methods=["POST"])])
    app.state.gateway = gateway
    return app


def from_environment() -> Starlette:
    return create_app(
        GatewayConfig(
            webhook_secret=os.environ["GATEWAY_WEBHOOK_SECRET"],
            crm_url=os.environ["EMBEDCRM_URL"].rstrip("/"),
            platform_key=os.environ["EMBEDCRM_PLATFORM_KEY"],
            telegram_token=os.environ.get("TELEGRAM_BOT_TOKEN", ""),
            sms_api=os.environ.get("SMS_API_URL", "").rstrip("/"),
            sms_key=os.environ.get("SMS_API_KEY", ""),
        )
    )


__all__ = ["Gateway", "GatewayConfig", "create_app", "from_environment"]
