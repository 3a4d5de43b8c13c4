"""The panel's lists on the database bench/crm_data.py made: timings and the plans behind them.

    .venv/bin/python bench/crm_queries.py [--database embedcrm_bench_crm] [--runs 30]

Measures, in the workspace holding 200 000 of the 1 000 000 leads and through the services the
GraphQL resolvers call (the same SQL, a transaction each): the first page of leads at one stage,
a search by e-mail and by phone, and the member count of a saved segment. Prints the median
and the 95th percentile of warm runs, then EXPLAIN (ANALYZE, BUFFERS) of each statement.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import server_url
from embedcrm.auth import Platform
from embedcrm.config import Settings
from embedcrm.contacts.models import Contact
from embedcrm.fields.filters import LeadSpec
from embedcrm.kit.repository import Window
from embedcrm.leads.models import Lead
from embedcrm.leads.repository import LeadRepository
from embedcrm.pipelines.models import Stage
from embedcrm.services import Services


async def timed(label: str, runs: int, call: Callable[[], Awaitable[Any]]) -> None:
    await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(f"{label:<44} median {statistics.median(samples):6.2f} ms   p95 {p95:6.2f} ms")


async def explain(services: Services, label: str, stmt: Any) -> None:
    sql = stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    async with services.db.transaction() as session:
        rows = await session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}"))
        print(f"\n-- {label}")
        for (line,) in rows:
            print(line)


async def run(database: str, runs: int) -> None:
    url = server_url().rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    services = Services.create(
        Settings(secret_keys=("bench-secret-0123456789",), database_url=f"{url}/{database}")
    )
    platform = Platform(key_id=uuid.uuid4())
    lists = services.lists
    try:
        async with services.db.transaction() as session:
            big = (
                await session.execute(
                    select(Lead.workspace_id, func.count())
                    .group_by(Lead.workspace_id)
                    .order_by(func.count().desc())
                    .limit(1)
                )
            ).one()
            workspace = big[0]
            stage = await session.scalar(
                select(Stage).where(Stage.workspace_id == workspace, Stage.position == 1)
            )
            contact = await session.scalar(
                select(Contact)
                .where(Contact.workspace_id == workspace)
                .order_by(Contact.created_at)
                .limit(1)
            )
            assert stage is not None and contact is not None
        print(
            f"workspace {workspace}: {big[1]} leads; stage {stage.name!r}; contact {contact.email}\n"
        )
        segment = await services.segments.create(
            platform,
            workspace,
            name="bench: В работе от 50 000",
            spec=LeadSpec(stage_id=stage.id, value_min=Decimal(50000)),
        )
        by_stage = LeadSpec(stage_id=stage.id)
        by_email = LeadSpec(search=contact.email)
        phone = contact.phone_e164 or ""
        by_phone = LeadSpec(search=f"8 ({phone[2:5]}) {phone[5:8]}-{phone[8:10]}-{phone[10:]}")

        async def page(spec: LeadSpec) -> None:
            result, _ = await lists.leads_page_and_total(
                platform, workspace, spec, window=Window(first=50), total=False
            )
            assert result.rows

        await timed("first page of 50 leads at one stage", runs, lambda: page(by_stage))
        await timed(f"search by e-mail ({contact.email})", runs, lambda: page(by_email))
        await timed(f"search by phone ({by_phone.search})", runs, lambda: page(by_phone))

        async def count() -> None:
            await services.segments.count_members(platform, segment)

        await timed("segment count (stage + value >= 50 000)", runs, count)
        async with services.db.transaction() as session:
            repo = LeadRepository(session, workspace)
            newest = (Lead.created_at.desc(), Lead.id.desc())
            await explain(
                services,
                "first page at one stage",
                repo.matching(by_stage, {}).order_by(*newest).limit(51),
            )
            await explain(
                services,
                "search by e-mail",
                repo.matching(by_email, {}).order_by(*newest).limit(51),
            )
            await explain(
                services, "search by phone", repo.matching(by_phone, {}).order_by(*newest).limit(51)
            )
            spec = LeadSpec(stage_id=stage.id, value_min=Decimal(50000))
            counted = select(func.count()).select_from(repo.matching(spec, {}).subquery())
            await explain(services, "segment count", counted)
        await services.segments.delete(platform, workspace, segment.id)
    finally:
        await services.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="embedcrm_bench_crm")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(run(args.database, args.runs))


if __name__ == "__main__":
    main()
