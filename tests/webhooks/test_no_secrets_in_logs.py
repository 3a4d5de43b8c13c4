"""Logs at DEBUG through the whole loop hold no token, secret, e-mail or phone.

The loop as a host and visitors run it: a platform key provisions a workspace and a site, a
panel token is issued, visitors submit forms with e-mails and phones, an endpoint with its
signing secret receives the webhooks, a request fails, and the database fails while a lead is
being made. Every log line is captured as `serve` writes it (JSON, DEBUG) and searched.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from test_delivery import create_endpoint, remove_endpoints
from webhook_support import running_receiver

from conftest import SECRET, GraphQL
from embedcrm.capture import service as capture_service
from embedcrm.logs import configure_logging
from embedcrm.services import Services
from embedcrm.webhooks.dispatcher import Dispatcher, DispatcherConfig
from embedcrm.webhooks.ssrf import create_webhook_client, parse_allowed_networks
from embedcrm.workspaces.models import Workspace
from factories import ISSUE_TOKEN, make_tenant, submission, submit

VISITORS = [
    ("Анна Секретная", "anna.secret@example.com", "+7 912 345-67-89", "+79123456789"),
    ("Boris Hidden", "boris.hidden@example.org", "8 (903) 111-22-33", "+79031112233"),
    ("Vera Private", "vera.private@example.net", "+7 495 765 43 21", "+74957654321"),
]
# The visitor whose lead is being made when the database fails.
FAULTED = ("Gleb Faulted", "gleb.faulted@example.com", "+7 911 222-33-44", "+79112223344")


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """The processes' logging (embedcrm.logs), JSON at DEBUG, into a buffer; restored after."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    buffer = io.StringIO()
    configure_logging("json", "DEBUG", stream=buffer)
    try:
        yield buffer
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)


async def test_the_whole_loop_logs_no_secret_token_or_personal_data(
    client: httpx.AsyncClient,
    platform: GraphQL,
    platform_key: str,
    services: Services,
    captured_logs: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await remove_endpoints(services.db)
    tenant = await make_tenant(platform)
    token = await platform.data(
        ISSUE_TOKEN, ws=tenant.workspace_id, ext="host-user-logs", role="OWNER", ttl=900
    )
    panel_token = token["issuePanelToken"]["token"]
    secrets_used: list[str] = [SECRET, platform_key, panel_token, tenant.panel.bearer]

    async with running_receiver() as receiver:
        # Hosts put credentials in webhook URLs too (a path or query token).
        url_token = "hooktoken-" + "7f3c9a1e5b"
        endpoint = await create_endpoint(
            platform, receiver.url(f"/hook/{url_token}?key={url_token}"), ws=tenant.workspace_id
        )
        secrets_used.append(url_token)
        receiver.secrets = [endpoint["secret"]]
        secrets_used.append(endpoint["secret"])
        secrets_used.append(endpoint["secret"].removeprefix("whsec_"))

        for name, email, phone, _ in VISITORS:
            answer = await submit(client, tenant, submission(name=name, email=email, phone=phone))
            assert answer.status_code == 202
        # The panel reads its leads with its token, logged at DEBUG by whatever listens.
        leads = await GraphQL(client, panel_token).data("{ leads(first: 10) { totalCount } }")
        assert leads["leads"]["totalCount"] == len(VISITORS)

        # Failing requests: a forged token, a refused body, an unknown site.
        forged = await client.post(
            "/graphql",
            json={"query": "{ leads(first: 1) { totalCount } }"},
            headers={"Authorization": f"Bearer {panel_token[:-4]}AAAA"},
        )
        assert forged.status_code == 401
        bad = await submit(client, tenant, '{"fields": {"email": "' + VISITORS[1][1] + '"')
        assert bad.status_code == 400
        missing = await client.post(
            "/v1/sites/pk_nosuchsite/submissions",
            json=submission(email=VISITORS[0][1]),
            headers={"Origin": "https://shop.example.com"},
        )
        assert missing.status_code == 404

        # A database error while a lead is made: a statement carrying the visitor's e-mail
        # and phone as parameters violates a constraint inside the processing transaction.
        real_create_leads = capture_service.create_leads

        async def failing_create_leads(session: Any, workspace_id: Any, *args: Any) -> Any:
            await session.execute(
                insert(Workspace).values(id=workspace_id, name=f"{FAULTED[1]} {FAULTED[3]}")
            )
            return await real_create_leads(session, workspace_id, *args)

        monkeypatch.setattr(capture_service, "create_leads", failing_create_leads)
        answer = await submit(
            client, tenant, submission(name=FAULTED[0], email=FAULTED[1], phone=FAULTED[2])
        )
        assert answer.status_code == 202
        faulted_request_id = answer.headers["x-request-id"]
        monkeypatch.undo()

        webhook_client = create_webhook_client(parse_allowed_networks("127.0.0.0/8"), timeout=5)
        try:
            await Dispatcher(
                services.db,
                webhook_client,
                box=services.secret_box,
                config=DispatcherConfig(poll_interval=0.01),
            ).run_until_idle()
        finally:
            await webhook_client.aclose()
        assert receiver.verified(), "no webhook was delivered"
    await remove_endpoints(services.db)

    logs = captured_logs.getvalue()
    # The loop did log: the failure of the faulted submission, under the id of the request that
    # brought it, although the lead is made after the answer.
    failures = [
        record
        for record in map(json.loads, logs.splitlines())
        if "IntegrityError" in record.get("exception", "")
    ]
    assert [r["request_id"] for r in failures] == [faulted_request_id], logs[-3000:]
    personal = [value for visitor in [*VISITORS, FAULTED] for value in visitor if value] + [
        re.sub(r"\D", "", phone) for _, _, phone, _ in [*VISITORS, FAULTED]
    ]
    found = [value for value in [*secrets_used, *personal] if value in logs]
    assert found == [], "\n".join(
        line for line in logs.splitlines() if any(value in line for value in found)
    )[:5000]
