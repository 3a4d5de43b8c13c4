"""The panel's server side: a token's components narrow what it may call (and a refused
operation does nothing), CORS lets the host's admin call /graphql with a bearer token and never
with cookies, the live stream is for panel tokens and carries committed events in feed order."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from graphql import OperationDefinitionNode, parse

from conftest import GraphQL, counting_queries
from embedcrm.app import create_app
from embedcrm.auth import PANEL_COMPONENTS, PanelUser
from embedcrm.config import Settings
from embedcrm.graphql.ids import parse_global_id
from embedcrm.panel import (
    FIELDS_BY_COMPONENT,
    PanelFeed,
    allowed_fields,
    event_stream,
    root_fields,
)
from embedcrm.services import Services
from embedcrm.webhooks.dispatcher import Dispatcher
from embedcrm.webhooks.repository import decode_position
from factories import make_tenant

ISSUE = """mutation($ws: ID!, $components: [String!]) {
  issuePanelToken(input: {workspaceId: $ws, member: {externalId: "m-1", name: "Мария"},
    role: OWNER, ttlSeconds: 600, components: $components}) {
    token userErrors { field message code } } }"""

CREATE_TASK = """mutation($title: String!) { createTask(input: {title: $title,
  dueAt: "2030-01-01T10:00:00Z"}) { task { id } userErrors { message } } }"""
CREATE_LEAD = """mutation($input: CreateLeadInput!) { createLead(input: $input) {
  lead { id } userErrors { message } } }"""
ANALYTICS = """query { analytics(filter: {from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z"})
  { funnel { leads } } }"""


async def narrowed(platform: GraphQL, workspace_id: str, components: list[str] | None) -> GraphQL:
    data = await platform.data(ISSUE, ws=workspace_id, components=components)
    assert data["issuePanelToken"]["userErrors"] == []
    return GraphQL(platform.client, data["issuePanelToken"]["token"])


def test_every_component_has_its_calls() -> None:
    assert set(FIELDS_BY_COMPONENT) == set(PANEL_COMPONENTS)


def test_root_fields_follow_fragments_and_the_chosen_operation() -> None:
    document = parse(
        "query A { ...F tasks { edges { cursor } } } fragment F on Query { leads { totalCount } }"
        ' query B { analytics(filter: {from: "x", to: "y"}) { forms { form } } }'
    )
    assert root_fields(document, "A") == {"leads", "tasks"}
    assert root_fields(document, "B") == {"analytics"}


async def test_a_narrowed_token_calls_only_its_components(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    tasks_only = await narrowed(platform, tenant.workspace_id, ["tasks"])
    assert (await tasks_only.data("{ tasks { totalCount } }"))["tasks"]["totalCount"] == 0
    assert (await tasks_only.data("{ pipelines { name } }"))["pipelines"]

    refused = await tasks_only(ANALYTICS)
    assert "data" not in refused  # refused before it ran: no data entry at all
    assert refused["errors"][0]["extensions"]["code"] == "forbidden"
    assert "analytics" in refused["errors"][0]["message"]
    # A mutation outside the components does nothing at all, even beside an allowed one.
    both = await tasks_only(
        """mutation { createTask(input: {title: "a", dueAt: "2030-01-01T10:00:00Z"}) { task { id } }
        createPipeline(input: {name: "Опт"}) { pipeline { id } } }"""
    )
    assert both.get("data") is None and both["errors"][0]["extensions"]["code"] == "forbidden"
    assert (await tasks_only.data("{ tasks { totalCount } }"))["tasks"]["totalCount"] == 0

    reports = await narrowed(platform, tenant.workspace_id, ["reports", "lead"])
    assert (await reports.data(ANALYTICS))["analytics"]["funnel"]["leads"] == 0
    # The lead card's calls come with "lead"; the inbox's list does not.
    assert (await reports.data(CREATE_TASK, title="x"))["createTask"]["task"]
    assert (await reports("{ leads { totalCount } }"))["errors"][0]["extensions"]["code"] == (
        "forbidden"
    )

    # Without components the token reaches everything its role allows, as before.
    everything = await narrowed(platform, tenant.workspace_id, None)
    assert (await everything.data(ANALYTICS))["analytics"]["funnel"]["leads"] == 0
    assert (await everything.data("{ leads { totalCount } }"))["leads"]["totalCount"] == 0


async def test_unknown_components_are_refused_at_issue(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    data = await platform.data(ISSUE, ws=tenant.workspace_id, components=["inbox", "payroll"])
    (error,) = data["issuePanelToken"]["userErrors"]
    assert error["field"] == "components" and "payroll" in error["message"]
    data = await platform.data(ISSUE, ws=tenant.workspace_id, components=[])
    assert data["issuePanelToken"]["userErrors"][0]["field"] == "components"


async def test_a_role_still_applies_inside_its_components(platform: GraphQL) -> None:
    tenant = await make_tenant(platform, role="VIEWER")
    refused = await tenant.panel(CREATE_TASK, title="x")
    created = refused.get("data") and refused["data"]["createTask"]
    assert not (created and created["task"]), refused


async def test_members_lists_the_workspace_people(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    members = (await tenant.panel.data("{ members { name role } }"))["members"]
    assert members == [{"name": "Иван", "role": "OWNER"}]


async def test_cors_answers_the_admin_origin_without_credentials(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    origin = "https://admin.host.example"
    preflight = await client.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in preflight.headers
    tenant = await make_tenant(platform)
    answer = await client.post(
        "/graphql",
        json={"query": "{ ping }"},
        headers={"Authorization": f"Bearer {tenant.panel.bearer}", "Origin": origin},
    )
    assert answer.json() == {"data": {"ping": "pong"}}
    assert answer.headers["access-control-allow-origin"] == origin
    refused = await client.post("/graphql", json={"query": "{ ping }"}, headers={"Origin": origin})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == origin


async def test_panel_origins_limit_who_may_call(settings: Settings) -> None:
    limited = replace(settings, panel_origins=("https://admin.host.example",))
    app = create_app(limited)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://crm.test"
    ) as client:
        headers = {"Access-Control-Request-Method": "POST"}
        other = await client.options(
            "/graphql", headers={"Origin": "https://evil.example", **headers}
        )
        assert "access-control-allow-origin" not in other.headers
        listed = await client.options(
            "/graphql", headers={"Origin": "https://admin.host.example", **headers}
        )
        assert listed.headers["access-control-allow-origin"] == "https://admin.host.example"


async def test_the_stream_is_for_panel_tokens(
    client: httpx.AsyncClient, platform: GraphQL, platform_key: str
) -> None:
    assert (await client.get("/v1/panel/stream")).status_code == 401
    answer = await client.get(
        "/v1/panel/stream", headers={"Authorization": f"Bearer {platform_key}"}
    )
    assert answer.status_code == 403


async def test_the_stream_sends_committed_events_in_feed_order(
    settings: Settings, platform_key: str
) -> None:
    """Through a real server (streaming needs one): events after the cursor arrive, each with
    its feed cursor as id, so a reconnect with ?after= resumes exactly."""
    from browser_support import LiveServer

    server = LiveServer(lambda: None)
    server.make_app = lambda: create_app(
        replace(settings, public_url=server.url), run_background=True
    )
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as http:
            api = GraphQL(http, platform_key)
            tenant = await make_tenant(api)
            token = tenant.panel.bearer
            events: list[dict[str, Any]] = []
            ids: list[str] = []

            async def read() -> None:
                async with http.stream(
                    "GET", "/v1/panel/stream", headers={"Authorization": f"Bearer {token}"}
                ) as response:
                    assert response.headers["content-type"].startswith("text/event-stream")
                    async for line in response.aiter_lines():
                        if line.startswith("id: "):
                            ids.append(line[4:])
                        if line.startswith("data: "):
                            events.append(json.loads(line[6:]))
                            if sum(e["type"] == "lead.created" for e in events) >= 2:
                                return

            reader = asyncio.create_task(read())
            await asyncio.sleep(0.5)
            for phone in ("+7 900 100-00-01", "+7 900 100-00-02"):
                created = await api.data(
                    """mutation($input: CreateLeadInput!) { createLead(input: $input) {
                    lead { id } userErrors { message } } }""",
                    input={"workspaceId": tenant.workspace_id, "channel": "CALL", "phone": phone},
                )
                assert created["createLead"]["lead"]
            await asyncio.wait_for(reader, 15)
            assert any(e["type"] == "lead.created" and e["leadId"] for e in events), events
            positions = [decode_position(cursor) for cursor in ids]
            assert positions == sorted(set(positions))
    finally:
        await server.stop()


BOARD_TOTALS = (
    """query($p: ID!) { boardTotals(pipelineId: $p) { stageId count sums { currency amount } } }"""
)


async def test_board_totals_count_and_sum_each_stage(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    pipeline = (await tenant.panel.data("{ pipelines { id stages { id } } }"))["pipelines"][0]
    first = pipeline["stages"][0]["id"]
    for phone, value, currency in (
        ("+7 900 200-00-01", "1500.50", "RUB"),
        ("+7 900 200-00-02", "2000", "RUB"),
        ("+7 900 200-00-03", "30", "USD"),
        ("+7 900 200-00-04", None, None),
    ):
        made = await platform.data(
            """mutation($input: CreateLeadInput!) { createLead(input: $input) { lead { id } } }""",
            input={"workspaceId": tenant.workspace_id, "channel": "CALL", "phone": phone},
        )
        if value:
            await tenant.panel.data(
                "mutation($i: UpdateLeadInput!) { updateLead(input: $i) { userErrors { message } } }",
                i={"id": made["createLead"]["lead"]["id"], "value": value, "currency": currency},
            )
    (row,) = (await tenant.panel.data(BOARD_TOTALS, p=pipeline["id"]))["boardTotals"]
    assert row["stageId"] == first and row["count"] == 4
    assert sorted((s["currency"], s["amount"]) for s in row["sums"]) == [
        ("RUB", "3500.50"),
        ("USD", "30.00"),
    ]
    other = await make_tenant(platform)
    refused = await other.panel(BOARD_TOTALS, p=pipeline["id"])
    assert refused["data"] is None


FEED_READ = "SELECT outbox_events.workspace_id, outbox_events.position, outbox_events.type"


async def test_open_panels_share_one_read_of_the_feed_per_interval(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    """Twelve open panels in three workspaces: the process reads the feed once an interval for
    all of them (not once a panel), and each panel still hears its own workspace's events."""
    tenants = [await make_tenant(platform) for _ in range(3)]
    owners = []
    for tenant in tenants:
        principal = await services.workspaces.authenticate(tenant.panel.bearer)
        assert isinstance(principal, PanelUser)
        owners.append(principal)
    feed = PanelFeed(services.db, poll_seconds=0.05)
    heard: list[list[str]] = [[] for _ in range(12)]

    async def listen(n: int) -> None:
        async for chunk in event_stream(
            feed, services.db, owners[n % 3], after=None, expires_at=time.time() + 1.5
        ):
            heard[n] += [
                line[6:] for line in chunk.decode().splitlines() if line.startswith("data: ")
            ]

    with counting_queries(services) as statements:
        started = time.monotonic()
        panels = [asyncio.create_task(listen(n)) for n in range(12)]
        await asyncio.sleep(0.3)
        made = await platform.data(
            CREATE_LEAD,
            input={
                "workspaceId": tenants[1].workspace_id,
                "channel": "CALL",
                "phone": "+79001112233",
            },
        )
        lead_id = str(parse_global_id(made["createLead"]["lead"]["id"]).row_id)
        async with httpx.AsyncClient() as http:
            dispatcher = Dispatcher(services.db, http, box=services.secret_box)
            while await dispatcher.fan_out():
                pass
        await asyncio.gather(*panels)
        elapsed = time.monotonic() - started
    await feed.close()
    reads = [s for s in statements if s.lstrip().startswith(FEED_READ)]
    intervals = elapsed / feed.poll_seconds
    # One read an interval (the sleeps between them make it fewer, never more); twelve panels
    # polling on their own would make twelve times as many.
    assert 3 <= len(reads) <= intervals + 2, (len(reads), intervals)
    for n, messages in enumerate(heard):
        events = [json.loads(m) for m in messages]
        if n % 3 == 1:
            assert {"type": "lead.created", "leadId": lead_id} in [
                {"type": e["type"], "leadId": e["leadId"]} for e in events
            ], messages
        else:
            assert events == [], (n, messages)


OPERATIONS = parse(
    (Path(__file__).resolve().parents[1] / "schema" / "operations" / "panel.graphql").read_text()
)
# The component each of the panel's newer operations belongs to.
HOME = {
    "PanelLeadInvoices": "lead",
    "PanelCreateInvoice": "lead",
    "PanelIssueInvoice": "lead",
    "PanelRecordPayment": "lead",
    "PanelContactMessages": "lead",
    "PanelAddContactPoint": "lead",
    "PanelUpdateContactPoint": "lead",
    "PanelRemoveContactPoint": "lead",
    "PanelMoney": "reports",
    "PanelSetRules": "settings",
    "PanelSaveForm": "settings",
    "PanelDeleteForm": "settings",
    "PanelSiteForms": "settings",
    "PanelTemplates": "settings",
    "PanelCreateTemplate": "settings",
    "PanelUpdateTemplate": "settings",
    "PanelPreviewFor": "settings",
    "PanelPreview": "settings",
    "PanelAlerts": "settings",
    "PanelSaveAlerts": "settings",
    "PanelFeedback": "reports",
    "PanelSales": "reports",
}


def test_every_panel_operation_lies_in_a_component_and_the_new_ones_in_theirs() -> None:
    names = [
        op.name.value
        for op in OPERATIONS.definitions
        if isinstance(op, OperationDefinitionNode) and op.name
    ]
    assert set(HOME) <= set(names)
    for name in names:
        fields = root_fields(OPERATIONS, name)
        homes = [c for c in PANEL_COMPONENTS if fields <= allowed_fields([c])]
        assert homes, (name, fields)
        if name in HOME:
            assert HOME[name] in homes, (name, homes)
    # The inbox, board and contacts open lead cards, so they carry the card's calls too.
    for component in ("inbox", "board", "contacts"):
        assert root_fields(OPERATIONS, "PanelContactMessages") <= allowed_fields([component])
    assert not root_fields(OPERATIONS, "PanelMoney") <= allowed_fields(["lead", "tasks"])
    assert not root_fields(OPERATIONS, "PanelSaveForm") <= allowed_fields(["inbox", "reports"])
    assert not root_fields(OPERATIONS, "PanelCreateTemplate") <= allowed_fields(["reports"])
    assert not root_fields(OPERATIONS, "PanelFeedback") <= allowed_fields(["settings", "lead"])


async def test_a_tasks_token_may_not_read_a_contacts_messages(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    tasks_only = await narrowed(platform, tenant.workspace_id, ["tasks"])
    body = await tasks_only(
        "query($c: ID!) { messages(contactId: $c) { edges { node { id } } } }",
        c=tenant.workspace_id,
    )
    assert body.get("data") is None
    assert "messages" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "forbidden"
