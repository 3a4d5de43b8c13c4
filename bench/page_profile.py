"""Where the CPU of the panel's page of leads goes, embedcrm beside the bare strawberry app, both
called in-process.

    .venv/bin/python -m bench.page_profile [--requests 300] [--rounds 8] [--concurrency 10]
        [--top 40] [--no-profile]

No server and no socket: each app is called as uvicorn calls it (one ASGI ``http`` scope per
request, the body in one ``http.request`` message), ``--concurrency`` requests in flight, with
bench/graphql.py's query, panel token and rows (200 leads, most assigned) in a scratch
PostgreSQL database. Both answers are checked equal. CPU per request is the process's CPU time
over the run, without the profiler, for each app; then each app's run is profiled by cProfile,
its time split by layer (the file a function is defined in), and the functions that cost most
are listed for embedcrm. What this leaves out, uvicorn and httptools, is the same for both apps;
bench/graphql.py measures the whole through real servers.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench import bare_leads_page
from bench.common import asgi_post, layer_table, scratch_database
from bench.graphql import LEADS, SECRET, assign_most, provision
from embedcrm.app import create_app
from embedcrm.cli import prepare_heap
from embedcrm.config import Settings
from embedcrm.migrations import upgrade_to_head

PROFILE = "/tmp/page_profile_{}.prof"

# The layers of a GraphQL request, by the file a function is defined in (first match wins).
LAYERS = [
    ("asyncpg driver", ("asyncpg",)),
    ("SQLAlchemy", ("sqlalchemy",)),
    ("graphql-core", ("graphql/",)),
    ("strawberry", ("strawberry/",)),
    ("embedcrm GraphQL (types, resolvers, loaders)", ("embedcrm/graphql/",)),
    ("auth, workspaces", ("embedcrm/auth.py", "embedcrm/workspaces/", "itsdangerous")),
    ("embedcrm lists, repositories, db", ("embedcrm/",)),
    ("starlette, middleware", ("starlette", "asgi_correlation_id", "prometheus_client")),
    ("asyncio / event loop", ("asyncio", "uvloop")),
    ("json", ("json/",)),
    ("uuid / datetime / base64", ("uuid.py", "datetime", "base64")),
    ("typing, dataclasses, enum", ("typing.py", "dataclasses.py", "enum.py")),
]

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def call(app: App, token: str) -> tuple[int, bytes]:
    """One POST of the page's query, as uvicorn would pass it; the status and the body."""
    body = json.dumps({"query": LEADS}).encode()
    return await asgi_post(app, "/graphql", body, [(b"authorization", f"Bearer {token}".encode())])


async def run(app: App, token: str, requests: int, concurrency: int) -> float:
    """``requests`` pages, ``concurrency`` at a time; the process's CPU seconds spent."""
    queue = iter(range(requests))

    async def worker() -> None:
        for _ in queue:
            status, _body = await call(app, token)
            if status != 200:
                raise SystemExit(f"status {status}")

    cpu = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.process_time() - cpu


async def compare(database_url: str, dsn: str, token: str, args: argparse.Namespace) -> None:
    settings = Settings(
        secret_keys=(SECRET,),
        database_url=database_url,
        graphql_concurrency_per_panel_token=args.concurrency,
    )
    app = create_app(settings)
    bare_leads_page.pool = await asyncpg.create_pool(
        dsn, min_size=args.concurrency, max_size=args.concurrency
    )
    bare: App = bare_leads_page.app
    # As `embedcrm serve` does once its app is built.
    prepare_heap()
    try:
        expected = json.loads((await call(app, token))[1])
        if json.loads((await call(bare, token))[1]) != expected:
            raise SystemExit("the bare app answers other JSON")
        warm = min(args.requests, 300)
        await run(app, token, warm, args.concurrency)
        await run(bare, token, warm, args.concurrency)
        # Short runs alternated, so that a neighbour's load falls on both alike; the least CPU
        # per page of each is the figure least disturbed by it.
        spent: dict[str, list[float]] = {"embedcrm": [], "bare": []}
        for _ in range(args.rounds):
            for name, one in (("embedcrm", app), ("bare", bare)):
                seconds = await run(one, token, args.requests, args.concurrency)
                spent[name].append(seconds / args.requests * 1e6)
        ours, floor = min(spent["embedcrm"]), min(spent["bare"])
        print(
            f"{len(expected['data']['leads']['edges'])} leads a page, {args.rounds} runs of "
            f"{args.requests} pages each, {args.concurrency} at a time (no profiler); "
            "µs CPU per page, least and median of the runs:\n"
            f"  embedcrm {ours:8.0f} {statistics.median(spent['embedcrm']):8.0f}\n"
            f"  bare     {floor:8.0f} {statistics.median(spent['bare']):8.0f}\n"
            f"  ratio    {ours / floor:8.2f} (least against least)"
        )
        if args.no_profile:
            return
        for name, one in (("embedcrm", app), ("bare", bare)):
            profiler = cProfile.Profile()
            profiler.enable()
            await run(one, token, args.requests, args.concurrency)
            profiler.disable()
            profiler.dump_stats(PROFILE.format(name))
    finally:
        await bare_leads_page.pool.close()
        await app.state.services.capture.close()
        await app.state.services.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--no-profile", action="store_true", help="CPU per page only")
    args = parser.parse_args()
    with scratch_database("embedcrm_bench_page") as dsn:
        database_url = dsn.replace("postgresql://", "postgresql+asyncpg://")
        upgrade_to_head(Settings(secret_keys=(SECRET,), database_url=database_url))
        workspace_id, token = asyncio.run(provision(database_url, leads=200))
        asyncio.run(assign_most(dsn, workspace_id))
        bare_leads_page.workspace_id = workspace_id

        import uvloop

        uvloop.run(compare(database_url, dsn, token, args))
    if not args.no_profile:
        bare = pstats.Stats(PROFILE.format("bare"))
        stats = pstats.Stats(PROFILE.format("embedcrm"))
        # Unlike CPU time, the count of Python calls hardly moves with the machine's load.
        calls = {
            name: one.total_calls / args.requests
            for name, one in (("embedcrm", stats), ("bare", bare))
        }  # type: ignore[attr-defined]
        print(
            f"\nPython function calls per page: embedcrm {calls['embedcrm']:.0f}, "
            f"bare {calls['bare']:.0f}"
        )
        print("\nthe bare app, profiled alike:")
        layer_table(bare, LAYERS, args.requests)
        print("embedcrm:")
        layer_table(stats, LAYERS, args.requests)
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
