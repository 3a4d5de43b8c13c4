"""The panel's leads page against a minimal strawberry app serving the same JSON from the same rows.

    .venv/bin/python -m bench.panel_reads [--seconds 8] [--runs 3] [--connections 10]

One scratch database on PostgreSQL with 200 leads made from web forms (contact, stage, assignee,
UTM tags). Each server runs pinned to CPU 0 on the same stack (uvicorn, uvloop, httptools where
installed), wrk and PostgreSQL on CPU 1; the two servers take turns, ``--runs`` times, and the
medians are printed: pages per second, the server's CPU per page (from /proc, beside the rate,
since rates drift with whatever else the machine does) and the ratio of the two CPU figures.
Four connections by default: what one panel token may have in flight (more answer 429).
The page is bench/graphql.py's LEADS: 50 leads with stage, assignee, contact and source.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    PYTHON,
    UVICORN_FAST,
    free_port,
    pinned_server,
    scratch_database,
    server_stack,
    wrk,
)
from bench.graphql import LEADS, SECRET, lua, provision
from embedcrm.config import Settings
from embedcrm.migrations import upgrade_to_head


@dataclass
class Sample:
    pages_per_second: float
    cpu_ms_per_page: float
    p99_ms: float


def measure(
    command: list[str], env: dict[str, str], script: Path, args: argparse.Namespace
) -> Sample:
    port = free_port()
    with pinned_server([*command, "--port", str(port)], port=port, env=env) as server:
        url = server.url + "/graphql"
        wrk(url, script, connections=args.connections, seconds=2)  # warm: caches, pool, JIT-free
        before = server.cpu_seconds()
        result = wrk(url, script, connections=args.connections, seconds=args.seconds)
        spent = server.cpu_seconds() - before
    if result.non_2xx:
        raise RuntimeError(
            f"{result.non_2xx} answers were not 2xx: see /tmp/bench-server-{port}.log"
        )
    return Sample(result.requests_per_second, spent / result.requests * 1000, result.p99_ms)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    with scratch_database("embedcrm_bench_panel_reads") as dsn:
        database_url = dsn.replace("postgresql://", "postgresql+asyncpg://")
        upgrade_to_head(Settings(secret_keys=(SECRET,), database_url=database_url))
        token, workspace_id = asyncio.run(provision(database_url, leads=200))
        script = lua(token, LEADS)
        servers = {
            "embedcrm serve": (
                [PYTHON, "-m", "embedcrm", "serve", "--no-dispatcher", "--no-jobs"],
                {
                    "EMBEDCRM_DATABASE_URL": database_url,
                    "EMBEDCRM_SECRET_KEYS": SECRET,
                    # wrk's next request on a connection can arrive before the last one's slot
                    # is given back: no 429 from the per-token limit in a measurement of CPU.
                    "EMBEDCRM_GRAPHQL_CONCURRENCY_PANEL": "64",
                },
            ),
            "minimal strawberry app (bench/bare_leads_page.py)": (
                [
                    PYTHON,
                    "-m",
                    "uvicorn",
                    "bench.bare_leads_page:app",
                    *UVICORN_FAST,
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
                {"BENCH_DSN": dsn, "BENCH_WORKSPACE": str(workspace_id)},
            ),
        }
        samples: dict[str, list[Sample]] = {name: [] for name in servers}
        for _ in range(args.runs):
            for name, (command, env) in servers.items():
                samples[name].append(measure(command, env, script, args))

    print(f"\n{server_stack()}; server on CPU 0, wrk and PostgreSQL on CPU 1")
    print(
        f"{args.connections} connections, medians of {args.runs} x {args.seconds} s, a page of 50 leads\n"
    )
    print(f"{'server':52} {'pages/s':>8} {'CPU ms/page':>12} {'p99 ms':>7}")
    medians = {}
    for name, runs in samples.items():
        cpu = statistics.median(s.cpu_ms_per_page for s in runs)
        medians[name] = cpu
        print(
            f"{name:52} {statistics.median(s.pages_per_second for s in runs):8.0f} "
            f"{cpu:12.2f} {statistics.median(s.p99_ms for s in runs):7.1f}"
        )
    ours, bare = medians.values()
    print(f"\nembedcrm's CPU per page: {ours / bare:.2f} x the minimal app's (aim: at most 2)")


if __name__ == "__main__":
    main()
