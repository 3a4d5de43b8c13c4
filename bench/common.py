"""What the benchmarks share: a throwaway PostgreSQL database, servers pinned to a core, wrk."""

from __future__ import annotations

import asyncio
import json
import os
import pstats
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SERVER_CPU, LOAD_CPU = "0", "1"


def server_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A database of its own, dropped afterwards; yields its asyncpg DSN."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = server_url()

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def write_figures(path: str | None, figures: dict[str, object]) -> None:
    """What a benchmark printed, also as JSON for bench/goals.py (nothing is written without a path)."""
    if path:
        Path(path).write_text(json.dumps({"server_stack": server_stack(), **figures}, indent=2))


@contextmanager
def migrated_database(prefix: str, secret: str) -> Iterator[str]:
    """A scratch database (``scratch_database``) at the schema's head; yields its SQLAlchemy URL."""
    from embedcrm.config import Settings
    from embedcrm.migrations import upgrade_to_head

    with scratch_database(prefix) as dsn:
        database_url = dsn.replace("postgresql://", "postgresql+asyncpg://")
        upgrade_to_head(Settings(secret_keys=(secret,), database_url=database_url))
        yield database_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has spent so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and of its live children (the processes of `serve --workers N`)."""
    total = cpu_seconds(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                total += tree_cpu_seconds(int(child))
            except FileNotFoundError:
                pass  # exited meanwhile
    return total


def server_stack() -> str:
    """What serves HTTP in the benchmarks, bare baselines and embedcrm alike."""
    from importlib.metadata import version

    return (
        f"uvicorn {version('uvicorn')}, uvloop {version('uvloop')}, "
        f"httptools {version('httptools')}, Python {sys.version.split()[0]}"
    )


# The bare baselines run on the stack `embedcrm serve` names (embedcrm.cli.server_stack).
UVICORN_FAST = ["--loop", "uvloop", "--http", "httptools"]


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.pid)


@contextmanager
def pinned_server(
    command: list[str], *, port: int, env: dict[str, str], cpus: str = SERVER_CPU
) -> Iterator[Server]:
    """Run a server on ``cpus`` until it answers /healthz (or any 404), then yield it.

    taskset executes the server in its own process, so the pid is the server's."""
    pin = ["taskset", "-c", cpus] if shutil.which("taskset") else []
    log = open(f"/tmp/bench-server-{port}.log", "w")
    process = subprocess.Popen([*pin, *command], env={**os.environ, **env}, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"server did not start: see {log.name}") from None
                time.sleep(0.2)
        yield Server(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    requests: int


def _ms(value: str) -> float:
    match = re.match(r"([\d.]+)(\w+)", value)
    if match is None:
        raise RuntimeError(f"wrk printed a latency that is not one: {value!r}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    url: str,
    script: Path,
    *,
    connections: int,
    seconds: int,
    cpus: str = LOAD_CPU,
    threads: int = 1,
) -> WrkResult:
    """wrk pinned to ``cpus``, a fixed number of threads, connections and seconds."""
    pin = ["taskset", "-c", cpus] if shutil.which("taskset") else []
    out = subprocess.run(
        [
            *pin,
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    if "Latency Distribution" not in out or re.search(r"^\s+50%\s+\d", out, re.M) is None:
        raise RuntimeError(f"wrk measured nothing:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return WrkResult(rps, p50, p99, int(non_2xx.group(1)) if non_2xx else 0, total)


def layer_table(
    stats: pstats.Stats, layers: list[tuple[str, tuple[str, ...]]], requests: int
) -> None:
    """Print a profile's self time per request split by layer: ``layers`` names each by
    substrings of the file its functions are defined in (first match wins)."""

    def layer_of(filename: str) -> str:
        for name, needles in layers:
            if any(needle in filename for needle in needles):
                return name
        return "builtins (C)" if filename == "~" else "other"

    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    by_layer: dict[str, float] = {}
    total = 0.0
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        by_layer[layer_of(filename)] = by_layer.get(layer_of(filename), 0.0) + tottime
        total += tottime
    print("\nself time by layer, µs per request (cProfile inflates every call alike):")
    for name, seconds in sorted(by_layer.items(), key=lambda kv: -kv[1]):
        print(f"  {name:42} {seconds / requests * 1e6:8.1f}  {seconds / total * 100:5.1f} %")
    print(f"  {'total':42} {total / requests * 1e6:8.1f}")
    print()


async def asgi_post(
    app: Any,
    path: str,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    *,
    client: tuple[str, int] = ("127.0.0.1", 40000),
) -> tuple[int, bytes]:
    """A JSON POST to an ASGI app called in-process as uvicorn calls it (one ``http`` scope, the
    body in one ``http.request`` message, no disconnect while it runs): the status and body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
        "client": client,
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0
    answer = bytearray()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            answer.extend(message.get("body", b""))

    await app(scope, receive, send)
    return status, bytes(answer)
