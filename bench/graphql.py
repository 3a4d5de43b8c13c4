"""GraphQL throughput on PostgreSQL, one server process: `{ ping }` and a page of 50 leads.

    .venv/bin/python bench/graphql.py [--seconds 10] [--connections 10]

`{ ping }` measures the fixed cost of a request (auth, parsing and validation — cached —
and execution); the leads page adds the keyset query, its count and the DataLoaders for
contacts and stages. The server runs on CPU 0, wrk on CPU 1, with a panel token.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, free_port, pinned_server, scratch_database, wrk
from embedcrm.auth import Platform
from embedcrm.capture.spam import FormTokens
from embedcrm.config import Settings
from embedcrm.leads.models import Lead
from embedcrm.migrations import upgrade_to_head
from embedcrm.services import Services
from embedcrm.workspaces.models import Role

SECRET = "bench-secret"
LEADS = """{ leads(first: 50) { totalCount pageInfo { hasNextPage endCursor }
  edges { node { id title status createdAt stage { id name } assignee { id name }
  contact { id name email phone } source { utmSource utmMedium utmCampaign } } } } }"""


async def provision(database_url: str, leads: int) -> tuple[str, uuid.UUID]:
    """A workspace with ``leads`` leads made from web forms, all assigned to its one owner;
    answers the owner's panel token and the workspace's id."""
    settings = Settings(secret_keys=(SECRET,), database_url=database_url)
    services = Services.create(settings)
    try:
        platform = Platform(key_id=uuid.uuid4())
        workspace = await services.workspaces.create_workspace(platform, name="b", external_id=None)
        site = await services.workspaces.create_site(
            platform, workspace_id=workspace.id, name="b", domains=["bench.example.com"]
        )
        # Each page view's form token, as the widget gets it from the site's config a minute
        # before the form is sent: without one a submission is quarantined, not made a lead.
        issued_at = time.time() - 60
        tokens = FormTokens((SECRET,), max_age_seconds=3600, clock=lambda: issued_at)
        for i in range(leads):
            body = json.dumps(
                {
                    "submission_id": f"s{i}",
                    "form_token": tokens.issue(site.id, "https://bench.example.com"),
                    "fields": {
                        "name": f"N{i}",
                        "email": f"p{i}@example.com",
                        "phone": f"+7912{i:07d}",
                    },
                    "context": {
                        "page_url": "https://bench.example.com/?utm_source=yandex"
                        "&utm_medium=cpc&utm_campaign=spring"
                    },
                }
            ).encode()
            await services.capture.accept(
                site,
                origin="https://bench.example.com",
                content_type="application/json",
                body=body,
                remote_ip=None,
            )
        await services.capture.processor.idle()
        issued = await services.workspaces.issue_panel_token(
            platform,
            workspace_id=workspace.id,
            member_external_id="m",
            member_name="M",
            member_email=None,
            role=Role.OWNER,
            ttl_seconds=86400,
        )
        # Every lead assigned, so the page reads members through their loader too.
        async with services.db.transaction() as session:
            await session.execute(
                update(Lead)
                .where(Lead.workspace_id == workspace.id)
                .values(assignee_id=issued.member.id)
            )
        return issued.token, workspace.id
    finally:
        await services.capture.close()
        await services.db.dispose()


def lua(token: str, query: str) -> Path:
    path = Path(tempfile.mkstemp(suffix=".lua")[1])
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        f"wrk.body = {json.dumps(json.dumps({'query': query}))}\n"
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=10)
    args = parser.parse_args()
    with scratch_database("embedcrm_bench_graphql") as dsn:
        database_url = dsn.replace("postgresql://", "postgresql+asyncpg://")
        settings = Settings(secret_keys=(SECRET,), database_url=database_url)
        upgrade_to_head(settings)
        token, _ = asyncio.run(provision(database_url, leads=200))
        port = free_port()
        env = {"EMBEDCRM_DATABASE_URL": database_url, "EMBEDCRM_SECRET_KEYS": SECRET}
        cmd = [PYTHON, "-m", "embedcrm", "serve", "--port", str(port), "--no-dispatcher"]
        results = {}
        with pinned_server(cmd, port=port, env=env) as server:
            url = server.url
            for label, query in (
                ("{ ping }", "{ ping }"),
                ("leads(first: 50) with relations", LEADS),
            ):
                script = lua(token, query)
                wrk(url + "/graphql", script, connections=args.connections, seconds=2)
                results[label] = wrk(
                    url + "/graphql", script, connections=args.connections, seconds=args.seconds
                )
    print(
        f"\n{args.connections} connections, {args.seconds} s each, server on CPU 0, wrk on CPU 1\n"
    )
    print(f"{'query':34} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'non-2xx':>8}")
    for label, r in results.items():
        print(
            f"{label:34} {r.requests_per_second:8.0f} {r.p50_ms:7.1f} {r.p99_ms:7.1f} {r.non_2xx:8d}"
        )


if __name__ == "__main__":
    main()
