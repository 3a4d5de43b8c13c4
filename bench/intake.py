"""What the group commit alone costs: CPU per row, rows per statement, and how long a row waits.

    .venv/bin/python -m bench.intake [--rows 4000] [--concurrency 50]

``--concurrency`` callers, each storing one raw submission after another through the capture
service's SubmissionIntake (as CaptureService._store does, the payload's JSON text given),
against a scratch PostgreSQL database. Prints rows per second, this process's CPU per row (the
callers' own share, making each row, included), the rows per statement, and the median and
99th percentile of a row's wait. No HTTP: bench/accept_profile.py and bench/capture.py measure
the whole accept path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.capture import ORIGIN, SECRET, provision
from bench.common import migrated_database
from embedcrm.capture.intake import Pending
from embedcrm.config import Settings
from embedcrm.db import new_id, utcnow
from embedcrm.services import Services

BODY = {
    "submission_id": "-",
    "form": "contact",
    "fields": {"name": "Anna", "email": "a@example.com", "phone": "+79120000000"},
    "context": {"page_url": f"{ORIGIN}/?utm_source=yandex", "utm": {}, "click_ids": {}},
    "consent": True,
    "form_token": "t" * 120,
}


async def measure(database_url: str, rows: int, concurrency: int) -> None:
    workspace_id, site_id, _key = await provision(database_url)
    services = Services.create(Settings(secret_keys=(SECRET,), database_url=database_url))
    intake = services.capture.intake
    batches: list[int] = []
    insert = intake._insert

    async def counted(batch: list[Pending]) -> Any:
        batches.append(len(batch))
        return await insert(batch)

    intake._insert = counted  # type: ignore[method-assign]
    text = json.dumps(BODY, sort_keys=True, separators=(",", ":"))

    async def run(label: str, count: int) -> tuple[float, float, list[float]]:
        numbers = iter(range(count))
        waits: list[float] = []

        async def caller() -> None:
            for n in numbers:
                row = {
                    "workspace_id": workspace_id,
                    "id": new_id(),
                    "site_id": site_id,
                    "client_submission_id": f"{label}-{n}",
                    "body_hash": "0" * 64,
                    "payload": BODY,
                    "status": "RECEIVED",
                    "failure_reason": None,
                    "attempts": 0,
                    "lead_id": None,
                    "contact_id": None,
                    "origin": ORIGIN,
                    "remote_ip": "127.0.0.1",
                    "created_at": utcnow(),
                    "processed_at": None,
                }
                started = time.perf_counter()
                await intake.store(row, payload_json=text)
                waits.append(time.perf_counter() - started)

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(caller() for _ in range(concurrency)))
        return time.perf_counter() - started, time.process_time() - cpu, sorted(waits)

    try:
        await run(f"warm-{uuid.uuid4().hex[:6]}", min(rows, 500))
        batches.clear()
        elapsed, spent, waits = await run(f"run-{uuid.uuid4().hex[:6]}", rows)
    finally:
        await services.capture.close()
        await services.db.dispose()
    print(
        f"{rows / elapsed:.0f} rows/s, {spent / rows * 1e6:.1f} µs CPU per row, "
        f"{len(batches)} statements of {sum(batches) / len(batches):.1f} rows; a row waited "
        f"p50 {waits[len(waits) // 2] * 1e3:.1f} ms, p99 {waits[int(len(waits) * 0.99)] * 1e3:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    import uvloop

    with migrated_database("embedcrm_bench_intake", SECRET) as database_url:
        uvloop.run(measure(database_url, args.rows, args.concurrency))


if __name__ == "__main__":
    main()
