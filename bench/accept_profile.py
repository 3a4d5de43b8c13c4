"""Where the CPU of one accepted submission goes, with the app called in-process.

    .venv/bin/python -m bench.accept_profile [--requests 4000] [--concurrency 50] [--top 40]
        [--sites 1] [--no-profile]

No server and no socket: the app is called as uvicorn calls it (one ASGI ``http`` scope per
request, the body in one ``http.request`` message), ``--concurrency`` requests in flight, each
with a new submission id and a valid form token, against a scratch PostgreSQL database, with
inline processing off (accept only). The run is profiled by cProfile and the time is split by
where it was spent (the layers of the accept path), then the functions that cost most are listed.
What this leaves out, uvicorn and httptools parsing the request and writing the answer, is the
bare endpoint's share too; bench/capture.py measures the whole.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.capture import ORIGIN, SECRET, provision
from bench.common import asgi_post, layer_table, scratch_database
from embedcrm.app import create_app
from embedcrm.capture.spam import FormTokens
from embedcrm.config import Settings
from embedcrm.migrations import upgrade_to_head

# The layers of the accept path, by the file a function is defined in (first match wins).
LAYERS = [
    ("asyncpg driver", ("asyncpg",)),
    ("SQLAlchemy", ("sqlalchemy",)),
    ("group commit (intake)", ("capture/intake.py",)),
    ("rate limits (limits)", ("limits/", "capture/ratelimit.py")),
    ("form token (itsdangerous)", ("itsdangerous", "capture/spam.py")),
    ("payload parse + validation", ("capture/payload.py", "email_validator", "phonenumbers")),
    ("forms / site lookup", ("forms/", "capture/origin.py")),
    ("metrics (prometheus)", ("prometheus_client",)),
    ("logging", ("logging/", "embedcrm/logs.py")),
    ("correlation id", ("asgi_correlation_id",)),
    ("middleware (embedcrm)", ("embedcrm/middleware.py", "panel_routes.py")),
    ("starlette (routing, request, response)", ("starlette",)),
    ("capture service", ("capture/service.py",)),
    ("app route", ("embedcrm/app.py",)),
    ("asyncio / event loop", ("asyncio", "uvloop")),
    ("json", ("json/",)),
    ("uuid / datetime / hashlib", ("uuid.py", "datetime", "hashlib")),
]


async def provision_sites(database_url: str, count: int) -> list[tuple[uuid.UUID, str]]:
    """``count`` workspaces, each with a site: (site id, public key) of each."""
    made = [await provision(database_url) for _ in range(count)]
    return [(site_id, key) for _workspace, site_id, key in made]


async def drive(
    app: Any,
    sites: list[tuple[uuid.UUID, str]],
    requests: int,
    concurrency: int,
    *,
    profile: bool = True,
) -> float:
    issued_at = time.time() - 60
    tokens = FormTokens((SECRET,), max_age_seconds=3600, clock=lambda: issued_at)
    # Fresh tokens for each run: a token serves at most form_token_max_uses submissions.
    token_lists: dict[str, list[str]] = {}
    statuses: dict[int, int] = {}

    def body_of(n: int, run: str) -> bytes:
        return json.dumps(
            {
                "submission_id": f"{run}-{n}",
                "form_token": token_lists[run][n // 8],
                "form": "contact",
                "fields": {
                    "name": "Anna",
                    "email": f"a{n}@example.com",
                    "phone": f"+7912{n:07d}",
                    "message": "bench",
                },
                "context": {
                    "page_url": "https://bench.example.com/?utm_source=yandex&utm_medium=cpc",
                    "referrer": "https://yandex.ru/",
                },
                "consent": True,
            }
        ).encode()

    bodies: dict[str, list[bytes]] = {}

    async def one(n: int, run: str) -> None:
        body = bodies[run][n]
        path = f"/v1/sites/{sites[(n // 8) % len(sites)][1]}/submissions"
        status, _answer = await asgi_post(
            app,
            path,
            body,
            [(b"origin", ORIGIN.encode())],
            client=("127.0.0.1", 40000 + n % 1000),
        )
        statuses[status] = statuses.get(status, 0) + 1

    async def run(label: str, count: int) -> float:
        queue = iter(range(count))
        # Runs of 8 submissions with one token, to the sites in turn.
        token_lists[label] = [
            tokens.issue(sites[i % len(sites)][0], ORIGIN) for i in range(count // 8 + 1)
        ]
        bodies[label] = [body_of(n, label) for n in range(count)]

        async def worker() -> None:
            for n in queue:
                await one(n, label)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started

    await run(f"warm-{uuid.uuid4().hex[:6]}", min(requests, 500))
    # Without the profiler first: CPU per request as it is (the driver loop's share included,
    # which is small: the bodies are made beforehand).
    statuses.clear()
    cpu = time.process_time()
    elapsed = await run(f"plain-{uuid.uuid4().hex[:6]}", requests)
    spent = time.process_time() - cpu
    print(
        f"statuses: {statuses}; {requests / elapsed:.0f} req/s in-process, "
        f"{spent / requests * 1e6:.0f} µs CPU per request (no profiler)"
    )
    if not profile:
        return elapsed
    statuses.clear()
    profiler = cProfile.Profile()
    profiler.enable()
    elapsed = await run(f"run-{uuid.uuid4().hex[:6]}", requests)
    profiler.disable()
    print(f"statuses: {statuses}; {requests / elapsed:.0f} req/s in-process (under cProfile)")
    profiler.dump_stats("/tmp/accept_profile.prof")
    return elapsed


def report(requests: int, top: int) -> None:
    stats = pstats.Stats("/tmp/accept_profile.prof")
    layer_table(stats, LAYERS, requests)
    stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--no-profile", action="store_true", help="CPU per request only")
    parser.add_argument(
        "--sites", type=int, default=1, help="spread the submissions over this many workspaces"
    )
    args = parser.parse_args()
    with scratch_database("embedcrm_bench_profile") as dsn:
        database_url = dsn.replace("postgresql://", "postgresql+asyncpg://")
        settings = Settings(
            secret_keys=(SECRET,),
            database_url=database_url,
            rate_limit_per_visitor="",
            rate_limit_per_site="",
            process_submissions_inline=False,
        )
        upgrade_to_head(settings)
        sites = asyncio.run(provision_sites(database_url, args.sites))

        async def go() -> None:
            app = create_app(settings)
            try:
                await drive(
                    app, sites, args.requests, args.concurrency, profile=not args.no_profile
                )
            finally:
                await app.state.services.capture.close()
                await app.state.services.db.dispose()

        import uvloop

        uvloop.run(go())
    if not args.no_profile:
        report(args.requests, args.top)


if __name__ == "__main__":
    main()
