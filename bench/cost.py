"""What a million submissions cost: server CPU seconds and database growth, measured on N.

    .venv/bin/python -m bench.cost [--submissions 10000] [--database postgresql|sqlite]

One `embedcrm serve` (dispatcher and jobs in-process, leads made right after each answer) on a
scratch database, a webhook endpoint on a local receiver that answers 200 at once, and visitors
posting N submissions with distinct e-mails and phones, 16 at a time. It waits until every
submission is a lead and every event has been delivered, then prints the CPU seconds the serve
process used (user + system, from /proc, start-up excluded) and how much the database grew
(pg_database_size, or the SQLite file with its WAL after a checkpoint), per N and per million.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, cpu_seconds, free_port, scratch_database
from embedcrm.auth import Platform
from embedcrm.capture.spam import FormTokens
from embedcrm.config import Settings
from embedcrm.migrations import upgrade_to_head
from embedcrm.services import Services

SECRET = "bench-secret"


class Receiver:
    def __init__(self) -> None:
        self.ids: set[str] = set()

    async def __call__(self, scope: dict, receive, send) -> None:  # type: ignore[no-untyped-def,type-arg]
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        headers = dict(scope["headers"])
        self.ids.add(headers.get(b"webhook-id", b"").decode())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def provision(database_url: str, hook: str) -> tuple[uuid.UUID, str, uuid.UUID]:
    services = Services.create(
        Settings(
            secret_keys=(SECRET,), database_url=database_url, webhook_allowed_networks="127.0.0.0/8"
        )
    )
    try:
        platform = Platform(key_id=uuid.uuid4())
        workspace = await services.workspaces.create_workspace(
            platform, name="bench", external_id=None
        )
        site = await services.workspaces.create_site(
            platform, workspace_id=workspace.id, name="bench", domains=["bench.example.com"]
        )
        await services.webhooks.create_endpoint(
            platform, workspace_id=workspace.id, url=hook, event_types=[]
        )
        return workspace.id, site.public_key, site.id
    finally:
        await services.db.dispose()


async def counts(database_url: str, workspace_id: uuid.UUID) -> tuple[int, int]:
    """(leads, outbox events) of the workspace."""
    from sqlalchemy import func, select

    from embedcrm.leads.models import Lead
    from embedcrm.webhooks.models import OutboxEvent

    services = Services.create(Settings(secret_keys=(SECRET,), database_url=database_url))
    try:
        async with services.db.transaction() as session:
            leads = await session.scalar(
                select(func.count()).where(Lead.workspace_id == workspace_id)
            )
            events = await session.scalar(
                select(func.count()).where(OutboxEvent.workspace_id == workspace_id)
            )
        return int(leads or 0), int(events or 0)
    finally:
        await services.db.dispose()


async def database_size(database_url: str, sqlite_path: Path | None) -> int:
    if sqlite_path is not None:
        import sqlite3

        with sqlite3.connect(sqlite_path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        wal = sqlite_path.with_name(sqlite_path.name + "-wal")
        return sqlite_path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    import asyncpg

    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("CHECKPOINT")
        return int(await connection.fetchval("SELECT pg_database_size(current_database())"))
    finally:
        await connection.close()


async def run(database_url: str, sqlite_path: Path | None, total: int) -> None:
    receiver = Receiver()
    hook_port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(receiver, host="127.0.0.1", port=hook_port, log_level="warning")
    )
    hook_task = asyncio.create_task(server.serve())
    workspace_id, site_key, site_id = await provision(
        database_url, f"http://127.0.0.1:{hook_port}/hook"
    )
    port = free_port()
    env = {
        **os.environ,
        "EMBEDCRM_DATABASE_URL": database_url,
        "EMBEDCRM_SECRET_KEYS": SECRET,
        "EMBEDCRM_RATE_LIMIT_VISITOR": "",
        "EMBEDCRM_RATE_LIMIT_SITE": "",
        "EMBEDCRM_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    }
    log = open(f"/tmp/bench-cost-{port}.log", "w")
    process = subprocess.Popen(
        [PYTHON, "-m", "embedcrm", "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            while True:
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
            size_before = await database_size(database_url, sqlite_path)
            cpu_before = cpu_seconds(process.pid)
            started = time.monotonic()
            slots = asyncio.Semaphore(16)

            async def one(n: int) -> None:
                # Each visitor's page got its form token from the site's config a minute before
                # the form was sent, as the widget does; without one a submission is quarantined.
                issued_at = time.time() - 60
                tokens = FormTokens((SECRET,), max_age_seconds=3600, clock=lambda: issued_at)
                body = {
                    "submission_id": str(uuid.uuid4()),
                    "form_token": tokens.issue(site_id, "https://bench.example.com"),
                    "form": "contact",
                    "fields": {
                        "name": f"Посетитель {n}",
                        "email": f"visitor{n}@example.com",
                        "phone": f"+7912{n:07d}",
                        "message": "Перезвоните, пожалуйста, после шести вечера.",
                    },
                    "context": {
                        "page_url": "https://bench.example.com/?utm_source=yandex&utm_medium=cpc",
                        "referrer": "https://yandex.ru/",
                    },
                    "consent": True,
                }
                async with slots:
                    answer = await client.post(
                        f"/v1/sites/{site_key}/submissions",
                        json=body,
                        headers={"Origin": "https://bench.example.com"},
                    )
                    assert answer.status_code == 202, answer.text

            await asyncio.gather(*(one(n) for n in range(total)))
            accepted_in = time.monotonic() - started
            while True:
                leads, events = await counts(database_url, workspace_id)
                if leads == total and len(receiver.ids) >= events:
                    break
                await asyncio.sleep(0.5)
            cpu = cpu_seconds(process.pid) - cpu_before
            grown = await database_size(database_url, sqlite_path) - size_before
    finally:
        process.terminate()
        process.wait(30)
        server.should_exit = True
        await hook_task
    per_million = 1_000_000 / total
    print(
        f"submissions: {total}, accepted in {accepted_in:.1f} s, all delivered in "
        f"{time.monotonic() - started:.1f} s; events delivered: {events}"
    )
    print(f"serve CPU: {cpu:.1f} s ({cpu * per_million / 3600:.1f} CPU-hours per million)")
    print(f"database growth: {grown / 1e6:.1f} MB ({grown * per_million / 1e9:.2f} GB per million)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args()
    if args.database == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="embedcrm-cost-")) / "embedcrm.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade_to_head(Settings(secret_keys=(SECRET,), database_url=url))
        asyncio.run(run(url, path, args.submissions))
        return
    with scratch_database("embedcrm_bench_cost") as dsn:
        url = dsn.replace("postgresql://", "postgresql+asyncpg://")
        upgrade_to_head(Settings(secret_keys=(SECRET,), database_url=url))
        asyncio.run(run(url, None, args.submissions))


if __name__ == "__main__":
    main()
