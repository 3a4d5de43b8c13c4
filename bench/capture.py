"""Accepted submissions and leads made per second on PostgreSQL, beside a bare endpoint.

    .venv/bin/python -m bench.capture [--seconds 8] [--connections 50] [--accept-only]

Starts, in one run and on the same scratch database: the bare Starlette + asyncpg endpoint
(bench/bare_submissions.py) that inserts the same submissions row, and `embedcrm serve` twice —
accepting only (leads made by `embedcrm worker`, the production layout for high traffic) and
accepting with the leads made in the same process right after each answer. Each server is
pinned to CPU 0 and wrk to CPU 1; every request carries a new submission id; all of them run
on the same server stack (uvicorn with uvloop and httptools). Between the two layouts the
worker's own path makes leads of the backlog the first one left, pinned to CPU 0, for at most
--seconds: its leads per second and CPU per lead are what making a lead costs.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench.common import (
    PYTHON,
    ROOT,
    SERVER_CPU,
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
from embedcrm.capture.repository import unprocessed_submissions
from embedcrm.capture.spam import FormTokens
from embedcrm.cli import prepare_heap
from embedcrm.config import Settings
from embedcrm.db import utcnow
from embedcrm.migrations import upgrade_to_head
from embedcrm.services import Services

SECRET = "bench-secret"
ORIGIN = "https://bench.example.com"
# Each visitor's page got its form token from the site's config a minute before the form was
# sent, as the widget does; without one a submission is quarantined. A token serves a few
# submissions, fewer than form_token_max_uses.
SUBMISSIONS_PER_TOKEN = 8
LUA = """
local run = "%s"
local tokens = {%s}
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = "%s"
request = function()
  counter = counter + 1
  local body = string.format(
    '{"submission_id":"%%s-%%d","form_token":"%%s","form":"contact","fields":{"name":"Anna","email":"a%%d@example.com",' ..
    '"phone":"+7912%%07d","message":"bench"},"context":{"page_url":"https://bench.example.com/?utm_source=yandex&utm_medium=cpc",' ..
    '"referrer":"https://yandex.ru/"},"consent":true}', run, counter,
    tokens[math.floor((counter - 1) / %d) %% #tokens + 1], counter, counter)
  return wrk.format(nil, nil, nil, body)
end
"""


async def provision(database_url: str) -> tuple[uuid.UUID, uuid.UUID, str]:
    services = Services.create(Settings(secret_keys=(SECRET,), database_url=database_url))
    try:
        platform = Platform(key_id=uuid.uuid4())
        workspace = await services.workspaces.create_workspace(
            platform, name="bench", external_id=None
        )
        site = await services.workspaces.create_site(
            platform, workspace_id=workspace.id, name="bench", domains=["bench.example.com"]
        )
        return workspace.id, site.id, site.public_key
    finally:
        await services.db.dispose()


def script(run: str, site_id: uuid.UUID, seconds: int) -> Path:
    """A wrk script sending new submissions, with tokens enough for 8 000 a second."""
    issued_at = time.time() - 60
    tokens = FormTokens((SECRET,), max_age_seconds=3600, clock=lambda: issued_at)
    count = seconds * 8000 // SUBMISSIONS_PER_TOKEN + 1
    issued = ",".join(f'"{tokens.issue(site_id, ORIGIN)}"' for _ in range(count))
    path = Path(tempfile.mkstemp(suffix=".lua")[1])
    path.write_text(LUA % (run, issued, ORIGIN, SUBMISSIONS_PER_TOKEN))
    return path


async def drain(database_url: str, seconds: float) -> None:
    """Make leads of the stored backlog as `embedcrm worker` does, for at most ``seconds``;
    prints the leads made, the time and this process's CPU (run pinned to SERVER_CPU)."""
    services = Services.create(Settings(secret_keys=(SECRET,), database_url=database_url))
    prepare_heap()  # as `embedcrm worker` does before it starts
    made, started, cpu = 0, time.perf_counter(), time.process_time()
    try:
        while time.perf_counter() - started < seconds:
            async with services.db.transaction() as session:
                pending = await unprocessed_submissions(
                    session, limit=200, received_before=utcnow()
                )
            if not pending:
                break
            await services.capture.process_many(pending)
            made += len(pending)
    finally:
        await services.db.dispose()
    elapsed, spent = time.perf_counter() - started, time.process_time() - cpu
    print(f"{made} {elapsed} {spent}")


async def count_status(dsn: str, status: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(
            await connection.fetchval("SELECT count(*) FROM submissions WHERE status = $1", status)
        )
    finally:
        await connection.close()


async def set_aside_backlog(dsn: str) -> None:
    """Submissions one layout left unprocessed must not be made into leads during the next."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "UPDATE submissions SET status = 'REFUSED' WHERE status = 'RECEIVED'"
        )
    finally:
        await connection.close()


def wait_for_leads(dsn: str, *, limit: float) -> float:
    """Seconds until no submission is left RECEIVED (at most ``limit``)."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if asyncio.run(count_status(dsn, "RECEIVED")) == 0:
            break
        time.sleep(0.2)
    return time.perf_counter() - started


@dataclasses.dataclass
class Run:
    wrk: WrkResult
    cpu_us_per_request: float
    leads_per_second: float | None = None
    backlog_drain_seconds: float | None = None
    backlog_left: int | None = None


def measured(server: Server, target: str, run: Path, args: argparse.Namespace, dsn: str) -> Run:
    processed = asyncio.run(count_status(dsn, "PROCESSED"))
    cpu = server.cpu_seconds()
    result = wrk(target, run, connections=args.connections, seconds=args.seconds)
    spent = server.cpu_seconds() - cpu
    leads = asyncio.run(count_status(dsn, "PROCESSED")) - processed
    return Run(result, spent / max(result.requests, 1) * 1e6, leads / args.seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--accept-only",
        action="store_true",
        help="measure the bare endpoint and the accept-only layout, nothing else",
    )
    parser.add_argument("--json", help="also write the figures to this file, as JSON")
    parser.add_argument("--drain", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drain:
        asyncio.run(drain(args.drain, args.seconds))
        return
    with scratch_database("embedcrm_bench_capture") as dsn:
        database_url = dsn.replace("postgresql://", "postgresql+asyncpg://")
        upgrade_to_head(Settings(secret_keys=(SECRET,), database_url=database_url))
        workspace_id, site_id, site_key = asyncio.run(provision(database_url))
        results: dict[str, Run] = {}
        port = free_port()
        bare_env = {
            "BENCH_DSN": dsn,
            "BENCH_SITE": f"{workspace_id}:{site_id}",
            "PYTHONPATH": str(ROOT),
        }
        bare_cmd = [
            PYTHON,
            "-m",
            "uvicorn",
            "bench.bare_submissions:app",
            *UVICORN_FAST,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        with pinned_server(bare_cmd, port=port, env=bare_env) as server:
            wrk(
                server.url + "/submit",
                script("warm-bare", site_id, 2),
                connections=args.connections,
                seconds=2,
            )
            results[BARE] = measured(
                server, server.url + "/submit", script("bare", site_id, args.seconds), args, dsn
            )
            results[BARE].leads_per_second = None
        worker: tuple[int, float, float] | None = None
        layouts = [(ACCEPT_ONLY, "0")] if args.accept_only else [(ACCEPT_ONLY, "0"), (INLINE, "1")]
        for label, inline in layouts:
            port = free_port()
            env = {
                "EMBEDCRM_DATABASE_URL": database_url,
                "EMBEDCRM_SECRET_KEYS": SECRET,
                "EMBEDCRM_RATE_LIMIT_VISITOR": "",
                "EMBEDCRM_RATE_LIMIT_SITE": "",
                "EMBEDCRM_PROCESS_INLINE": inline,
                "EMBEDCRM_LOG_LEVEL": "warning",
            }
            cmd = [
                PYTHON,
                "-m",
                "embedcrm",
                "serve",
                "--port",
                str(port),
                "--no-dispatcher",
                "--no-jobs",
            ]
            with pinned_server(cmd, port=port, env=env) as server:
                target = f"{server.url}/v1/sites/{site_key}/submissions"
                wrk(
                    target,
                    script(f"warm-{inline}", site_id, 2),
                    connections=args.connections,
                    seconds=2,
                )
                run = results[label] = measured(
                    server, target, script(f"run-{inline}", site_id, args.seconds), args, dsn
                )
                if inline == "1":
                    run.backlog_drain_seconds = wait_for_leads(dsn, limit=30)
                    run.backlog_left = asyncio.run(count_status(dsn, "RECEIVED"))
                else:
                    run.leads_per_second = None
            if inline == "0" and not args.accept_only:
                out = subprocess.run(
                    [
                        "taskset",
                        "-c",
                        SERVER_CPU,
                        PYTHON,
                        "-m",
                        "bench.capture",
                        "--drain",
                        database_url,
                        "--seconds",
                        str(args.seconds),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                    env={**os.environ, "EMBEDCRM_LOG_LEVEL": "warning"},
                ).stdout.split()
                worker = (int(out[-3]), float(out[-2]), float(out[-1]))
                asyncio.run(set_aside_backlog(dsn))
    report(results, worker, args)
    write_figures(args.json, figures(results, worker))


BARE = "bare Starlette + asyncpg insert"
ACCEPT_ONLY = "embedcrm, accept only (worker makes leads)"
INLINE = "embedcrm, accept + make leads in-process"


def figures(results: dict[str, Run], worker: tuple[int, float, float] | None) -> dict[str, object]:
    layouts: dict[str, object] = {
        label: {
            "requests_per_second": r.wrk.requests_per_second,
            "p50_ms": r.wrk.p50_ms,
            "p99_ms": r.wrk.p99_ms,
            "non_2xx": r.wrk.non_2xx,
            "cpu_us_per_request": r.cpu_us_per_request,
            "leads_per_second": r.leads_per_second,
            "backlog_drain_seconds": r.backlog_drain_seconds,
        }
        for label, r in results.items()
    }
    made = None
    if worker is not None:
        leads, elapsed, spent = worker
        made = {
            "leads_per_second": leads / elapsed,
            "cpu_ms_per_lead": spent / max(leads, 1) * 1000,
        }
    return {"layouts": layouts, "worker": made}


def report(
    results: dict[str, Run], worker: tuple[int, float, float] | None, args: argparse.Namespace
) -> None:
    bare = results[BARE]
    print(
        f"\n{args.connections} connections, {args.seconds} s each, server on CPU 0, wrk on CPU 1 "
        f"({os.cpu_count()} CPUs); server stack: {server_stack()}\n"
    )
    print(
        f"{'server':45} {'req/s':>7} {'x bare':>6} {'p50 ms':>7} {'p99 ms':>7} {'non-2xx':>7} "
        f"{'CPU us/req':>10} {'x bare':>6} {'leads/s':>7}"
    )
    for label, r in results.items():
        leads = f"{r.leads_per_second:7.0f}" if r.leads_per_second is not None else f"{'':>7}"
        print(
            f"{label:45} {r.wrk.requests_per_second:7.0f} "
            f"{r.wrk.requests_per_second / bare.wrk.requests_per_second:6.2f} "
            f"{r.wrk.p50_ms:7.1f} {r.wrk.p99_ms:7.1f} {r.wrk.non_2xx:7d} "
            f"{r.cpu_us_per_request:10.0f} {r.cpu_us_per_request / bare.cpu_us_per_request:6.2f} {leads}"
        )
    if INLINE not in results:
        return
    inline = results[INLINE]
    print(
        f"\nin-process: leads made {inline.leads_per_second:.0f}/s while "
        f"{inline.wrk.requests_per_second:.0f}/s were accepted; the backlog took "
        f"{inline.backlog_drain_seconds:.1f} s to drain after the load ({inline.backlog_left} left)"
    )
    if worker is not None:
        made, elapsed, spent = worker
        print(
            f"worker on CPU 0, the accept-only backlog: {made} leads in {elapsed:.1f} s = "
            f"{made / elapsed:.0f} leads/s, {spent / max(made, 1) * 1000:.2f} ms CPU per lead"
        )


if __name__ == "__main__":
    main()
