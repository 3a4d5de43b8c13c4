"""GraphQL over HTTP as the specification and the common clients read it: graphql-http's audit,
media types and status codes, one error shape, introspection by credential, and automatic
persisted queries in the exact shapes Apollo's and urql's links send."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import LiveServer
from graphql import parse
from node_tools import node_binary, require_package

from conftest import GraphQL
from embedcrm.app import create_app
from embedcrm.config import Settings
from embedcrm.errors import ConfigurationError
from embedcrm.graphql.http import GRAPHQL_RESPONSE, operation_documents, response_media_type
from embedcrm.services import Services
from factories import make_tenant

ROOT = Path(__file__).resolve().parents[1]
OPERATIONS = ROOT / "schema" / "operations"


@dataclasses.dataclass
class Live:
    url: str
    services: Services


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    services = Services.create(settings)
    server = LiveServer(lambda: create_app(settings, services=services))
    await server.start()
    try:
        yield Live(server.url, services)
    finally:
        await server.stop()
        await services.capture.close()
        await services.webhook_client.aclose()
        await services.db.dispose()


async def test_graphql_http_audit_passes_every_must_and_should(
    live: Live, platform_key: str
) -> None:
    node = node_binary()
    require_package("graphql-http")
    process = await asyncio.create_subprocess_exec(
        node,
        str(ROOT / "tests" / "node" / "graphql_http_audit.js"),
        f"{live.url}/graphql",
        platform_key,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    results = json.loads(out)
    assert len(results) > 40  # the whole audit ran
    failed = [
        f"{r['id']} {r['name']}: {r['reason']}"
        for r in results
        if r["name"].startswith(("MUST", "SHOULD")) and r["status"] != "ok"
    ]
    assert failed == []


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        # What Apollo Client 4 and urql send.
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        ("text/html", "application/json"),
    ],
)
def test_the_answer_follows_accept(accept: str | None, expected: str) -> None:
    assert response_media_type(accept) == expected


def only_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"errors"}, body
    [error] = body["errors"]
    assert isinstance(error["message"], str) and error["message"]
    code: str = error["extensions"]["code"]
    return code


async def test_every_refusal_has_the_one_error_shape(
    client: httpx.AsyncClient, platform_key: str
) -> None:
    auth = {"Authorization": f"Bearer {platform_key}"}
    json_type = {**auth, "Content-Type": "application/json"}
    cases: list[tuple[httpx.Response, int, str]] = [
        (await client.post("/graphql", json={"query": "{ ping }"}), 401, "unauthenticated"),
        (
            await client.post(
                "/graphql", json={"query": "{ ping }"}, headers={"Authorization": "Bearer nope"}
            ),
            401,
            "unauthenticated",
        ),
        (
            await client.post("/graphql", content=b'{"query": ', headers=json_type),
            400,
            "bad_request",
        ),
        (await client.post("/graphql", content=b"", headers=json_type), 400, "bad_request"),
        (
            await client.post("/graphql", json=[{"query": "{ ping }"}], headers=auth),
            400,
            "bad_request",
        ),
        (await client.post("/graphql", json={"query": 5}, headers=auth), 400, "bad_request"),
        (
            await client.post(
                "/graphql", json={"query": "{ ping }", "variables": "x"}, headers=auth
            ),
            400,
            "bad_request",
        ),
        (
            await client.post(
                "/graphql",
                content=b'{"query": "{ ping }"}',
                headers={**auth, "Content-Type": "text/plain"},
            ),
            415,
            "unsupported_media_type",
        ),
        (
            await client.get(
                "/graphql",
                params={
                    "query": 'mutation { createWorkspace(input: {name: "x"}) { workspace { id } } }'
                },
                headers=auth,
            ),
            405,
            "method_not_allowed",
        ),
        (
            await client.put("/graphql", json={"query": "{ ping }"}, headers=auth),
            405,
            "method_not_allowed",
        ),
        (
            await client.post(
                "/graphql",
                content=b'{"query": "{ ping }", "pad": "' + b"x" * (300 * 1024) + b'"}',
                headers=json_type,
            ),
            413,
            "payload_too_large",
        ),
    ]
    for response, status, code in cases:
        assert (response.status_code, only_code(response)) == (status, code), response.text
        assert response.headers["content-type"].startswith("application/json")
    assert cases[0][0].headers["WWW-Authenticate"] == "Bearer"
    assert cases[8][0].headers["Allow"] == "POST"


async def test_graphql_errors_all_carry_a_code_and_the_status_follows_the_media_type(
    client: httpx.AsyncClient, platform_key: str
) -> None:
    async def post(body: dict[str, Any], accept: str) -> httpx.Response:
        return await client.post(
            "/graphql",
            json=body,
            headers={"Authorization": f"Bearer {platform_key}", "Accept": accept},
        )

    cases = {
        "graphql_parse_failed": {"query": "{"},
        "graphql_validation_failed": {"query": "{ nope }"},
        "bad_user_input": {"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {}},
        "not_found": {"query": "{ leads(first: 1) { totalCount } }"},
    }
    for code, body in cases.items():
        as_json = await post(body, "application/json")
        graphql_response = await post(body, GRAPHQL_RESPONSE)
        assert as_json.status_code == 200, as_json.text
        assert graphql_response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        for response in (as_json, graphql_response):
            errors = response.json()["errors"]
            assert [e["extensions"]["code"] for e in errors] == [code], response.text
        if code == "not_found":
            # The operation ran: a field error with data beside it is a 200 in either type.
            assert graphql_response.status_code == 200
            assert "data" in graphql_response.json()
        else:
            # Nothing ran: no data entry, and a 400 for a client that reads the status.
            assert graphql_response.status_code == 400, graphql_response.text
            assert "data" not in graphql_response.json() and "data" not in as_json.json()


INTROSPECT = "query($name: String!) { __type(name: $name) { name fields { name } } }"


async def test_introspection_is_for_platform_keys_and_owners(platform: GraphQL) -> None:
    owner = (await make_tenant(platform)).panel
    manager = (await make_tenant(platform, role="MANAGER")).panel
    for allowed in (platform, owner):
        lead = (await allowed.data(INTROSPECT, name="Lead"))["__type"]
        assert lead["name"] == "Lead" and {"id", "title"} <= {f["name"] for f in lead["fields"]}
    refused = await manager(INTROSPECT, name="Lead")
    assert "data" not in refused
    [error] = refused["errors"]
    assert error["extensions"]["code"] == "introspection_disabled"
    assert "platform keys" in error["message"]
    # __typename is no introspection: every client's cache asks for it.
    assert (await manager.data("{ __typename }")) == {"__typename": "Query"}


PING = "query Ping {\n  ping\n}"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}}


# What the links put in a GET's query string: variables and extensions as JSON.
def get_params(text: str, *, with_query: bool) -> dict[str, str]:
    params = {
        "operationName": "Ping",
        "variables": "{}",
        "extensions": json.dumps(persisted(text), separators=(",", ":")),
    }
    return {**params, "query": text} if with_query else params


URQL_ACCEPT = (
    "application/graphql-response+json, application/graphql+json, application/json, "
    "text/event-stream, multipart/mixed"
)


async def test_apollo_persisted_query_link_round_trip(
    client: httpx.AsyncClient, platform_key: str
) -> None:
    """@apollo/client's createPersistedQueryLink: a hash alone, PersistedQueryNotFound, the
    query with its hash, then the hash alone again (by POST, and by GET with
    useGETForHashedQueries)."""
    text = PING.replace("ping", "ping  ")  # a document this process has never seen
    headers = {
        "Authorization": f"Bearer {platform_key}",
        "Accept": f"{GRAPHQL_RESPONSE},application/json;q=0.9",
    }
    hashed = {"operationName": "Ping", "variables": {}, "extensions": persisted(text)}
    miss = await client.post("/graphql", json=hashed, headers=headers)
    # 200: on a 400 the link would stop sending hashes for good.
    assert miss.status_code == 200
    [error] = miss.json()["errors"]
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    retried = await client.post("/graphql", json={**hashed, "query": text}, headers=headers)
    assert retried.status_code == 200 and retried.json() == {"data": {"ping": "pong"}}
    again = await client.post("/graphql", json=hashed, headers=headers)
    assert again.json() == {"data": {"ping": "pong"}}
    via_get = await client.get(
        "/graphql", params=get_params(text, with_query=False), headers=headers
    )
    assert via_get.status_code == 200 and via_get.json() == {"data": {"ping": "pong"}}


async def test_urql_persisted_exchange_round_trip_over_get(
    client: httpx.AsyncClient, platform_key: str
) -> None:
    """urql's persistedExchange with GET for persisted queries: the hash alone, then the query
    beside it, both in the URL."""
    text = PING.replace("ping", "ping   ")
    headers = {"Authorization": f"Bearer {platform_key}", "Accept": URQL_ACCEPT}
    miss = await client.get("/graphql", params=get_params(text, with_query=False), headers=headers)
    assert miss.status_code == 200
    assert miss.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    full = await client.get("/graphql", params=get_params(text, with_query=True), headers=headers)
    assert full.status_code == 200 and full.json() == {"data": {"ping": "pong"}}
    assert full.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    hit = await client.get("/graphql", params=get_params(text, with_query=False), headers=headers)
    assert hit.json() == {"data": {"ping": "pong"}}


async def test_a_persisted_query_is_checked_against_its_hash_and_stays_a_query_on_get(
    client: httpx.AsyncClient, platform_key: str
) -> None:
    auth = {"Authorization": f"Bearer {platform_key}"}
    lying = await client.post(
        "/graphql",
        json={"query": "{ ping }", "extensions": persisted("{ other }")},
        headers=auth,
    )
    assert lying.status_code == 400 and only_code(lying) == "bad_request"
    unsupported = await client.post(
        "/graphql",
        json={"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "ab"}}},
        headers=auth,
    )
    assert unsupported.status_code == 400
    assert only_code(unsupported) == "PERSISTED_QUERY_NOT_SUPPORTED"
    mutation = 'mutation Make { createWorkspace(input: {name: "apq"}) { workspace { id } } }'
    stored = await client.post(
        "/graphql",
        json={
            "query": mutation.replace("apq", "apq-post"),
            "extensions": persisted(mutation.replace("apq", "apq-post")),
        },
        headers=auth,
    )
    assert stored.status_code == 200, stored.text
    by_get = await client.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(mutation.replace("apq", "apq-post")))},
        headers=auth,
    )
    assert by_get.status_code == 405 and only_code(by_get) == "method_not_allowed"


@pytest.fixture
async def persisted_only(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    changed = dataclasses.replace(settings, persisted_only=True)
    services = Services.create(changed)
    app = create_app(changed, services=services)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as http:
            yield http
    finally:
        await services.capture.close()
        await services.webhook_client.aclose()
        await services.db.dispose()


async def test_persisted_only_runs_just_the_operations_of_schema_operations(
    persisted_only: httpx.AsyncClient, platform_key: str
) -> None:
    auth = {"Authorization": f"Bearer {platform_key}"}
    refused = await persisted_only.post("/graphql", json={"query": "{ ping }"}, headers=auth)
    assert refused.status_code == 400 and only_code(refused) == "operation_not_persisted"
    stranger = await persisted_only.post(
        "/graphql",
        json={"query": "{ ping }", "extensions": persisted("{ ping }")},
        headers=auth,
    )
    assert only_code(stranger) == "operation_not_persisted"

    # The file's operation, sent in full as a client formats it: spacing and comments differ.
    create = (OPERATIONS / "provision.graphql").read_text().split("\n\n")[0]
    reformatted = "# provisioning\n" + " ".join(create.split())
    variables = {"name": "Только своё", "externalId": "persisted-only-1"}
    ran = await persisted_only.post(
        "/graphql",
        json={"query": reformatted, "variables": variables, "operationName": "CreateWorkspace"},
        headers=auth,
    )
    assert ran.status_code == 200, ran.text
    assert ran.json()["data"]["createWorkspace"]["workspace"]["externalId"] == "persisted-only-1"

    # An APQ link: its own hash of its own text is learnt once the text proves to be known.
    hashed = {"variables": variables, "extensions": persisted(reformatted)}
    miss = await persisted_only.post("/graphql", json=hashed, headers=auth)
    assert miss.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    learnt = await persisted_only.post(
        "/graphql", json={**hashed, "query": reformatted}, headers=auth
    )
    assert learnt.status_code == 200, learnt.text
    again = await persisted_only.post("/graphql", json=hashed, headers=auth)
    assert again.json()["data"]["createWorkspace"]["workspace"]["externalId"] == "persisted-only-1"
    # A build step may send the hash of the operation as the server prints it, never the text.
    printed = operation_documents(parse(create))["CreateWorkspace"]
    pinned = await persisted_only.post(
        "/graphql", json={"variables": variables, "extensions": persisted(printed)}, headers=auth
    )
    assert pinned.json()["data"]["createWorkspace"]["workspace"]["externalId"] == "persisted-only-1"


def test_persisted_only_reads_its_settings_and_refuses_an_empty_directory(tmp_path: Path) -> None:
    on = Settings.from_env(
        {
            "EMBEDCRM_SECRET_KEYS": "k",
            "EMBEDCRM_PERSISTED_ONLY": "1",
            "EMBEDCRM_PERSISTED_OPERATIONS": str(tmp_path),
        }
    )
    assert on.persisted_only and on.persisted_operations == str(tmp_path)
    default = Settings.from_env({"EMBEDCRM_SECRET_KEYS": "k"})
    assert not default.persisted_only
    assert Path(default.persisted_operations) == OPERATIONS
    # Persisted-only with nothing to run would refuse every request: it refuses to start.
    with pytest.raises(ConfigurationError, match="EMBEDCRM_PERSISTED_ONLY"):
        create_app(on)
