"""Spam (C4): honeypot, fill time, form tokens; bots are told "accepted" and quarantined."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer

from conftest import SECRET, GraphQL
from embedcrm.app import create_app
from embedcrm.capture.spam import FORM_TOKEN_SALT, FormTokenRefused, FormTokens, token_key
from embedcrm.config import Settings
from embedcrm.graphql.ids import parse_global_id
from embedcrm.services import Services
from factories import ISSUE_TOKEN, LEADS, Tenant, make_tenant, submission, submit

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
    fresh = token_for(tenant, age=0.5, origin=f"https://{tenant.domain}")
    extra = {"form_token": fresh} if bot == "fresh-token" else bot
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


@pytest.mark.parametrize(
    "case", ["expired", "foreign site", "other origin", "issued without an origin", "tampered"]
)
async def test_bad_form_tokens_are_refused(
    client: httpx.AsyncClient, platform: GraphQL, tenant: Tenant, case: str
) -> None:
    if case == "expired":
        token = token_for(tenant, age=3 * 3600)
    elif case == "foreign site":
        token = token_for(await make_tenant(platform), age=30)
    elif case == "other origin":
        token = token_for(tenant, age=30, origin="https://elsewhere.example.com")
    elif case == "issued without an origin":
        # What GET /config hands a script that sends no Origin: good from no page at all.
        no_origin = await client.get(f"/v1/sites/{tenant.site_key}/config")
        token = no_origin.json()["form_token"]
    else:
        token = token_for(tenant, age=30, origin=f"https://{tenant.domain}")[:-2] + "xx"
    response = await submit(client, tenant, {**submission(), "form_token": token})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "form_token_refused"
    held = await tenant.panel.data(SUBMISSIONS)
    assert held["submissions"]["totalCount"] == 0


@pytest.mark.parametrize("role", ["VIEWER", "MANAGER"])
async def test_only_the_owner_releases(
    client: httpx.AsyncClient, platform: GraphQL, role: str
) -> None:
    # Quarantine is the owner's review: a manager sees no held submission (it has no lead
    # assigned to them), so releasing one would make a lead out of what they cannot read.
    tenant = await make_tenant(platform)
    await submit(client, tenant, {**submission(), "honeypot": "x"})
    held = await tenant.panel.data(SUBMISSIONS, status="QUARANTINED")
    node = held["submissions"]["edges"][0]["node"]
    member = GraphQL(
        client,
        (
            await platform.data(
                ISSUE_TOKEN, ws=tenant.workspace_id, ext=f"user-{role}", role=role, ttl=900
            )
        )["issuePanelToken"]["token"],
    )
    refused = await member.data(RELEASE, id=node["id"])
    assert refused["releaseSubmission"]["userErrors"][0]["code"] == "forbidden"
    still = await tenant.panel.data(SUBMISSIONS, status="QUARANTINED")
    assert still["submissions"]["totalCount"] == 1
    other = await make_tenant(platform)
    foreign = await other.panel.data(RELEASE, id=node["id"])
    assert foreign["releaseSubmission"]["userErrors"][0]["code"] == "not_found"
    other = await make_tenant(platform)
    foreign = await other.panel.data(RELEASE, id=node["id"])
    assert foreign["releaseSubmission"]["userErrors"][0]["code"] == "not_found"


# ---- checks a direct post cannot skip: nothing refused, nothing lost ------------------------


async def quarantined_reasons(tenant: Tenant) -> list[str]:
    held = (await tenant.panel.data(SUBMISSIONS, status="QUARANTINED"))["submissions"]
    return sorted(edge["node"]["reason"] for edge in held["edges"])


async def release_all(tenant: Tenant) -> None:
    held = (await tenant.panel.data(SUBMISSIONS, status="QUARANTINED"))["submissions"]
    for edge in held["edges"]:
        released = await tenant.panel.data(RELEASE, id=edge["node"]["id"])
        assert released["releaseSubmission"]["submission"]["status"] == "PROCESSED"


async def test_a_direct_post_without_a_token_is_kept_in_quarantine_not_made_a_lead(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # JSON without a token, and a plain HTML form (no JavaScript) without one: both answered
    # like any other, both kept for the owner, neither made a lead on its own.
    response = await submit(client, tenant, {**submission(), "form_token": ""})
    assert (response.status_code, response.json()["status"]) == (202, "accepted")
    form = "name=Anna&email=anna%40example.com&message=call+me"
    response = await submit(client, tenant, form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 202
    # A plain form whose rendered token went stale is kept too: a browser cannot retry it.
    stale = quote(token_for(tenant, age=3 * 3600, origin=f"https://{tenant.domain}"))
    response = await submit(
        client,
        tenant,
        f"{form}&form_token={stale}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 202
    assert await lead_count(tenant) == 0
    assert await quarantined_reasons(tenant) == [
        "form_token_invalid",
        "no_form_token",
        "no_form_token",
    ]
    await release_all(tenant)
    assert await lead_count(tenant) == 3


@pytest.mark.parametrize("encoding", ["json", "form"])
async def test_the_honeypot_input_counts_wherever_a_direct_post_puts_it(
    client: httpx.AsyncClient, tenant: Tenant, encoding: str
) -> None:
    token = token_for(tenant, age=30, origin=f"https://{tenant.domain}")
    if encoding == "json":
        # The page's form posted as found: the hidden input among the fields, no top-level key.
        body: dict[str, object] | str = {
            **submission(website="http://spam.example"),
            "form_token": token,
        }
        response = await submit(client, tenant, body)
    else:
        body = (
            f"name=Bot&email=bot%40example.com&website=http%3A%2F%2Fspam&form_token={quote(token)}"
        )
        response = await submit(
            client, tenant, body, content_type="application/x-www-form-urlencoded"
        )
    assert response.status_code == 202
    assert await quarantined_reasons(tenant) == ["honeypot"]
    assert await lead_count(tenant) == 0


async def test_a_real_website_field_sent_by_the_widget_is_not_the_honeypot(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # The widget always sends its own honeypot at the top level (empty for a person), so a
    # form's real "website" field is a field.
    body = {**submission(website="https://anna.example"), "honeypot": ""}
    response = await submit(client, tenant, body)
    assert response.status_code == 202
    assert await lead_count(tenant) == 1


@pytest.fixture
async def bounded(settings: Settings) -> AsyncIterator[Services]:
    services = Services.create(
        dataclasses.replace(
            settings, form_token_max_uses=3, rate_limit_events_per_visitor="5/minute"
        )
    )
    yield services
    await services.capture.close()
    await services.db.dispose()


def client_of(services: Services, ip: str = "10.1.0.1") -> httpx.AsyncClient:
    app = create_app(services.settings, services=services)
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://crm.test")


async def test_one_form_token_vouches_for_a_bounded_number_of_submissions(
    bounded: Services, tenant: Tenant
) -> None:
    origin = f"https://{tenant.domain}"
    async with client_of(bounded) as http:
        config = await http.get(f"/v1/sites/{tenant.site_key}/config", headers={"Origin": origin})
        token = config.json()["form_token"]
        await asyncio.sleep(bounded.settings.min_fill_seconds + 0.1)
        statuses = []
        for i in range(6):
            body = {**submission(email=f"r{i}@example.com", phone=""), "form_token": token}
            statuses.append((await submit(http, tenant, body)).status_code)
    # Every one accepted and kept: three made leads, the replays wait for the owner.
    assert statuses == [202] * 6
    assert await lead_count(tenant) == 3
    assert await quarantined_reasons(tenant) == ["form_token_reused"] * 3
    await release_all(tenant)
    assert await lead_count(tenant) == 6


async def test_form_views_are_rate_limited_per_visitor(
    bounded: Services, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform, domain="views.example.com")
    headers = {"Origin": "https://views.example.com", "Content-Type": "text/plain"}
    url = f"/v1/sites/{tenant.site_key}/events"
    view = '{"type": "view", "form": "contact"}'
    async with client_of(bounded, "10.2.0.1") as one, client_of(bounded, "10.2.0.2") as other:
        statuses = [
            (await one.post(url, content=view, headers=headers)).status_code for _ in range(300)
        ]
        assert (await other.post(url, content=view, headers=headers)).status_code == 204
    assert statuses[:5] == [204] * 5
    assert set(statuses[5:]) == {429}
    now = datetime.now(UTC)
    period = {
        "from": (now - timedelta(days=2)).isoformat(),
        "to": (now + timedelta(days=2)).isoformat(),
    }
    forms = await tenant.panel.data(
        "query($f: AnalyticsFilter!) { analytics(filter: $f) { forms { form views } } }",
        f=period,
    )
    assert forms["analytics"]["forms"] == [{"form": "contact", "views": 6}]


def test_two_page_views_in_the_same_instant_get_tokens_of_their_own() -> None:
    """Uses are counted per token: a shared token would let one visitor's submissions use up
    another's share and quarantine their lead as a replay."""
    frozen = 1_800_000_000.0
    tokens = FormTokens(["k"], max_age_seconds=7200, clock=lambda: frozen)
    site = uuid.uuid4()
    first = tokens.issue(site, "https://shop.example.com")
    second = tokens.issue(site, "https://shop.example.com")
    assert first != second
    assert token_key(first) != token_key(second)
    for token in (first, second):
        read = tokens.read(token, site_id=site, origin="https://shop.example.com")
        assert read.issued_at == frozen


