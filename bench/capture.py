"""Accepted submissions per second on PostgreSQL, one server process, beside a bare endpoint.

    .venv/bin/python bench/capture.py [--seconds 10] [--connections 50]

Starts, in one run and on the same scratch database: the bare Starlette + asyncpg endpoint
(bench/bare_submissions.py) that inserts the same submissions row, and `embedcrm serve` twice —
accepting only (leads made by `embedcrm worker`, the production layout for high traffic) and
accepting with the leads made in the same process right after each answer. Each server is
pinned to CPU 0 and wrk to CPU 1; every request carries a new submission id.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, ROOT, free_port, pinned_server, scratch_database, wrk
from embedcrm.auth import Platform
from embedcrm.config import Settings
from embedcrm.migrations import upgrade_to_head
from embedcrm.services import Services

SECRET = "bench-secret"
LUA = """
local run = "%s"
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = "https://bench.example.com"
request = function()
  counter = counter + 1
  local body = string.format(
    '{"submission_id":"%%s-%%d","form":"contact","fields":{"name":"Anna","email":"a%%d@example.com",' ..
    '"phone":"+7912%%07d","message":"bench"},"context":{"page_url":"https://bench.example.com/?utm_source=yandex&utm_medium=cpc",' ..
    '"referrer":"https://yandex.ru/"},"consent":true}', run, counter, counter, counter)
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


def script(run: str) -> Path:
    path = Path(tempfile.mkstemp(suffix=".lua")[1])
    path.write_text(LUA % run)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    with scratch_database("embedcrm_bench_capture") as dsn:
        database_url = dsn.replace("postgresql://", "postgresql+asyncpg://")
        upgrade_to_head(Settings(secret_keys=(SECRET,), database_url=database_url))
        workspace_id, site_id, site_key = asyncio.run(provision(database_url))
        results = {}
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
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        with pinned_server(bare_cmd, port=port, env=bare_env) as url:
            wrk(url + "/submit", script("warm-bare"), connections=args.connections, seconds=2)
            results["bare Starlette + asyncpg insert"] = wrk(
                url + "/submit", script("bare"), connections=args.connections, seconds=args.seconds
            )
        for label, inline in (
            ("embedcrm, accept only (worker makes leads)", "0"),
            ("embedcrm, accept + make leads in-process", "1"),
        ):
            port = free_port()
            env = {
                "EMBEDCRM_DATABASE_URL": database_url,
                "EMBEDCRM_SECRET_KEYS": SECRET,
                "EMBEDCRM_RATE_LIMIT_VISITOR": "",
                "EMBEDCRM_RATE_LIMIT_SITE": "",
                "EMBEDCRM_PROCESS_INLINE": inline,
            }
            cmd = [PYTHON, "-m", "embedcrm", "serve", "--port", str(port), "--no-dispatcher"]
            with pinned_server(cmd, port=port, env=env) as url:
                target = f"{url}/v1/sites/{site_key}/submissions"
                wrk(target, script(f"warm-{inline}"), connections=args.connections, seconds=2)
                results[label] = wrk(
                    target,
                    script(f"run-{inline}"),
                    connections=args.connections,
                    seconds=args.seconds,
                )
    bare = results["bare Starlette + asyncpg insert"].requests_per_second
    print(
        f"\n{args.connections} connections, {args.seconds} s each, server on CPU 0, wrk on CPU 1 "
        f"({os.cpu_count()} CPUs)\n"
    )
    print(f"{'server':45} {'req/s':>8} {'x bare':>7} {'p50 ms':>7} {'p99 ms':>7} {'non-2xx':>8}")
    for label, r in results.items():
        print(
            f"{label:45} {r.requests_per_second:8.0f} {r.requests_per_second / bare:7.2f} "
            f"{r.p50_ms:7.1f} {r.p99_ms:7.1f} {r.non_2xx:8d}"
        )


if __name__ == "__main__":
    main()
