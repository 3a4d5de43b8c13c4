"""Spam (C4): honeypot, fill time, form tokens; bots are told "accepted" and quarantined."""

from __future__ import annotations

import time

import httpx
import pytest

from conftest import SECRET, GraphQL
from embedcrm.capture.spam import FormTokens
from embedcrm.graphql.ids import parse_global_id
from factories import LEADS, Tenant, make_tenant, submission, submit

SUBMISSIONS = """query($status: SubmissionStatus) { submissions(status: $status) {
  totalCount edges { node { id status reason submissionId leadId } } } }"""
RELEASE = """mutation($id: ID!) { releaseSubmission(input: {submissionId: $id}) {
  submission { status leadId } userErrors { field code } } }"""


def token_for(tenant: Tenant, *, age: float, origin: str | None = None) -> str:
    site = parse_global_id(tenant.site_id).row_id
    tokens = FormTokens([SECRET], max_age_seconds=7200, clock=lambda: time.time() - age)
    return tokens.issue(site, origin)


@pytest.fixture
async def tenant(platform: GraphQL) -> Tenant:
    return await make_tenant(platform)


async def lead_count(tenant: Tenant) -> int:
    return int((await tenant.panel.data(LEADS))["leads"]["totalCount"])


async def test_config_hands_out_a_form_token(client: httpx.AsyncClient, tenant: Tenant) -> None:
    origin = f"https://{tenant.domain}"
    response = await client.get(f"/v1/sites/{tenant.site_key}/config", headers={"Origin": origin})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    config = response.json()
    assert config["site"]["key"] == tenant.site_key
    assert config["form_token"] and config["honeypot_field"]


async def test_a_human_with_a_token_makes_a_lead(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = {
        **submission(),
        "form_token": token_for(tenant, age=30, origin=f"https://{tenant.domain}"),
    }
    response = await submit(client, tenant, body)
    assert response.status_code == 202
    assert await lead_count(tenant) == 1


@pytest.mark.parametrize(
    "bot",
    [
        pytest.param({"honeypot": "http://spam.example"}, id="honeypot"),
        pytest.param({"filled_ms": 300}, id="filled too fast"),
        pytest.param("fresh-token", id="token issued a moment ago"),
    ],
)
async def test_bots_are_told_accepted_and_quarantined(
    client: httpx.AsyncClient, tenant: Tenant, bot: object
) -> None:
    extra = {"form_token": token_for(tenant, age=0.5)} if bot == "fresh-token" else bot
    assert isinstance(extra, dict)
    response = await submit(client, tenant, {**submission(), **extra})
    assert response.status_code == 202
    assert response.json()["status"] == "accepted"
    assert await lead_count(tenant) == 0
    held = (await tenant.panel.data(SUBMISSIONS, status="QUARANTINED"))["submissions"]
    assert held["totalCount"] == 1
    # Hidden from the default list, shown when asked for.
    assert (await tenant.panel.data(SUBMISSIONS))["submissions"]["totalCount"] == 0
    node = held["edges"][0]["node"]
    assert node["status"] == "QUARANTINED" and node["reason"] in {"honeypot", "too_fast"}

    released = await tenant.panel.data(RELEASE, id=node["id"])
    assert released["releaseSubmission"]["submission"]["status"] == "PROCESSED"
    assert await lead_count(tenant) == 1


@pytest.mark.parametrize("case", ["expired", "foreign site", "other origin", "tampered"])
async def test_bad_form_tokens_are_refused(
    client: httpx.AsyncClient, platform: GraphQL, tenant: Tenant, case: str
) -> None:
    if case == "expired":
        token = token_for(tenant, age=3 * 3600)
    elif case == "foreign site":
        token = token_for(await make_tenant(platform), age=30)
    elif case == "other origin":
        token = token_for(tenant, age=30, origin="https://elsewhere.example.com")
    else:
        token = token_for(tenant, age=30)[:-2] + "xx"
    response = await submit(client, tenant, {**submission(), "form_token": token})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "form_token_refused"
    held = await tenant.panel.data(SUBMISSIONS)
    assert held["submissions"]["totalCount"] == 0


async def test_a_viewer_cannot_release(client: httpx.AsyncClient, platform: GraphQL) -> None:
    tenant = await make_tenant(platform, role="VIEWER")
    await submit(client, tenant, {**submission(), "honeypot": "x"})
    held = await tenant.panel.data(SUBMISSIONS, status="QUARANTINED")
    node = held["submissions"]["edges"][0]["node"]
    refused = await tenant.panel.data(RELEASE, id=node["id"])
    assert refused["releaseSubmission"]["userErrors"][0]["code"] == "forbidden"
    other = await make_tenant(platform)
    foreign = await other.panel.data(RELEASE, id=node["id"])
    assert foreign["releaseSubmission"]["userErrors"][0]["code"] == "not_found"
