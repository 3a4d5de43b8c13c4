"""The speed aims in one table: each figure measured beside its own baseline in the same run.

    .venv/bin/python -m bench.goals [--seconds 8] [--only capture,graphql,webhooks]

Runs, one after another on this machine, `bench.capture` (the bare Starlette + asyncpg insert,
accept only, accept and make leads in-process, and the worker), `bench.graphql` (the panel's
page of 50 leads beside a minimal strawberry app) and `bench.webhooks` (the dispatcher beside a
bare httpx loop), each writing its figures as JSON, then prints one Markdown table of the aims
with the date, the machine, its load average and the server stack: the table the README keeps.
A ratio is only ever taken between two figures of the same run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import PYTHON, ROOT

BENCHES = ("capture", "graphql", "webhooks")


@dataclass(frozen=True)
class Aim:
    what: str
    measured: Callable[[dict[str, Any]], str]
    ratio: Callable[[dict[str, Any]], float]
    aim: str
    met: Callable[[float], bool] | None  # None: a figure shown beside the others, with no aim
    bench: str


def _capture(figures: dict[str, Any], layout: str) -> dict[str, Any]:
    return dict(figures["capture"]["layouts"][layout])


def _bare_insert(figures: dict[str, Any]) -> dict[str, Any]:
    return _capture(figures, "bare Starlette + asyncpg insert")


def _accept(figures: dict[str, Any]) -> dict[str, Any]:
    return _capture(figures, "embedcrm, accept only (worker makes leads)")


def _inline(figures: dict[str, Any]) -> dict[str, Any]:
    return _capture(figures, "embedcrm, accept + make leads in-process")


def _page(figures: dict[str, Any], bare: bool) -> float:
    label = (
        "bare strawberry app: the same page"
        if bare
        else "embedcrm: leads(first: 50) with relations"
    )
    return float(figures["graphql"][label]["cpu_us_per_request"])


def _hooks(figures: dict[str, Any], who: str) -> dict[str, float]:
    return dict(figures["webhooks"][who])


AIMS = (
    Aim(
        "Capture, accept only: submissions answered per second, × the bare insert",
        lambda f: (
            f"{_accept(f)['requests_per_second']:.0f} against {_bare_insert(f)['requests_per_second']:.0f}/s"
        ),
        lambda f: _accept(f)["requests_per_second"] / _bare_insert(f)["requests_per_second"],
        "≥ 1.00",
        lambda r: r >= 1.0,
        "capture",
    ),
    Aim(
        "Capture, accept only: server CPU per request, × the bare insert's",
        lambda f: (
            f"{_accept(f)['cpu_us_per_request']:.0f} against {_bare_insert(f)['cpu_us_per_request']:.0f} µs"
        ),
        lambda f: _accept(f)["cpu_us_per_request"] / _bare_insert(f)["cpu_us_per_request"],
        "—",
        None,
        "capture",
    ),
    Aim(
        "Capture, accept only: p99 at 50 in flight, ms",
        lambda f: f"bare insert's: {_bare_insert(f)['p99_ms']:.1f} ms",
        lambda f: _accept(f)["p99_ms"],
        "< 50",
        lambda r: r < 50,
        "capture",
    ),
    Aim(
        "Making leads (worker): server CPU per lead, ms",
        lambda f: f"{f['capture']['worker']['leads_per_second']:.0f} leads/s on one core",
        lambda f: f["capture"]["worker"]["cpu_ms_per_lead"],
        "≤ 1.5",
        lambda r: r <= 1.5,
        "capture",
    ),
    Aim(
        "Making leads in the serving process: leads made per submission accepted",
        lambda f: (
            f"{_inline(f)['leads_per_second']:.0f} made, {_inline(f)['requests_per_second']:.0f} accepted per second"
        ),
        lambda f: _inline(f)["leads_per_second"] / _inline(f)["requests_per_second"],
        "≥ 0.95 (no backlog grows)",
        lambda r: r >= 0.95,
        "capture",
    ),
    Aim(
        "The panel's page of 50 leads: server CPU, × a minimal strawberry app's",
        lambda f: f"{_page(f, bare=False) / 1000:.1f} against {_page(f, bare=True) / 1000:.1f} ms",
        lambda f: _page(f, bare=False) / _page(f, bare=True),
        "≤ 2.00",
        lambda r: r <= 2.0,
        "graphql",
    ),
    Aim(
        "Webhooks: deliveries per second, × a bare httpx loop",
        lambda f: (
            f"{_hooks(f, 'dispatcher')['per_second']:.0f} against {_hooks(f, 'bare')['per_second']:.0f}/s"
        ),
        lambda f: _hooks(f, "dispatcher")["per_second"] / _hooks(f, "bare")["per_second"],
        "≥ 0.80",
        lambda r: r >= 0.8,
        "webhooks",
    ),
    Aim(
        "Webhooks: deliveries per CPU second, × a bare httpx loop",
        lambda f: (
            f"{_hooks(f, 'dispatcher')['cpu_ms']:.2f} against {_hooks(f, 'bare')['cpu_ms']:.2f} ms a delivery"
        ),
        lambda f: _hooks(f, "bare")["cpu_ms"] / _hooks(f, "dispatcher")["cpu_ms"],
        "≥ 0.80",
        lambda r: r >= 0.8,
        "webhooks",
    ),
    Aim(
        "Webhooks: commit to delivery when idle, median ms",
        lambda f: "one event at a time",
        lambda f: f["webhooks"]["idle_median_ms"],
        "< 50",
        lambda r: r < 50,
        "webhooks",
    ),
)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def run_bench(name: str, seconds: int, out: Path) -> dict[str, Any]:
    args = [PYTHON, "-m", f"bench.{name}", "--json", str(out)]
    if name in ("capture", "graphql"):
        args += ["--seconds", str(seconds)]
    subprocess.run(args, check=True, cwd=ROOT)
    return dict(json.loads(out.read_text()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument(
        "--only", default=",".join(BENCHES), help="comma-separated: " + ", ".join(BENCHES)
    )
    args = parser.parse_args()
    chosen = [name for name in BENCHES if name in args.only.split(",")]
    started = datetime.datetime.now(datetime.UTC)
    load_before = load_average()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in chosen:
            figures[name] = run_bench(name, args.seconds, Path(tmp) / f"{name}.json")
    stack = figures[chosen[0]]["server_stack"] if chosen else ""
    print(
        f"\n{started:%Y-%m-%d %H:%M} UTC, `.venv/bin/python -m bench.goals --seconds {args.seconds}`; "
        f"{os.cpu_count()} cores ({cpu_model()}); load average {load_before} before, "
        f"{load_average()} after; server stack: {stack}\n"
    )
    print("| aim | measured (this run) | figure | the aim | met |")
    print("| --- | --- | ---: | --- | --- |")
    for aim in AIMS:
        if aim.bench not in figures:
            continue
        ratio = aim.ratio(figures)
        print(
            f"| {aim.what} | {aim.measured(figures)} | {ratio:.2f} | {aim.aim} | "
            f"{'—' if aim.met is None else 'yes' if aim.met(ratio) else 'no'} |"
        )


if __name__ == "__main__":
    main()
