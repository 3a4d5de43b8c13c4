"""The baseline for bench/panel_reads.py: a minimal strawberry app answering the panel's leads page
with the same JSON from the same rows.

One joined SELECT for the page and one count, plain objects with plain attributes (no resolver
awaits), no credentials, no limits, no middleware: what any strawberry app on asyncpg would cost
for this answer. Run by the benchmark under uvicorn; BENCH_DSN names the database, BENCH_WORKSPACE
the workspace whose leads are read.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL

from embedcrm.ids import to_global_id

PAGE = """
SELECT l.id, l.title, l.status, l.created_at, l.utm_source, l.utm_medium, l.utm_campaign,
       s.id AS stage_id, s.name AS stage_name, m.id AS member_id, m.name AS member_name,
       c.id AS contact_id, c.name AS contact_name, c.email, c.phone
FROM leads l
JOIN stages s ON s.workspace_id = l.workspace_id AND s.id = l.stage_id
JOIN contacts c ON c.workspace_id = l.workspace_id AND c.id = l.contact_id
LEFT JOIN members m ON m.workspace_id = l.workspace_id AND m.id = l.assignee_id
WHERE l.workspace_id = $1
ORDER BY l.created_at DESC, l.id DESC
LIMIT $2
"""
COUNT = "SELECT count(*) FROM leads WHERE workspace_id = $1"
pool: asyncpg.Pool | None = None
workspace_id = uuid.UUID(os.environ["BENCH_WORKSPACE"])


@strawberry.type
class Named:
    id: strawberry.ID
    name: str


@strawberry.type
class Contact:
    id: strawberry.ID
    name: str | None
    email: str | None
    phone: str | None


@strawberry.type
class LeadSource:
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None


@strawberry.type
class Lead:
    id: strawberry.ID
    title: str
    status: str
    created_at: datetime
    stage: Named | None
    assignee: Named | None
    contact: Contact | None
    source: LeadSource


@strawberry.type
class Edge:
    cursor: str
    node: Lead


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class LeadConnection:
    total_count: int
    page_info: PageInfo
    edges: list[Edge]


def _lead(row: asyncpg.Record) -> Lead:
    ws = workspace_id
    return Lead(
        id=strawberry.ID(to_global_id("Lead", ws, row["id"])),
        title=row["title"],
        status=row["status"],
        created_at=row["created_at"],
        stage=Named(
            id=strawberry.ID(to_global_id("Stage", ws, row["stage_id"])), name=row["stage_name"]
        ),
        assignee=None
        if row["member_id"] is None
        else Named(
            id=strawberry.ID(to_global_id("Member", ws, row["member_id"])), name=row["member_name"]
        ),
        contact=Contact(
            id=strawberry.ID(to_global_id("Contact", ws, row["contact_id"])),
            name=row["contact_name"],
            email=row["email"],
            phone=row["phone"],
        ),
        source=LeadSource(
            utm_source=row["utm_source"],
            utm_medium=row["utm_medium"],
            utm_campaign=row["utm_campaign"],
        ),
    )


@strawberry.type
class Query:
    @strawberry.field
    async def leads(self, first: int = 50) -> LeadConnection:
        assert pool is not None
        async with pool.acquire() as connection:
            rows = await connection.fetch(PAGE, workspace_id, first + 1)
            total = await connection.fetchval(COUNT, workspace_id)
        edges = [Edge(cursor=str(row["id"]), node=_lead(row)) for row in rows[:first]]
        return LeadConnection(
            total_count=total,
            page_info=PageInfo(
                has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None
            ),
            edges=edges,
        )


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=2, max_size=10)
    try:
        yield
    finally:
        await pool.close()


app = Starlette(
    routes=[Route("/graphql", GraphQL(strawberry.Schema(Query), graphql_ide=None))],
    lifespan=lifespan,
)
