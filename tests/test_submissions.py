"""The public submission route: content types, idempotency, limits, origins (docs/contract.md)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import event, func, select

from conftest import GraphQL
from embedcrm.capture.models import Submission
from embedcrm.capture.origin import origin_allowed
from embedcrm.graphql.ids import parse_global_id
from embedcrm.services import Services
from factories import LEADS, Tenant, form_token, make_tenant, services_of, submission, submit


async def stored_submissions(services: Services, tenant: Tenant) -> int:
    workspace_id = parse_global_id(tenant.workspace_id).row_id
    async with services.db.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.workspace_id == workspace_id)
        )
    return int(count or 0)


async def lead_count(tenant: Tenant) -> int:
    data = await tenant.panel.data(LEADS, first=1)
    return int(data["leads"]["totalCount"])


@pytest.fixture
async def tenant(platform: GraphQL) -> Tenant:
    return await make_tenant(platform)


async def test_text_plain_json_is_accepted(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = json.dumps({**submission(), "form_token": form_token(client, tenant)})
    response = await submit(client, tenant, body, content_type="text/plain;charset=UTF-8")
    assert response.status_code == 202
    assert await lead_count(tenant) == 1


async def test_a_plain_html_form_is_accepted_and_given_an_id(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # A form without JavaScript carries the token its page was rendered with (docs/contract.md).
    token = quote(form_token(client, tenant))
    form = (
        "name=%D0%90%D0%BD%D0%BD%D0%B0&email=anna%40example.com&color=red&color=blue&consent=on"
        f"&form_token={token}"
    )
    response = await submit(client, tenant, form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 202, response.text
    assert uuid.UUID(response.json()["submission_id"])
    data = await tenant.panel.data(
        "{ leads(first: 1) { edges { node { contact { name email } customFields } } } }"
    )
    node = data["leads"]["edges"][0]["node"]
    assert node["contact"] == {"name": "Анна", "email": "anna@example.com"}
    assert node["customFields"] == {"color": ["red", "blue"]}


async def test_a_repeat_is_one_lead_and_a_changed_repeat_is_a_conflict(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = submission()
    first = await submit(client, tenant, body)
    again = await submit(client, tenant, body)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json() == first.json()
    changed = {**body, "fields": {**body["fields"], "message": "другое"}}
    conflict = await submit(client, tenant, changed)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "conflict"
    assert await lead_count(tenant) == 1
    assert await stored_submissions(services_of(client), tenant) == 1


async def test_the_answer_names_the_submission_and_lets_the_page_read_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    origin = f"https://{tenant.domain}"
    body = {**submission(submission_id="form-1.a:b_c"), "form_token": form_token(client, tenant)}
    encoded = json.dumps(body).encode()

    async def in_pieces() -> AsyncIterator[bytes]:
        # A body that comes in several messages is read whole.
        for start in range(0, len(encoded), 100):
            yield encoded[start : start + 100]

    url = f"/v1/sites/{tenant.site_key}/submissions"
    headers = {"Origin": origin, "Content-Type": "application/json", "X-Request-ID": "lb-1"}
    first = await client.post(url, content=in_pieces(), headers=headers)
    again = await client.post(url, content=encoded, headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    for answer in (first, again):
        assert answer.json() == {"submission_id": "form-1.a:b_c", "status": "accepted"}
        assert answer.headers["content-type"] == "application/json"
        assert answer.headers["content-length"] == str(len(answer.content))
        assert answer.headers["access-control-allow-origin"] == origin
        assert answer.headers["access-control-expose-headers"] == "Retry-After"
        assert answer.headers["vary"] == "Origin"
        assert answer.headers["x-request-id"] == "lb-1"
    assert await stored_submissions(services_of(client), tenant) == 1


async def test_the_same_email_joins_one_contact(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await submit(client, tenant, submission(email="Anna@Example.com", phone=""))
    await submit(client, tenant, submission(email="anna@example.com ", phone="8 (912) 345-67-89"))
    await submit(client, tenant, submission(email="", phone="+79123456789"))
    data = await tenant.panel.data("{ contacts(first: 10) { totalCount } leads { totalCount } }")
    assert data["contacts"]["totalCount"] == 1
    assert data["leads"]["totalCount"] == 3


BAD_BODIES = [
    pytest.param(b"{}", "application/xml", 415, id="wrong content type"),
    pytest.param(b"{not json", "application/json", 400, id="invalid JSON"),
    pytest.param(b"[1, 2]", "application/json", 400, id="not an object"),
    pytest.param(b'{"fields": {"name": "\xff\xfe"}}', "application/json", 400, id="invalid UTF-8"),
    pytest.param(b"[" * 5000 + b"]" * 5000, "application/json", 400, id="nested too deep"),
    pytest.param(
        json.dumps({"fields": {f"f{i}": "x" for i in range(60)}, "submission_id": "a"}).encode(),
        "application/json",
        422,
        id="too many fields",
    ),
    pytest.param(
        json.dumps({"fields": {"name": "x" * 5000, "email": "a@b.co"}}).encode(),
        "application/json",
        422,
        id="field too long",
    ),
    pytest.param(
        json.dumps({"submission_id": "bad id!", "fields": {"email": "a@b.co"}}).encode(),
        "application/json",
        400,
        id="bad submission id",
    ),
]


@pytest.mark.parametrize(("body", "content_type", "status"), BAD_BODIES)
async def test_bad_bodies_are_refused_and_store_nothing(
    client: httpx.AsyncClient, tenant: Tenant, body: bytes, content_type: str, status: int
) -> None:
    response = await submit(client, tenant, body, content_type=content_type)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert await stored_submissions(services_of(client), tenant) == 0


async def test_a_form_without_a_definition_refuses_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # An e-mail and a phone that do not parse are kept as typed, for the owner to read; a
    # visitor who leaves neither still makes a lead with what they wrote.
    typo = await submit(client, tenant, submission(email="nope@", phone="12"))
    bare = await submit(
        client, tenant, {"fields": {"name": "only a name", "message": "Перезвоните"}}
    )
    assert (typo.status_code, bare.status_code) == (202, 202), (typo.text, bare.text)
    data = await tenant.panel.data(
        "{ leads(first: 5) { totalCount edges { node { message contact { name email phone } } } } }"
    )
    assert data["leads"]["totalCount"] == 2
    contacts = {e["node"]["message"]: e["node"]["contact"] for e in data["leads"]["edges"]}
    assert contacts["Перезвоните"] == {"name": "only a name", "email": None, "phone": None}
    assert contacts["Нужна доставка в пятницу"]["email"] == "nope@"
    assert contacts["Нужна доставка в пятницу"]["phone"] == "12"


async def test_an_oversized_body_is_refused_before_it_is_read(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    big = json.dumps(submission(message="x" * 17_000)).encode()
    response = await submit(client, tenant, big)
    assert response.status_code == 413

    async def chunks():  # no Content-Length: the body streams in and is cut off at the limit
        for _ in range(40):
            yield b"x" * 1024

    streamed = await client.post(
        f"/v1/sites/{tenant.site_key}/submissions",
        content=chunks(),
        headers={"Content-Type": "application/json", "Origin": f"https://{tenant.domain}"},
    )
    assert streamed.status_code == 413
    assert await stored_submissions(services_of(client), tenant) == 0


@pytest.mark.parametrize(
    "origin", ["https://evil.example.net", "https://shop.example.com.evil.net", "null", ""]
)
async def test_a_foreign_origin_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, tenant: Tenant, origin: str
) -> None:
    response = await submit(client, tenant, submission(), origin=origin)
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert await stored_submissions(services_of(client), tenant) == 0


async def test_an_unknown_site_key_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/sites/pk_nope/submissions",
        json=submission(),
        headers={"Origin": "https://shop.example.com"},
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_preflight_is_answered_for_allowed_origins_only(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    url = f"/v1/sites/{tenant.site_key}/submissions"
    allowed = await client.options(
        url,
        headers={
            "Origin": "https://shop.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example.com"
    assert allowed.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in allowed.headers
    assert "content-type" in allowed.headers["access-control-allow-headers"]
    refused = await client.options(url, headers={"Origin": "https://evil.example.net"})
    assert "access-control-allow-origin" not in refused.headers
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("origin", "domains", "expected"),
    [
        ("https://shop.example.com", ["shop.example.com"], True),
        ("http://shop.example.com:8080", ["shop.example.com"], True),
        ("https://example.com", ["shop.example.com"], False),
        ("http://localhost:3000", ["localhost:3000"], True),
        ("http://localhost:3001", ["localhost:3000"], False),
        ("https://a.example.com", ["*.example.com"], True),
        ("https://a.b.example.com", ["*.example.com"], True),
        ("https://example.com", ["*.example.com"], False),
        ("https://badexample.com", ["*.example.com"], False),
        ("ftp://shop.example.com", ["shop.example.com"], False),
        (None, ["shop.example.com"], False),
    ],
)
def test_origin_rules(origin: str | None, domains: list[str], expected: bool) -> None:
    assert origin_allowed(origin, domains) is expected


async def test_a_burst_is_stored_by_one_statement_with_no_transaction_around_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """On PostgreSQL reached directly, the group commit's batch is one statement on a connection
    kept in autocommit: the connection that runs it is sent no BEGIN or COMMIT, and every
    submission of the burst is stored."""
    services = services_of(client)
    if not services.db.keeps_connections:
        pytest.skip("the batch takes a transaction here (SQLite, PgBouncer or row security)")
    sent: list[tuple[int, str]] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append((id(conn.connection.dbapi_connection), statement.lstrip()))

    bodies = [submission(email=f"burst{n}@example.com") for n in range(20)]
    event.listen(services.db.engine.sync_engine, "before_cursor_execute", record)
    try:
        answers = await asyncio.gather(*(submit(client, tenant, body) for body in bodies))
    finally:
        event.remove(services.db.engine.sync_engine, "before_cursor_execute", record)
    assert [a.status_code for a in answers] == [202] * 20
    inserts = [(c, s) for c, s in sent if s.startswith("INSERT INTO submissions")]
    assert inserts and len(inserts) < 20  # grouped
    batch_connections = {c for c, _ in inserts}
    assert not [
        s for c, s in sent if c in batch_connections and s.upper().startswith(("BEGIN", "COMMIT"))
    ]
    assert await stored_submissions(services, tenant) == 20
