"""GraphQL: provisioning, pagination, limits, transport rules and the cost of a page."""

from __future__ import annotations

import dataclasses
import re
import uuid

import httpx

from conftest import GraphQL, counting_queries
from embedcrm.app import create_app
from embedcrm.config import Settings
from embedcrm.services import Services
from factories import CREATE_SITE, CREATE_WORKSPACE, LEADS, make_tenant, submission, submit


async def test_create_workspace_is_idempotent_on_external_id(platform: GraphQL) -> None:
    external = f"host-account-{uuid.uuid4().hex}"
    first = await platform.data(CREATE_WORKSPACE, name="Ромашка", externalId=external)
    again = await platform.data(CREATE_WORKSPACE, name="Ромашка 2", externalId=external)
    assert first["createWorkspace"]["workspace"] == again["createWorkspace"]["workspace"]
    assert first["createWorkspace"]["userErrors"] == []
    other = await platform.data(CREATE_WORKSPACE, name="Ромашка", externalId=external + "x")
    assert (
        other["createWorkspace"]["workspace"]["id"] != first["createWorkspace"]["workspace"]["id"]
    )


async def test_workspace_starts_with_a_default_pipeline(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    data = await tenant.panel.data(
        "{ pipelines { name isDefault stages { name kind probability } } }"
    )
    (pipeline,) = data["pipelines"]
    assert pipeline["isDefault"] is True
    assert [s["kind"] for s in pipeline["stages"]] == ["OPEN", "OPEN", "OPEN", "WON", "LOST"]
    assert pipeline["stages"][0]["name"] == "Новый"


async def test_business_errors_are_user_errors(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    bad = await platform.data(
        CREATE_SITE, ws=tenant.workspace_id, name="", domains=["not a domain"]
    )
    errors = {e["field"] for e in bad["createSite"]["userErrors"]}
    assert bad["createSite"]["site"] is None
    assert errors & {"name", "domains"}
    empty = await platform.data(CREATE_WORKSPACE, name="  ")
    assert empty["createWorkspace"]["userErrors"][0]["field"] == "name"


async def test_site_domains_are_normalised_and_the_snippet_has_sri(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    data = await platform.data(
        CREATE_SITE,
        ws=tenant.workspace_id,
        name="Блог",
        domains=[
            "https://Blog.Example.com/",
            "*.example.org",
            "localhost:3000",
            "blog.example.com",
        ],
    )
    site = data["createSite"]["site"]
    assert site["domains"] == ["blog.example.com", "*.example.org", "localhost:3000"]
    assert site["publicKey"].startswith("pk_")
    assert f'data-site="{site["publicKey"]}"' in site["embedSnippet"]
    assert 'integrity="sha384-' in site["embedSnippet"]
    assert re.search(r'src="http://crm.test/widget/[0-9a-f]{12}\.js"', site["embedSnippet"])


async def test_keyset_pagination_walks_every_lead_newest_first(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    for i in range(7):
        await submit(client, tenant, submission(email=f"p{i}@example.com", phone=""))
    seen: list[str] = []
    after = None
    while True:
        page = (await tenant.panel.data(LEADS, first=3, after=after))["leads"]
        assert page["totalCount"] == 7
        seen += [e["node"]["contact"]["email"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"p{i}@example.com" for i in reversed(range(7))]


async def test_page_size_is_clamped(client: httpx.AsyncClient, platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    data = await tenant.panel.data("{ leads(first: 99999999) { edges { cursor } } }")
    assert data["leads"]["edges"] == []


async def test_a_page_of_leads_costs_a_fixed_number_of_queries(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    for i in range(12):
        await submit(
            client, tenant, submission(email=f"q{i}@example.com", phone=f"+7912000{i:04d}")
        )
    # Whether the token's member is still active is read once per few seconds
    # (MEMBER_CACHE_SECONDS), not per page: read it before counting.
    assert await tenant.panel.data("{ ping }") == {"ping": "pong"}
    costs = {}
    for size in (2, 12):
        with counting_queries(services) as statements:
            data = await tenant.panel.data(LEADS, first=size)
        assert len(data["leads"]["edges"]) == size
        costs[size] = len(statements)
    # The page, its count, and one batch each for contacts and stages (no assignees yet).
    assert costs[2] == costs[12] <= 4, costs


async def test_transport_rules(client: httpx.AsyncClient, platform: GraphQL) -> None:
    auth = {"Authorization": f"Bearer {platform.bearer}"}
    via_get = await client.get("/graphql", params={"query": "{ ping }"}, headers=auth)
    assert via_get.json() == {"data": {"ping": "pong"}}
    mutation = 'mutation { createWorkspace(input: {name: "x"}) { workspace { id } } }'
    refused = await client.get("/graphql", params={"query": mutation}, headers=auth)
    assert refused.status_code in (400, 405)
    ide = await client.get("/graphql", headers={**auth, "Accept": "text/html"})
    assert "graphiql" not in ide.text.lower()
    batch = await client.post(
        "/graphql", json=[{"query": "{ ping }"}, {"query": "{ ping }"}], headers=auth
    )
    assert batch.status_code == 400


async def test_abusive_documents_are_rejected_before_execution(platform: GraphQL) -> None:
    nested = "query { " + "leads { edges { node { " * 4 + "id" + " } } }" * 4 + " }"
    aliases = "{ " + " ".join(f"a{i}: ping" for i in range(16)) + " }"
    fragment_aliases = (
        "query { ...F ...F ...F ...F } fragment F on Query { "
        + " ".join(f"b{i}: ping" for i in range(5))
        + " }"
    )
    circular = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    many_tokens = "{ " + " ".join("ping" for _ in range(2100)) + " }"
    for document in (nested, aliases, fragment_aliases, circular, many_tokens):
        body = await platform(document)
        assert body.get("data") is None, document[:60]
        assert body["errors"], document[:60]
        assert "Unexpected error" not in body["errors"][0]["message"]


async def test_unexpected_errors_are_masked(platform: GraphQL) -> None:
    body = await platform('{ leads(after: "not-a-cursor", workspaceId: null) { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] in {"not_found", "bad_request"}


async def test_graphiql_page_is_served_when_asked_for(settings: Settings) -> None:
    """`EMBEDCRM_GRAPHIQL=1` (what scripts/dev sets) serves the IDE at GET /graphql, keyless."""
    app = create_app(dataclasses.replace(settings, graphiql=True))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as ide_client:
        page = await ide_client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert "graphiql" in page.text.lower()
        # A query over GET still needs a key, IDE or not.
        anonymous = await ide_client.get("/graphql", params={"query": "{ ping }"})
        assert anonymous.status_code == 401
