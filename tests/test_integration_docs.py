"""docs/integration.md's two webhook receivers, run as written (Python, and JavaScript under
node) against real signed deliveries from the dispatcher, so the guide cannot rot."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from browser_support import free_port
from node_tools import node_binary

from conftest import GraphQL
from embedcrm.services import Services
from embedcrm.webhooks.dispatcher import Dispatcher, DispatcherConfig
from embedcrm.webhooks.signing import new_message_id, signature_header
from embedcrm.webhooks.ssrf import create_webhook_client, parse_allowed_networks
from factories import make_tenant

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "integration.md"

CREATE_ENDPOINT = """
mutation($url: String!, $ws: ID) {
  createWebhookEndpoint(input: {url: $url, eventTypes: ["lead.created"], workspaceId: $ws}) {
    endpoint { id secret } userErrors { field message code } } }
"""
SEND_TEST = """
mutation($id: ID!) { sendTestWebhook(input: {id: $id}) { messageId userErrors { message } } }
"""


def receiver_source(name: str) -> str:
    """The code block that follows `<!-- name -->` in the guide."""
    found = re.search(rf"<!-- {re.escape(name)} -->\n```\w+\n(.*?)\n```", GUIDE.read_text(), re.S)
    assert found, f"docs/integration.md has no block marked {name}"
    return found.group(1)


@pytest.fixture
async def dispatcher(services: Services) -> AsyncIterator[Dispatcher]:
    client = create_webhook_client(parse_allowed_networks("127.0.0.0/8"), timeout=5)
    dispatcher = Dispatcher(
        services.db,
        client,
        box=services.secret_box,
        config=DispatcherConfig(concurrency=2, poll_interval=0.01),
    )
    # Events other tests left are positioned now, before this test's endpoint exists.
    while await dispatcher.fan_out():
        pass
    try:
        yield dispatcher
    finally:
        await client.aclose()


async def wait_for_port(port: int, process: asyncio.subprocess.Process) -> None:
    for _ in range(200):
        assert process.returncode is None, "the receiver exited"
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise AssertionError(f"nothing listens on {port}")


@pytest.mark.parametrize("language", ["python", "javascript"])
async def test_the_guides_receiver_verifies_a_real_delivery_and_refuses_forgeries(
    language: str, platform: GraphQL, dispatcher: Dispatcher, tmp_path: Path
) -> None:
    tenant = await make_tenant(platform)
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/crm"
    created = (await platform.data(CREATE_ENDPOINT, url=url, ws=tenant.workspace_id))[
        "createWebhookEndpoint"
    ]
    assert created["userErrors"] == []
    endpoint, secret = created["endpoint"]["id"], created["endpoint"]["secret"]

    if language == "python":
        script = tmp_path / "receiver.py"
        script.write_text(receiver_source("receiver.py"))
        command = [sys.executable, str(script)]
    else:
        script = tmp_path / "receiver.js"
        script.write_text(receiver_source("receiver.js"))
        command = [node_binary(), str(script)]
    process = await asyncio.create_subprocess_exec(
        *command,
        env={"PATH": "/usr/bin:/bin", "CRM_WEBHOOK_SECRET": secret, "PORT": str(port)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_for_port(port, process)
        sent = (await platform.data(SEND_TEST, id=endpoint))["sendTestWebhook"]
        assert sent["userErrors"] == []
        await dispatcher.run_until_idle()
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 10)
        assert json.loads(line) == {"id": sent["messageId"], "type": "webhook.test"}

        # What the receiver must refuse with 400: a body changed after signing, a signature by
        # another secret, a stale timestamp, no signature at all.
        body = b'{"type":"webhook.test","timestamp":"2026-11-30T10:00:00Z","data":{}}'
        now = int(time.time())
        message = new_message_id()
        good = signature_header([secret], message, now, body)
        forgeries = [
            (good, now, body.replace(b"webhook.test", b"lead.won")),
            (signature_header(["whsec_" + "A" * 43 + "="], message, now, body), now, body),
            (signature_header([secret], message, now - 3600, body), now - 3600, body),
            ("", now, body),
            ("garbage v1,@@@", now, body),
        ]
        async with httpx.AsyncClient() as http:
            for signature, timestamp, content in forgeries:
                refused = await http.post(
                    url,
                    content=content,
                    headers={
                        "webhook-id": message,
                        "webhook-timestamp": str(timestamp),
                        "webhook-signature": signature,
                        "content-type": "application/json",
                    },
                )
                assert refused.status_code == 400, (signature, timestamp)
            # The same message signed properly is accepted, once.
            headers = {
                "webhook-id": message,
                "webhook-timestamp": str(now),
                "webhook-signature": good,
                "content-type": "application/json",
            }
            for _ in range(2):
                accepted = await http.post(url, content=body, headers=headers)
                assert accepted.status_code == 204
        line = await asyncio.wait_for(process.stdout.readline(), 10)
        assert json.loads(line) == {"id": message, "type": "webhook.test"}
    finally:
        process.terminate()
        await process.wait()
    # The repeat was deduplicated: nothing more was printed.
    assert process.stdout is not None
    assert await process.stdout.read() == b""
