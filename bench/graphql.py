"""GraphQL on PostgreSQL, one server process: `{ ping }` and the panel's page of 50 leads, beside
a minimal strawberry app answering the same page (bench/bare_leads_page.py).

    .venv/bin/python -m bench.graphql [--seconds 8] [--connections 10] [--rounds 4]

`{ ping }` measures the fixed cost of a request (auth, parsing and validation — cached —
and execution); the leads page adds the keyset query (with the contacts, stages and assignees
it joins), its count and the DataLoaders for the rest. The bare app must answer the very same
JSON (checked) from the same rows. Each server runs on CPU 0, wrk on CPU 1, with a panel token;
server CPU per request is read from /proc, and its ratio to the bare app's is the figure issue
18 sets at most 2. Both servers run side by side and the page is loaded on each in turn,
``--rounds`` slices of ``--seconds`` / ``--rounds`` each, so that the machine's drift (the
figures of one server move by a fifth from minute to minute here) falls on both alike; CPU and
requests are summed over the slices, and each slice's own ratio is printed for its spread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx

from bench.common import (
    PYTHON,
    ROOT,
    UVICORN_FAST,
    Server,
    WrkResult,
    free_port,
    pinned_server,
    scratch_database,
    server_stack,
    write_figures,
    wrk,
)
from embedcrm.auth import Platform
from embedcrm.capture.spam import FormTokens
from embedcrm.config import Settings
from embedcrm.migrations import upgrade_to_head
from embedcrm.services import Services
from embedcrm.workspaces.models import Role

SECRET = "bench-secret"
LEADS = """{ leads(first: 50) { totalCount pageInfo { hasNextPage endCursor }
  edges { node { id title status createdAt stage { id name } assignee { id name }
  contact { id name email phone } source { utmSource utmMedium utmCampaign } } } } }"""


async def provision(database_url: str, leads: int) -> tuple[uuid.UUID, str]:
    settings = Settings(secret_keys=(SECRET,), database_url=database_url)
    services = Services.create(settings)
    try:
        platform = Platform(key_id=uuid.uuid4())
        workspace = await services.workspaces.create_workspace(platform, name="b", external_id=None)
        site = await services.workspaces.create_site(
            platform, workspace_id=workspace.id, name="b", domains=["bench.example.com"]
        )
        # Each visitor's page got its form token a minute before the form was sent, as the
        # widget does; without one a submission is quarantined and makes no lead.
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
                        "page_url": "https://bench.example.com/?utm_source=ya&utm_medium=cpc"
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
        return workspace.id, issued.token
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


async def assign_most(dsn: str, workspace_id: uuid.UUID) -> None:
    """Most leads get the panel's member as assignee, as a page of a team's inbox shows."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "UPDATE leads SET assignee_id = (SELECT id FROM members WHERE workspace_id = $1 "
            "LIMIT 1) WHERE workspace_id = $1 AND right(id::text, 1) < 'c'",
            workspace_id,
        )
    finally:
        await connection.close()


