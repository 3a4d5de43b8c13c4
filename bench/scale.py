"""Scaling on PostgreSQL: one app process against two, and one busy workspace against many.

    .venv/bin/python -m bench.scale [--seconds 8] [--small 1000] [--connections 50]

In one run on one scratch database:

1. Two app processes (`embedcrm serve --workers 2`, one port) against one, both on CPUs 0 and 1
   with wrk on the same two CPUs (and PostgreSQL wherever the system puts it): submissions
   accepted per second (accept only: EMBEDCRM_PROCESS_INLINE=0) and the panel's page of 50 leads
   (bench/graphql.py's query) per second, with the ratio of two processes to one.
2. One busy workspace against 1 000 small ones, on one process (CPU 0, wrk on CPU 1): the same
   capture load all on one site, then spread over a site in each of the --small workspaces
   (each request a new submission with a valid form token of its site; runs of 8 to a site):
   first while most sites are visited for the first time (each burst of 8 misses the cache of
   sites and forms), then once every site is cached.
3. The panel's page for a small workspace (50 leads) while the busy one is under that capture
   load: a client asks for it one request after another for --seconds, idle first, then beside
   wrk's load on the busy workspace.

Figures only, printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.common import (
    PYTHON,
    Server,
    WrkResult,
    free_port,
    pinned_server,
    scratch_database,
    server_stack,
    wrk,
)
from bench.graphql import LEADS, lua
from embedcrm.auth import Platform
from embedcrm.capture.spam import FormTokens
from embedcrm.config import Settings
from embedcrm.migrations import upgrade_to_head
from embedcrm.services import Services
from embedcrm.workspaces.models import Role

SECRET = "bench-secret"
ORIGIN = "https://bench.example.com"
BOTH_CPUS = "0,1"
# Submissions sent with one form token (fewer than form_token_max_uses).
PER_TOKEN = 8
LUA = """
local entries = {%s}
local counter = 0
local run = "%s"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = "%s"
request = function()
  counter = counter + 1
  local e = entries[math.floor((counter - 1) / %d) %% #entries + 1]
  local body = string.format(
    '{"submission_id":"%%s-%%d","form_token":"%%s","form":"contact","fields":{"name":"Anna",' ..
    '"email":"a%%d@example.com","phone":"+7912%%07d","message":"bench"},"context":{"page_url":' ..
    '"https://bench.example.com/?utm_source=yandex&utm_medium=cpc"},"consent":true}',
    run, counter, e[2], counter, counter)
  return wrk.format("POST", "/v1/sites/" .. e[1] .. "/submissions", nil, body)
end
"""


@dataclass(frozen=True)
class SiteRef:
    id: uuid.UUID
    key: str


@dataclass
class Provisioned:
    busy: SiteRef
    small: list[SiteRef]
    # A panel token of the first small workspace, which has 50 leads.
    small_panel_token: str


async def provision(database_url: str, small: int) -> Provisioned:
    services = Services.create(Settings(secret_keys=(SECRET,), database_url=database_url))
    platform = Platform(key_id=uuid.uuid4())
    slots = asyncio.Semaphore(8)

    async def workspace_with_site(name: str) -> tuple[uuid.UUID, SiteRef]:
        async with slots:
            workspace = await services.workspaces.create_workspace(
                platform, name=name, external_id=None
            )
            site = await services.workspaces.create_site(
                platform, workspace_id=workspace.id, name=name, domains=["bench.example.com"]
            )
            return workspace.id, SiteRef(site.id, site.public_key)

    try:
        _, busy = await workspace_with_site("busy")
        made = await asyncio.gather(*(workspace_with_site(f"small-{i}") for i in range(small)))
        first_workspace, first_site = made[0]
        site = await services.capture.site_for_key(first_site.key)
        issued_at = time.time() - 60
        tokens = FormTokens((SECRET,), max_age_seconds=3600, clock=lambda: issued_at)
        for i in range(50):
            body = json.dumps(
                {
                    "submission_id": f"s{i}",
                    "form_token": tokens.issue(site.id, ORIGIN),
                    "fields": {"name": f"N{i}", "email": f"p{i}@example.com"},
                    "context": {"page_url": "https://bench.example.com/?utm_source=ya"},
                }
            ).encode()
            await services.capture.accept(
                site, origin=ORIGIN, content_type="application/json", body=body, remote_ip=None
            )
        await services.capture.processor.idle()
        panel = await services.workspaces.issue_panel_token(
            platform,
            workspace_id=first_workspace,
            member_external_id="m",
            member_name="M",
            member_email=None,
            role=Role.OWNER,
            ttl_seconds=86400,
        )
        return Provisioned(busy, [ref for _, ref in made], panel.token)
    finally:
        await services.capture.close()
        await services.db.dispose()


def capture_script(run: str, sites: list[SiteRef], seconds: int) -> Path:
    """Submissions to ``sites`` in turn, each run of PER_TOKEN with one token of its site."""
    issued_at = time.time() - 60
    tokens = FormTokens((SECRET,), max_age_seconds=3600, clock=lambda: issued_at)
    count = max(seconds * 8000 // PER_TOKEN + 1, len(sites))
    entries = ",".join(
        f'{{"{site.key}","{tokens.issue(site.id, ORIGIN)}"}}'
        for site in (sites[i % len(sites)] for i in range(count))
    )
    path = Path(tempfile.mkstemp(suffix=".lua")[1])
    path.write_text(LUA % (entries, run, ORIGIN, PER_TOKEN))
    return path


def serve_command(port: int, workers: int) -> list[str]:
    return [
        PYTHON,
        "-m",
        "embedcrm",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-dispatcher",
        "--no-jobs",
    ]


def server_env(database_url: str, connections: int) -> dict[str, str]:
    return {
        "EMBEDCRM_DATABASE_URL": database_url,
        "EMBEDCRM_SECRET_KEYS": SECRET,
        "EMBEDCRM_RATE_LIMIT_VISITOR": "",
        "EMBEDCRM_RATE_LIMIT_SITE": "",
        "EMBEDCRM_PROCESS_INLINE": "0",
        "EMBEDCRM_LOG_LEVEL": "warning",
        # One panel token stands for the whole page load.
        "EMBEDCRM_GRAPHQL_CONCURRENCY_PANEL": str(connections),
    }


@dataclass
class Measured:
    wrk: WrkResult
    cpu_us: float


def measured(
    server: Server, script: Path, warm: Path, path: str, args: argparse.Namespace, cpus: str
) -> Measured:
    url = server.url + path
    wrk(url, warm, connections=args.connections, seconds=2, cpus=cpus)
    cpu = server.cpu_seconds()
    result = wrk(url, script, connections=args.connections, seconds=args.seconds, cpus=cpus)
    return Measured(result, (server.cpu_seconds() - cpu) / max(result.requests, 1) * 1e6)


@dataclass
class PageTimes:
    count: int
    p50_ms: float
    p99_ms: float


def page_times(url: str, token: str, seconds: float) -> PageTimes:
    """The leads page asked for one request after another, as a person clicking would."""
    times: list[float] = []
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            answer = client.post(
                url + "/graphql",
                json={"query": LEADS},
                headers={"Authorization": f"Bearer {token}"},
            )
            answer.raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return PageTimes(
        len(times), statistics.median(times), times[min(len(times) - 1, len(times) * 99 // 100)]
    )


COLD = "spread over N, first visits"
WARM = "spread over N, sites cached"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--page-connections", type=int, default=10)
    parser.add_argument("--small", type=int, default=1000)
    args = parser.parse_args()
    with scratch_database("embedcrm_bench_scale") as dsn:
        database_url = dsn.replace("postgresql://", "postgresql+asyncpg://")
        upgrade_to_head(Settings(secret_keys=(SECRET,), database_url=database_url))
        started = time.perf_counter()
        setup = asyncio.run(provision(database_url, args.small))
        print(f"provisioned 1 + {args.small} workspaces in {time.perf_counter() - started:.0f} s")
        env = server_env(database_url, max(args.connections, args.page_connections))
        page_script = lua(setup.small_panel_token, LEADS)
        page_args = argparse.Namespace(connections=args.page_connections, seconds=args.seconds)
        capture: dict[int, Measured] = {}
        page: dict[int, Measured] = {}
        for workers in (1, 2):
            port = free_port()
            with pinned_server(
                serve_command(port, workers), port=port, env=env, cpus=BOTH_CPUS
            ) as server:
                capture[workers] = measured(
                    server,
                    capture_script(f"p{workers}", [setup.busy], args.seconds),
                    capture_script(f"w{workers}", [setup.busy], 2),
                    "/",
                    args,
                    BOTH_CPUS,
                )
                page[workers] = measured(
                    server, page_script, page_script, "/graphql", page_args, BOTH_CPUS
                )
        spread: dict[str, Measured] = {}
        times: dict[str, PageTimes] = {}
        port = free_port()
        with pinned_server(serve_command(port, 1), port=port, env=env) as server:
            runs = (
                ("one busy workspace", [setup.busy]),
                (COLD, setup.small),
                (WARM, setup.small),
            )
            for n, (label, sites) in enumerate(runs):
                if label == WARM:
                    # Every site's config once: its site and forms are then in this process's
                    # cache, as they are when each workspace is sent a form every few seconds.
                    with httpx.Client(timeout=30) as client:
                        for site in setup.small:
                            client.get(
                                f"{server.url}/v1/sites/{site.key}/config",
                                headers={"Origin": ORIGIN},
                            ).raise_for_status()
                spread[label] = measured(
                    server,
                    capture_script(f"s{n}", sites, args.seconds),
                    capture_script(f"sw{n}", sites, 2),
                    "/",
                    args,
                    "1",
                )
            times["idle"] = page_times(server.url, setup.small_panel_token, args.seconds)
            load = threading.Thread(
                target=wrk,
                args=(server.url + "/", capture_script("bg", [setup.busy], args.seconds + 4)),
                kwargs={"connections": args.connections, "seconds": args.seconds + 4},
            )
            load.start()
            time.sleep(1)
            times["busy"] = page_times(server.url, setup.small_panel_token, args.seconds)
            load.join()
    report(args, capture, page, spread, times)


def report(
    args: argparse.Namespace,
    capture: dict[int, Measured],
    page: dict[int, Measured],
    spread: dict[str, Measured],
    times: dict[str, PageTimes],
) -> None:
    print(f"\nserver stack: {server_stack()}; {args.seconds} s a run\n")
    print(
        f"1. CPUs 0 and 1 for the app and wrk alike; capture {args.connections} connections, "
        f"leads page {args.page_connections}"
    )
    header = f"{'':34} {'req/s':>7} {'x 1 proc':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>10}"
    print(header)
    for name, results in (("capture, accept only", capture), ("leads page (50)", page)):
        for workers, r in results.items():
            print(
                f"{name + f', {workers} process' + ('es' if workers > 1 else ''):34} "
                f"{r.wrk.requests_per_second:7.0f} "
                f"{r.wrk.requests_per_second / results[1].wrk.requests_per_second:8.2f} "
                f"{r.wrk.p50_ms:7.1f} {r.wrk.p99_ms:7.1f} {r.cpu_us:10.0f}"
                + (f"  non-2xx {r.wrk.non_2xx}" if r.wrk.non_2xx else "")
            )
    print(f"\n2. one process on CPU 0, wrk on CPU 1, {args.connections} connections")
    busy = spread["one busy workspace"]
    for label, r in spread.items():
        name = label.replace("N", str(args.small))
        print(
            f"capture, {name:32} {r.wrk.requests_per_second:7.0f} "
            f"{r.wrk.requests_per_second / busy.wrk.requests_per_second:8.2f} "
            f"{r.wrk.p50_ms:7.1f} {r.wrk.p99_ms:7.1f} {r.cpu_us:10.0f}"
            + (f"  non-2xx {r.wrk.non_2xx}" if r.wrk.non_2xx else "")
        )
    print("\n3. a small workspace's leads page, one request after another, same process")
    for label, t in times.items():
        during = "idle" if label == "idle" else "busy workspace under capture load"
        print(f"{during:42} {t.count:5d} pages  p50 {t.p50_ms:6.1f} ms  p99 {t.p99_ms:6.1f} ms")


if __name__ == "__main__":
    main()
