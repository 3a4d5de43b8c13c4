"""Keyword-only factories that go through the public API, as a host would."""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from conftest import GraphQL
from embedcrm.app import create_app
from embedcrm.capture.spam import FormTokens
from embedcrm.config import Settings
from embedcrm.graphql.ids import parse_global_id
from embedcrm.services import Services

CREATE_WORKSPACE = """
mutation($name: String!, $externalId: String) {
  createWorkspace(input: {name: $name, externalId: $externalId}) {
    workspace { id name externalId } userErrors { field message code } } }
"""

CREATE_SITE = """
mutation($ws: ID!, $name: String!, $domains: [String!]!) {
  createSite(input: {workspaceId: $ws, name: $name, domains: $domains}) {
    site { id publicKey domains embedSnippet } userErrors { field message code } } }
"""

ISSUE_TOKEN = """
mutation($ws: ID!, $ext: String!, $role: Role!, $ttl: Int!) {
  issuePanelToken(input: {workspaceId: $ws, member: {externalId: $ext, name: "Иван", email: "ivan@example.com"}, role: $role, ttlSeconds: $ttl}) {
    token expiresAt member { id } userErrors { field message code } } }
"""

LEADS = """
query($first: Int, $after: String, $filter: LeadFilter, $ws: ID) {
  leads(first: $first, after: $after, filter: $filter, workspaceId: $ws) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id title status createdAt
      stage { id name } assignee { id name }
      contact { id name email phone }
      source { utmSource utmMedium utmCampaign referrer landingPage } } } } }
"""


@dataclass
class Tenant:
    workspace_id: str
    site_id: str
    site_key: str
    domain: str
    panel: GraphQL


async def make_tenant(
    platform: GraphQL,
    *,
    domain: str = "shop.example.com",
    role: str = "OWNER",
) -> Tenant:
    ws = await platform.data(
        CREATE_WORKSPACE, name="Ромашка", externalId=f"host-{uuid.uuid4().hex}"
    )
    workspace_id = ws["createWorkspace"]["workspace"]["id"]
    site = await platform.data(CREATE_SITE, ws=workspace_id, name="Магазин", domains=[domain])
    token = await platform.data(
        ISSUE_TOKEN, ws=workspace_id, ext=f"user-{uuid.uuid4().hex[:8]}", role=role, ttl=900
    )
    return Tenant(
        workspace_id=workspace_id,
        site_id=site["createSite"]["site"]["id"],
        site_key=site["createSite"]["site"]["publicKey"],
        domain=domain,
        panel=GraphQL(platform.client, token["issuePanelToken"]["token"]),
    )


def submission(
    *,
    submission_id: str | None = None,
    email: str = "anna@example.com",
    phone: str = "+7 912 345-67-89",
    name: str = "Анна Петрова",
    **extra_fields: Any,
) -> dict[str, Any]:
    return {
        "submission_id": submission_id or str(uuid.uuid4()),
        "form": "contact",
        "fields": {
            "name": name,
            "email": email,
            "phone": phone,
            "message": "Нужна доставка в пятницу",
            **extra_fields,
        },
        "context": {
            "page_url": "https://shop.example.com/?utm_source=yandex&utm_medium=cpc&utm_campaign=spring",
            "referrer": "https://yandex.ru/",
            "utm": {"source": "yandex", "medium": "cpc", "campaign": "spring"},
            "language": "ru",
        },
        "consent": True,
    }


async def submit(
    client: httpx.AsyncClient,
    tenant: Tenant,
    body: dict[str, Any] | bytes | str,
    *,
    content_type: str = "application/json",
    origin: str | None = None,
) -> httpx.Response:
    payload: bytes
    sent_origin = origin if origin is not None else f"https://{tenant.domain}"
    if isinstance(body, dict) and "form_token" not in body:
        # What the widget does: a token from the site's config, shown well before the submit.
        body = {**body, "form_token": form_token(client, tenant, origin=sent_origin)}
    if isinstance(body, dict):
        import json

        payload = json.dumps(body, ensure_ascii=False).encode()
    elif isinstance(body, str):
        payload = body.encode()
    else:
        payload = body
    headers = {"Content-Type": content_type}
    headers["Origin"] = sent_origin
    response = await client.post(
        f"/v1/sites/{tenant.site_key}/submissions", content=payload, headers=headers
    )
    # Leads are made right after the answer; wait for that, as a panel would refresh.
    await services_of(client).capture.processor.idle()
    return response


_TOKENS: dict[tuple[str, str], str] = {}


def page_view_token(secret_keys: Sequence[str], tenant: Tenant, origin: str | None = None) -> str:
    """The form token one page view of ``tenant``'s site gets from its config, shown a minute
    before the visitor sends the form. Each call is a new page view (its own use count)."""
    issued_at = time.time() - 60
    tokens = FormTokens(secret_keys, max_age_seconds=7200, clock=lambda: issued_at)
    return tokens.issue(
        parse_global_id(tenant.site_id).row_id, origin or f"https://{tenant.domain}"
    )


def form_token(client: httpx.AsyncClient, tenant: Tenant, *, origin: str | None = None) -> str:
    """A form token of ``tenant``'s site for ``origin`` (one per site and origin, so that a
    repeated body stays the same body)."""
    origin = origin or f"https://{tenant.domain}"
    key = (tenant.site_id, origin)
    if key not in _TOKENS:
        _TOKENS[key] = page_view_token(services_of(client).settings.secret_keys, tenant, origin)
    return _TOKENS[key]


def services_of(client: httpx.AsyncClient) -> Services:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    services: Services = transport.app.state.services  # type: ignore[attr-defined]
    return services


@contextlib.asynccontextmanager
async def app_with(settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app, in this process, on ``settings`` changed by ``changes`` (other limits, another
    database URL, a pooler, a replica), driven over HTTP."""
    changed = dataclasses.replace(settings, **changes)
    services = Services.create(changed)
    app = create_app(changed, services=services)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://crm.test"
        ) as client:
            yield client
    finally:
        await services.capture.close()
        await services.webhook_client.aclose()
        await services.db.dispose()
