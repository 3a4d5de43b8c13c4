"""The baseline for bench/graphql.py's page of leads: a minimal strawberry app that answers the
same query with the same JSON from the same rows.

Run by the benchmark under uvicorn; BENCH_DSN names the database, BENCH_WORKSPACE the
workspace. One statement joins the page's leads to their stages, assignees and contacts, one
counts them; every field is a plain attribute, so nothing but the page's query awaits; parsing
and validation are cached. No authentication, permissions, limits or DataLoaders: what is left
is strawberry's own cost.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

from embedcrm.cli import YOUNG_GENERATION_THRESHOLD
from embedcrm.ids import to_global_id

PAGE = """
SELECT l.id, l.title, l.status, l.created_at, l.utm_source, l.utm_medium, l.utm_campaign,
       s.id AS stage_id, s.name AS stage_name, m.id AS member_id, m.name AS member_name,
       c.id AS contact_id, c.name AS contact_name, c.email, c.phone, c.phone_e164
FROM leads l
LEFT JOIN stages s ON s.workspace_id = l.workspace_id AND s.id = l.stage_id
LEFT JOIN members m ON m.workspace_id = l.workspace_id AND m.id = l.assignee_id
LEFT JOIN contacts c ON c.workspace_id = l.workspace_id AND c.id = l.contact_id
WHERE l.workspace_id = $1
ORDER BY l.created_at DESC, l.id DESC
LIMIT $2
"""
COUNT = "SELECT count(*) FROM leads WHERE workspace_id = $1"
pool: asyncpg.Pool | None = None
workspace_id = uuid.UUID(os.environ.get("BENCH_WORKSPACE", str(uuid.UUID(int=0))))


@strawberry.type
class Stage:
    id: strawberry.ID
    name: str


@strawberry.type
class Member:
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
    stage: Stage | None
    assignee: Member | None
    contact: Contact | None
    source: LeadSource


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class LeadEdge:
    node: Lead


@strawberry.type
class LeadConnection:
    total_count: int
    page_info: PageInfo
    edges: list[LeadEdge]


def lead_of(row: Any) -> Lead:
    return Lead(
        id=strawberry.ID(to_global_id("Lead", workspace_id, row["id"])),
        title=row["title"],
        status=row["status"],
        created_at=row["created_at"],
        stage=Stage(
            id=strawberry.ID(to_global_id("Stage", workspace_id, row["stage_id"])),
            name=row["stage_name"],
        )
        if row["stage_id"]
        else None,
        assignee=Member(
            id=strawberry.ID(to_global_id("Member", workspace_id, row["member_id"])),
            name=row["member_name"],
        )
        if row["member_id"]
        else None,
        contact=Contact(
            id=strawberry.ID(to_global_id("Contact", workspace_id, row["contact_id"])),
            name=row["contact_name"],
            email=row["email"],
            phone=row["phone_e164"] or row["phone"],
        )
        if row["contact_id"]
        else None,
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
        page = rows[:first]
        end = page[-1] if page else None
        return LeadConnection(
            total_count=total,
            page_info=PageInfo(
                has_next_page=len(rows) > first,
                end_cursor=base64.urlsafe_b64encode(
                    f"{end['created_at'].isoformat()}|{end['id']}".encode()
                ).decode()
                if end
                else None,
            ),
            edges=[LeadEdge(node=lead_of(row)) for row in page],
        )


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=10, max_size=10)
    # The garbage collector set as `embedcrm serve` sets it, so that the two differ in code only.
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, 20, 10)
    yield
    await pool.close()


# Parsing and validation cached, as embedcrm caches them.
schema = strawberry.Schema(
    query=Query, extensions=[lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)]
)
app = Starlette(routes=[Route("/graphql", GraphQL(schema))], lifespan=lifespan)
