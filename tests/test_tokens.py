"""Panel tokens: expiry, tampering, purpose, rotation; and requests without credentials."""

from __future__ import annotations

import time
import uuid

import httpx
from itsdangerous import URLSafeTimedSerializer

from conftest import SECRET, GraphQL, counting_queries
from embedcrm.auth import PanelTokens, PanelUser
from embedcrm.graphql.ids import parse_global_id
from embedcrm.services import Services
from embedcrm.workspaces.models import Role
from factories import ISSUE_TOKEN, make_tenant


async def status_with(client: httpx.AsyncClient, bearer: str | None) -> int:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    response = await client.post("/graphql", json={"query": "{ ping }"}, headers=headers)
    return response.status_code


async def test_tokens_that_must_be_refused(client: httpx.AsyncClient, platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    good = tenant.panel.bearer
    assert await status_with(client, good) == 200

    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    other_purpose = URLSafeTimedSerializer([SECRET], salt="embedcrm.form-token.v1").dumps(
        {"w": "x", "m": "y", "r": "OWNER", "exp": int(time.time()) + 900}
    )
    other_key = URLSafeTimedSerializer(["another-key"], salt="embedcrm.panel-token.v1").dumps(
        {"w": "x", "m": "y", "r": "OWNER", "exp": int(time.time()) + 900}
    )
    for bearer in (tampered, other_purpose, other_key, "", "ecp_not-a-key", None):
        assert await status_with(client, bearer) == 401


async def test_an_expired_token_is_refused(client: httpx.AsyncClient, platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    workspace = parse_global_id(tenant.workspace_id).row_id
    user = PanelUser(workspace_id=workspace, member_id=workspace, role=Role.OWNER)
    issued_long_ago = PanelTokens([SECRET], max_ttl_seconds=86400, clock=lambda: time.time() - 1000)
    token, _ = issued_long_ago.issue(user, ttl_seconds=900)
    assert await status_with(client, token) == 401
    response = await client.post(
        "/graphql", json={"query": "{ ping }"}, headers={"Authorization": f"Bearer {token}"}
    )
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "unauthenticated"
    assert "expired" in error["message"]


def test_rotation_old_tokens_verify_new_keys_sign() -> None:
    user = PanelUser(workspace_id=uuid.uuid4(), member_id=uuid.uuid4(), role=Role.MANAGER)
    old = PanelTokens(["old"], max_ttl_seconds=3600)
    rotated = PanelTokens(["old", "new"], max_ttl_seconds=3600)
    token_from_old, _ = old.issue(user, ttl_seconds=600)
    assert rotated.read(token_from_old) == user
    token_from_new, _ = rotated.issue(user, ttl_seconds=600)
    assert PanelTokens(["new"], max_ttl_seconds=3600).read(token_from_new) == user


async def test_ttl_is_bounded(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    for ttl in (10, 10**7):
        data = await platform.data(
            ISSUE_TOKEN, ws=tenant.workspace_id, ext="u", role="VIEWER", ttl=ttl
        )
        assert data["issuePanelToken"]["userErrors"][0]["field"] == "ttlSeconds"


async def test_a_known_platform_key_costs_no_query(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    assert await status_with(client, platform.bearer) == 200
    with counting_queries(services) as statements:
        assert await status_with(client, platform.bearer) == 200
    assert statements == []
    # An unknown key is still looked up, and refused, every time.
    with counting_queries(services) as statements:
        assert await status_with(client, "ecp_unknown") == 401
    assert len(statements) == 1