def page_json(url: str, token: str) -> Any:
    answer = httpx.post(
        url + "/graphql",
        json={"query": LEADS},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()


@dataclass
class Measured:
    wrk: WrkResult
    cpu_us: float


def measure(
    server: Server, token: str, query: str, args: argparse.Namespace, *, seconds: int | None = None
) -> Measured:
    script = lua(token, query)
    wrk(server.url + "/graphql", script, connections=args.connections, seconds=2)
    return measure_warm(server, script, args, seconds or args.seconds)


def measure_warm(server: Server, script: Path, args: argparse.Namespace, seconds: int) -> Measured:
    cpu = server.cpu_seconds()
    result = wrk(server.url + "/graphql", script, connections=args.connections, seconds=seconds)
    return Measured(result, (server.cpu_seconds() - cpu) / max(result.requests, 1) * 1e6)


def summed(slices: list[Measured]) -> Measured:
    """Slices of one load as one: requests and CPU summed, latencies the median slice's."""
    requests = sum(m.wrk.requests for m in slices)
    seconds = sum(m.wrk.requests / m.wrk.requests_per_second for m in slices if m.wrk.requests)
    cpu_us = sum(m.cpu_us * m.wrk.requests for m in slices) / max(requests, 1)
    middle = sorted(slices, key=lambda m: m.wrk.p50_ms)[len(slices) // 2].wrk
    return Measured(
        WrkResult(
            requests_per_second=requests / seconds if seconds else 0.0,
            p50_ms=middle.p50_ms,
            p99_ms=statistics.median(m.wrk.p99_ms for m in slices),
            non_2xx=sum(m.wrk.non_2xx for m in slices),
            requests=requests,
        ),
        cpu_us,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--json", help="also write the figures to this file, as JSON")
    args = parser.parse_args()
    with scratch_database("embedcrm_bench_graphql") as dsn:
        database_url = dsn.replace("postgresql://", "postgresql+asyncpg://")
        settings = Settings(secret_keys=(SECRET,), database_url=database_url)
        upgrade_to_head(settings)
        workspace_id, token = asyncio.run(provision(database_url, leads=200))
        asyncio.run(assign_most(dsn, workspace_id))
        port = free_port()
        env = {
            "EMBEDCRM_DATABASE_URL": database_url,
            "EMBEDCRM_SECRET_KEYS": SECRET,
            "EMBEDCRM_LOG_LEVEL": "warning",
            # One panel token runs 4 operations at a time by default and refuses the rest (429):
            # here one token stands for the whole load.
            "EMBEDCRM_GRAPHQL_CONCURRENCY_PANEL": str(args.connections),
        }
        cmd = [PYTHON, "-m", "embedcrm", "serve", "--port", str(port), "--no-dispatcher"]
        results: dict[str, Measured] = {}
        bare_port = free_port()
        bare_env = {"BENCH_DSN": dsn, "BENCH_WORKSPACE": str(workspace_id), "PYTHONPATH": str(ROOT)}
        bare_cmd = [
            PYTHON,
            "-m",
            "uvicorn",
            "bench.bare_leads_page:app",
            *UVICORN_FAST,
            "--port",
            str(bare_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        with (
            pinned_server(cmd, port=port, env=env) as server,
            pinned_server(bare_cmd, port=bare_port, env=bare_env) as bare_server,
        ):
            expected = page_json(server.url, token)
            bare = page_json(bare_server.url, token)
            if bare != expected:
                raise SystemExit(f"the bare app answers other JSON:\n{bare}\n{expected}")
            results["embedcrm: { ping }"] = measure(server, token, "{ ping }", args)
            script = lua(token, LEADS)
            for one in (server, bare_server):
                wrk(one.url + "/graphql", script, connections=args.connections, seconds=2)
            slice_seconds = max(1, args.seconds // args.rounds)
            ours: list[Measured] = []
            theirs: list[Measured] = []
            for _ in range(args.rounds):
                ours.append(measure_warm(server, script, args, slice_seconds))
                theirs.append(measure_warm(bare_server, script, args, slice_seconds))
            results[EMBEDCRM_PAGE] = summed(ours)
            results[BARE_PAGE] = summed(theirs)
        slices = " ".join(f"{o.cpu_us / t.cpu_us:.2f}" for o, t in zip(ours, theirs, strict=True))
    edges = len(expected["data"]["leads"]["edges"])
    print(
        f"\n{args.connections} connections, {args.seconds} s each, server on CPU 0, wrk on CPU 1; "
        f"{edges} leads a page; server stack: {server_stack()}\n"
        f"the page, embedcrm and bare in turn, {args.rounds} slices of "
        f"{max(1, args.seconds // args.rounds)} s each; each slice's CPU ratio: {slices}\n"
    )
    floor = results[BARE_PAGE].cpu_us
    print(
        f"{'server and query':42} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>10} {'x bare':>6}"
    )
    for label, r in results.items():
        print(
            f"{label:42} {r.wrk.requests_per_second:7.0f} {r.wrk.p50_ms:7.1f} {r.wrk.p99_ms:7.1f} "
            f"{r.cpu_us:10.0f} {r.cpu_us / floor:6.2f} {r.wrk.non_2xx:7d}"
        )
    write_figures(
        args.json,
        {
            label: {
                "requests_per_second": r.wrk.requests_per_second,
                "p99_ms": r.wrk.p99_ms,
                "cpu_us_per_request": r.cpu_us,
            }
            for label, r in results.items()
        },
    )


EMBEDCRM_PAGE = "embedcrm: leads(first: 50) with relations"
BARE_PAGE = "bare strawberry app: the same page"


if __name__ == "__main__":
    main()
