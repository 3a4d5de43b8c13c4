"""Bad input is answered by name and harms no one else (issue 13, items 2, 4 and 7).

Every case goes through the public HTTP route or GraphQL, on SQLite and on PostgreSQL: NUL,
lone surrogates and NaN in submissions and in GraphQL, deep JSON, over-long searches, bad page
sizes, a bare CR in a CSV, Redis gone, unsafe landing pages, and what the logs keep.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import json
import logging
import os
import socket
import stat
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import SECRET, GraphQL
from embedcrm.app import create_app
from embedcrm.capture.intake import SubmissionIntake
from embedcrm.config import Settings
from embedcrm.db import new_id, utcnow
from embedcrm.graphql.ids import parse_global_id
from embedcrm.migrations import upgrade_to_head
from embedcrm.services import Services
from factories import LEADS, Tenant, form_token, make_tenant, submission, submit

ROOT = Path(__file__).resolve().parents[1]

# What a field may hold that no database of ours can store, as raw JSON text.
BAD_VALUES = {
    "nul": '"Anna\\u0000Petrova"',
    "lone surrogate": '"Anna \\ud800"',
    "nan": "NaN",
    "infinity": "Infinity",
    "nul in a list": '["a", "b\\u0000"]',
}


def raw_body(tenant_token: str, field: str, raw_value: str, email: str) -> str:
    body = {
        **submission(email=email, phone=""),
        "form_token": tenant_token,
    }
    body["fields"][field] = "__BAD__"
    return json.dumps(body, ensure_ascii=False).replace('"__BAD__"', raw_value)


async def lead_count(tenant: Tenant) -> int:
    return int((await tenant.panel.data(LEADS))["leads"]["totalCount"])


# ---- item 2: one bad character fails only its own submission ---------------------------------


async def test_one_bad_value_fails_only_its_own_submission_among_concurrent_ones(
    client: httpx.AsyncClient, platform: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    tenants = [await make_tenant(platform) for _ in range(3)]
    sends: list[tuple[Tenant, str | dict[str, Any], str | None]] = []
    for i in range(120):
        tenant = tenants[i % 3]
        email = f"innocent{i}-{uuid.uuid4().hex[:6]}@example.com"
        sends.append((tenant, submission(email=email, phone=""), None))
        if i % 24 == 0:
            kind = list(BAD_VALUES)[(i // 24) % len(BAD_VALUES)]
            bad = raw_body(
                form_token(client, tenant), "budget", BAD_VALUES[kind], f"bad{i}@example.com"
            )
            sends.append((tenant, bad, "budget"))
    caplog.set_level(logging.DEBUG)
    responses = await asyncio.gather(*(submit(client, t, body) for t, body, _ in sends))

    for (_, _body, bad_field), response in zip(sends, responses, strict=True):
        if bad_field is None:
            assert response.status_code == 202, response.text
        else:
            assert response.status_code == 422, response.text
            assert list(response.json()["error"]["fields"]) == [bad_field]
    innocent = sum(1 for _, _, bad in sends if bad is None)
    assert innocent == 120
    assert sum([await lead_count(t) for t in tenants]) == 120
    # Nothing anyone sent reaches the log.
    assert "innocent" not in caplog.text


async def test_a_lone_surrogate_in_a_field_name_or_the_context_is_no_500(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    token = form_token(client, tenant)
    body = json.dumps({**submission(), "form_token": token})
    bad_name = body.replace('"message":', '"\\ud800x":', 1)
    assert (await submit(client, tenant, bad_name)).status_code == 422
    # The visitor never typed the context: an unstorable referrer is dropped, the lead kept.
    bad_context = body.replace('"https://yandex.ru/"', '"https://yandex.ru/\\udfff\\u0000"')
    response = await submit(client, tenant, bad_context)
    assert response.status_code == 202, response.text
    source = (await tenant.panel.data(LEADS))["leads"]["edges"][0]["node"]["source"]
    assert source["referrer"] is None and source["utmSource"] == "yandex"


async def test_a_form_encoded_nul_is_refused_by_name(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    form = "name=Anna%00&email=anna%40example.com"
    response = await submit(client, tenant, form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["name"]


async def test_nan_never_reaches_the_forms_report(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    token = form_token(client, tenant)
    assert (
        await submit(client, tenant, raw_body(token, "qty", "NaN", "n@example.com"))
    ).status_code == 422
    assert (
        await submit(client, tenant, submission(email="ok@example.com", qty=3))
    ).status_code == 202
    data = await tenant.panel.data(
        "query($f: AnalyticsFilter!) { analytics(filter: $f) { forms { form submissions } } }",
        f={
            "from": (utcnow() - timedelta(days=2)).isoformat(),
            "to": (utcnow() + timedelta(days=2)).isoformat(),
        },
    )
    assert data["analytics"]["forms"][0]["submissions"] == 1


async def test_a_batch_the_database_refuses_is_written_row_by_row(
    services: Services, platform: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    """Defence behind the edge checks: whatever the database refuses in one row of a group
    commit (here a site that no longer exists), the other rows are written."""
    tenant = await make_tenant(platform)
    workspace = parse_global_id(tenant.workspace_id).row_id
    site = parse_global_id(tenant.site_id).row_id
    intake = SubmissionIntake(services.db)

    def row(site_id: uuid.UUID, email: str) -> dict[str, Any]:
        return {
            "workspace_id": workspace,
            "id": new_id(),
            "site_id": site_id,
            "client_submission_id": uuid.uuid4().hex,
            "body_hash": "0" * 64,
            "payload": {"fields": {"email": email}},
            # Held, so that no worker of a later test makes leads of these hand-made rows.
            "status": "QUARANTINED",
            "failure_reason": None,
            "attempts": 0,
            "lead_id": None,
            "contact_id": None,
            "origin": None,
            "remote_ip": "203.0.113.7",
            "created_at": utcnow(),
            "processed_at": None,
        }

    rows = [row(site, f"stranger{i}@example.com") for i in range(30)]
    rows.insert(13, row(uuid.uuid4(), "orphan@example.com"))
    caplog.set_level(logging.DEBUG)
    try:
        results = await asyncio.gather(*(intake.store(r) for r in rows), return_exceptions=True)
    finally:
        await intake.close()
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1 and results[13] is failed[0]
    assert [r for i, r in enumerate(results) if i != 13] == [True] * 30
    # The error and the log name no one: bound parameters are never shown.
    assert "@example.com" not in str(failed[0])
    assert "203.0.113.7" not in str(failed[0])
    assert "stranger" not in caplog.text and "orphan" not in caplog.text


# ---- item 4: faults answered as 500 ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def redis_down(settings: Settings) -> AsyncIterator[Services]:
    # A port where nothing listens: every Redis call fails to connect.
    gone = dataclasses.replace(
        settings,
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        rate_limit_per_visitor="3/minute",
        rate_limit_per_site="",
    )
    services = Services.create(gone)
    yield services
    await services.capture.close()
    await services.db.dispose()


async def test_with_redis_down_leads_are_taken_and_limited_locally(
    redis_down: Services, platform: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = await make_tenant(platform)
    app = create_app(redis_down.settings, services=redis_down)
    transport = httpx.ASGITransport(app=app, client=("10.3.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as http:
        statuses = [
            (
                await submit(http, tenant, submission(email=f"r{i}@example.com", phone=""))
            ).status_code
            for i in range(4)
        ]
        ready = (await http.get("/readyz")).json()
    assert statuses == [202, 202, 202, 429]
    assert await lead_count(tenant) == 3
    assert ready["rate_limits"] == "process (redis unavailable)"
    assert redis_down.capture.limits.counters.fallbacks == 4
    assert any("Redis" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


async def test_deep_json_is_a_400_on_every_public_route(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    deep = "[" * 5000 + "]" * 5000  # under every body limit, over Python's recursion limit
    origin = {"Origin": f"https://{tenant.domain}", "Content-Type": "text/plain"}
    events = await client.post(f"/v1/sites/{tenant.site_key}/events", content=deep, headers=origin)
    assert events.status_code == 400
    submission_response = await submit(client, tenant, deep)
    assert submission_response.status_code == 400
    graphql = await client.post(
        "/graphql",
        content='{"query": "{ workspaces { id } }", "variables": {"a": ' + deep + "}}",
        headers={
            "Authorization": f"Bearer {tenant.panel.bearer}",
            "Content-Type": "application/json",
        },
    )
    assert graphql.status_code == 400


async def post_graphql(client: httpx.AsyncClient, bearer: str, content: str) -> httpx.Response:
    return await client.post(
        "/graphql",
        content=content,
        headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"},
    )


async def test_unstorable_graphql_arguments_are_refused_by_name(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    await submit(client, tenant, submission())
    lead = (await tenant.panel.data(LEADS))["leads"]["edges"][0]["node"]
    note = "mutation($id: ID!, $b: String!) { addActivity(input: {leadId: $id, kind: NOTE, body: $b}) { userErrors { field } } }"
    update = "mutation($i: UpdateLeadInput!) { updateLead(input: $i) { userErrors { field } } }"
    cases = {
        "variables.b": {"query": note, "variables": {"id": lead["id"], "b": "a\u0000b"}},
        "variables.i.customFields.size": {
            "query": update,
            "variables": {"i": {"id": lead["id"], "customFields": {"size": "\ud800"}}},
        },
    }
    for field, document in cases.items():
        response = await post_graphql(client, tenant.panel.bearer, json.dumps(document))
        assert response.status_code == 400, response.text
        assert field in response.text
    # NaN is not JSON at all.
    nan = json.dumps(
        {
            "query": update,
            "variables": {"i": {"id": lead["id"], "customFields": {"size": float("nan")}}},
        }
    )
    assert (await post_graphql(client, tenant.panel.bearer, nan)).status_code == 400
    # A NUL written into the document itself is refused naming the argument.
    literal = (
        f'mutation {{ createLead(input: {{workspaceId: "{tenant.workspace_id}", channel: CALL, '
        'name: "A\\u0000", phone: "+79123456789"}) { userErrors { field } } }'
    )
    response = await post_graphql(client, tenant.panel.bearer, json.dumps({"query": literal}))
    assert response.status_code == 400 and "query" in response.text
    # A surrogate pair written as escapes is one character, and fine.
    pair = await tenant.panel(
        'mutation($id: ID!) { addActivity(input: {leadId: $id, kind: NOTE, body: "\\uD83D\\uDE00"}) { userErrors { field } } }',
        id=lead["id"],
    )
    assert pair["data"]["addActivity"]["userErrors"] == []
    # Nothing of it was stored.
    leads = await tenant.panel.data("{ leads { totalCount } }")
    assert leads["leads"]["totalCount"] == 1


async def test_graphql_input_mistakes_are_named_not_masked(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    big = await tenant.panel("query($n: Int) { leads(first: $n) { totalCount } }", n=2**31)
    assert "32-bit" in big["errors"][0]["message"]
    search = await tenant.panel(
        "query($s: String) { leads(filter: {search: $s}) { totalCount } }", s="x" * 200_000
    )
    assert search["errors"][0]["extensions"]["code"] == "invalid"
    assert search["errors"][0]["extensions"]["fields"] == {
        "search": "A search is at most 200 characters."
    }
    csv = "source,campaign,starts_on,ends_on,amount\ryandex,spring,2026-01-01,2026-01-31,100\r"
    imported = await tenant.panel.data(
        "mutation($c: String!) { importAdSpend(input: {csv: $c}) { adSpend { amount } userErrors { field message } } }",
        c=csv,
    )
    assert imported["importAdSpend"]["userErrors"] == []
    assert len(imported["importAdSpend"]["adSpend"]) == 1
    broken = await tenant.panel.data(
        "mutation($c: String!) { importAdSpend(input: {csv: $c}) { userErrors { field } } }",
        c='source,campaign,starts_on,ends_on,amount\n"yandex,spring',
    )
    assert broken["importAdSpend"]["userErrors"][0]["field"] in {"csv", None}


def load_receiver_verify() -> Any:
    spec = importlib.util.spec_from_file_location(
        "receiver_verify_bad", ROOT / "webhooks" / "verify.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_reference_verifier_refuses_a_huge_timestamp_with_its_own_error() -> None:
    verify = load_receiver_verify()
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": "9" * 400,
        "webhook-signature": "v1,AA==",
    }
    with pytest.raises(verify.WebhookVerificationError):
        verify.verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers, b"{}")


# ---- item 7: smaller leaks ----------------------------------------------------------------


async def test_no_suggestions_while_introspection_is_off(platform: GraphQL) -> None:
    """A token that may not introspect gets no "Did you mean 'leads'?" either; a platform key,
    which may read the schema whole, keeps the hint."""
    viewer = (await make_tenant(platform, role="VIEWER")).panel
    body = await viewer("{ leadz { totalCount } }")
    message = body["errors"][0]["message"]
    assert "leadz" in message
    assert "Did you mean" not in message and "leads" not in message
    hinted = (await platform("{ leadz { totalCount } }"))["errors"][0]["message"]
    assert "Did you mean 'leads'?" in hinted


async def test_first_zero_is_empty_and_first_negative_is_refused(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    await submit(client, tenant, submission())
    query = "query($n: Int) { leads(first: $n) { edges { cursor } pageInfo { hasNextPage } } }"
    empty = await tenant.panel.data(query, n=0)
    assert empty["leads"] == {"edges": [], "pageInfo": {"hasNextPage": True}}
    negative = await tenant.panel(query, n=-1)
    assert negative["errors"][0]["extensions"]["fields"] == {"first": "first is 0 or more."}


async def test_a_bad_global_id_is_not_found_and_logs_no_traceback(
    platform: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = await platform('{ leads(workspaceId: "not-an-id") { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "not_found"
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(
    "page_url", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "//evil"]
)
async def test_only_web_addresses_become_the_landing_page(
    client: httpx.AsyncClient, platform: GraphQL, page_url: str
) -> None:
    tenant = await make_tenant(platform)
    body = submission()
    body["context"] = {"page_url": page_url, "referrer": page_url, "landing_page": page_url}
    assert (await submit(client, tenant, body)).status_code == 202
    source = (await tenant.panel.data(LEADS))["leads"]["edges"][0]["node"]["source"]
    assert source["landingPage"] is None and source["referrer"] is None


def file_modes(directory: Path, names: tuple[str, ...]) -> dict[str, int]:
    return {
        name: stat.S_IMODE((directory / name).stat().st_mode)
        for name in names
        if (directory / name).exists()
    }


async def test_the_sqlite_database_and_its_wal_are_private(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    settings = Settings(secret_keys=(SECRET,), database_url=f"sqlite+aiosqlite:///{path}")
    previous = os.umask(0o022)  # what a service usually runs with: new files 0644
    try:
        upgrade_to_head(settings)
        services = Services.create(settings)
        try:
            await services.workspaces.create_platform_key("permissions")
            files = file_modes(tmp_path, ("private.db", "private.db-wal", "private.db-shm"))
        finally:
            await services.db.dispose()
    finally:
        os.umask(previous)
    assert {"private.db", "private.db-wal"} <= set(files)
    assert set(files.values()) == {0o600}, files
