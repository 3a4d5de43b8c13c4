"""The baseline for bench/capture.py: a bare Starlette + asyncpg endpoint inserting the same row.

Run by the benchmark under uvicorn; BENCH_DSN names the database, BENCH_SITE the site row
(workspace_id:site_id).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

INSERT = """
INSERT INTO submissions (workspace_id, id, site_id, client_submission_id, body_hash, payload,
  status, attempts, created_at)
VALUES ($1, $2, $3, $4, $5, $6, 'RECEIVED', 0, $7)
ON CONFLICT DO NOTHING
"""
pool: asyncpg.Pool | None = None
workspace_id, site_id = (uuid.UUID(p) for p in os.environ["BENCH_SITE"].split(":"))


async def submit(request: Request) -> JSONResponse:
    raw = await request.body()
    body = json.loads(raw)
    assert pool is not None
    await pool.execute(
        INSERT,
        workspace_id,
        uuid.uuid4(),
        site_id,
        body["submission_id"],
        hashlib.sha256(raw).hexdigest(),
        raw.decode(),
        datetime.now(UTC),
    )
    return JSONResponse({"submission_id": body["submission_id"], "status": "accepted"}, 202)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=10, max_size=10)
    yield
    await pool.close()


app = Starlette(routes=[Route("/submit", submit, methods=["POST"])], lifespan=lifespan)