def test_a_token_checked_once_is_still_refused_once_it_expires_or_moves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tokens whose signature held are remembered, so a repeat use skips the HMAC; but age,
    site and origin are read on every use, and a forged one is refused every time."""
    site, other = uuid.uuid4(), uuid.uuid4()
    tokens = FormTokens(["k"], max_age_seconds=60)
    token = tokens.issue(site, "https://a.example")
    assert tokens.read(token, site_id=site, origin="https://a.example").site_id == site
    assert tokens.read(token, site_id=site, origin="https://a.example").site_id == site
    with pytest.raises(FormTokenRefused, match="another site"):
        tokens.read(token, site_id=other, origin="https://a.example")
    with pytest.raises(FormTokenRefused, match="another origin"):
        tokens.read(token, site_id=site, origin="https://b.example")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for _ in range(2):
        with pytest.raises(FormTokenRefused, match="not valid"):
            tokens.read(forged, site_id=site, origin="https://a.example")
    # The signature's own clock: past max_age it is expired, remembered or not.
    later = time.time() + 61
    monkeypatch.setattr("embedcrm.capture.spam.time.time", lambda: later)
    with pytest.raises(FormTokenRefused, match="expired"):
        tokens.read(token, site_id=site, origin="https://a.example")


def test_a_signed_token_that_is_no_form_token_is_refused_every_time() -> None:
    """Signed with the right key and salt, but saying nothing of a site: refused, not kept."""
    site = uuid.uuid4()
    tokens = FormTokens(["k"], max_age_seconds=60)
    signer = URLSafeTimedSerializer(["k"], salt=FORM_TOKEN_SALT)
    for payload in ({"o": None, "t": time.time()}, {"s": "not hex", "o": None, "t": 1}, [1]):
        for _ in range(2):
            with pytest.raises(FormTokenRefused, match="not valid"):
                tokens.read(signer.dumps(payload), site_id=site, origin=None)
