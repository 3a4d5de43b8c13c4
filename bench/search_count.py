"""The inbox's total on the database bench/crm_data.py made: counted exactly (``totalCount``)
against counted no further than a limit (``totalCountUpTo``, 10 000 as the panel asks), back to back, with the plans.

    .venv/bin/python -m bench.search_count [--database embedcrm_bench_crm] [--runs 20]
        [--limit 10000]

In the workspace holding 200 000 leads, through the service the GraphQL resolvers call (the
same SQL, a transaction each), the runs of the two alternate so that whatever else loads the
machine weighs on both alike. Prints the median and 95th percentile of each, their ratio, then
EXPLAIN (ANALYZE, BUFFERS) of each statement as PostgreSQL plans it for its words.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import func, select, union

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import server_url
from bench.crm_queries import explain
from embedcrm.auth import Platform
from embedcrm.config import Settings
from embedcrm.fields.filters import LeadSpec
from embedcrm.kit.repository import up_to
from embedcrm.leads.models import Lead, LeadStatus
from embedcrm.leads.repository import LeadRepository
from embedcrm.services import Services


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


async def side_by_side(
    label: str, runs: int, exact: Callable[[], Awaitable[int]], capped: Callable[[], Awaitable[int]]
) -> None:
    exact_count, capped_count = await exact(), await capped()
    times: dict[str, list[float]] = {"exact": [], "capped": []}
    for _ in range(runs):
        for name, call in (("exact", exact), ("capped", capped)):
            started = time.perf_counter()
            await call()
            times[name].append((time.perf_counter() - started) * 1000)
    (em, ep), (cm, cp) = summary(times["exact"]), summary(times["capped"])
    print(
        f"| {label} | {exact_count} | {em:.1f} ms | {ep:.1f} ms | {capped_count} "
        f"| {cm:.1f} ms | {cp:.1f} ms | {cm / em:.2f} |"
    )


async def run(database: str, runs: int, limit: int) -> None:
    url = server_url().rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    services = Services.create(
        Settings(secret_keys=("bench-secret-0123456789",), database_url=f"{url}/{database}")
    )
    platform = Platform(key_id=uuid.uuid4())
    lists = services.lists
    try:
        async with services.db.transaction() as session:
            workspace, leads = (
                await session.execute(
                    select(Lead.workspace_id, func.count())
                    .group_by(Lead.workspace_id)
                    .order_by(func.count().desc())
                    .limit(1)
                )
            ).one()
        print(f"workspace {workspace}: {leads} leads; {runs} runs of each, alternating\n")
        specs = {
            "open leads, no search": LeadSpec(status=LeadStatus.OPEN),
            "open, a common name («анн»)": LeadSpec(status=LeadStatus.OPEN, search="анн"),
            "open, a common title word («заявк»)": LeadSpec(status=LeadStatus.OPEN, search="заявк"),
            "open, a word nobody has («зюзя»)": LeadSpec(status=LeadStatus.OPEN, search="зюзя"),
        }
        print(
            f"| count of | exact | median | p95 | up to {limit} | median | p95 | capped / exact |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for label, spec in specs.items():

            async def exact(spec: LeadSpec = spec) -> int:
                return await lists.count_leads(platform, workspace, spec)

            async def capped(spec: LeadSpec = spec) -> int:
                return await lists.count_leads(platform, workspace, spec, up_to=limit)

            await side_by_side(label, runs, exact, capped)

        async with services.db.transaction() as session:
            repo = LeadRepository(session, workspace)
            for label, spec in specs.items():
                whole = repo.matching(spec, {})
                await explain(
                    services,
                    f"{label}: exact",
                    select(func.count()).select_from(whole.order_by(None).subquery()),
                )
                if spec.search:
                    halves = [
                        up_to(repo.matching(spec, {}, text_in=place), Lead.id, limit)
                        for place in ("lead", "contact")
                    ]
                    capped_stmt = select(func.count()).select_from(union(*halves).subquery())
                else:
                    capped_stmt = select(func.count()).select_from(
                        up_to(whole, Lead.id, limit).subquery()
                    )
                await explain(services, f"{label}: up to {limit}", capped_stmt)
    finally:
        await services.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="embedcrm_bench_crm")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--limit", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(run(args.database, args.runs, args.limit))


if __name__ == "__main__":
    main()
