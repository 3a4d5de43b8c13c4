"""Form analytics through the public beacon route, and the dialect helpers on their own."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Float, literal, select, union_all

from conftest import GraphQL
from embedcrm.analytics.service import Interval, buckets
from embedcrm.analytics.sql import percentiles, seconds_between
from embedcrm.db import UTCDateTime
from embedcrm.services import Services
from factories import Tenant, make_tenant, submission, submit

FORMS = """
query($filter: AnalyticsFilter!) { analytics(filter: $filter) {
  forms { siteId form views starts submissions startRate submitRate conversion } } }
"""


async def beacon(
    client: httpx.AsyncClient, tenant: Tenant, body: Any, *, origin: str | None = None
) -> httpx.Response:
    import json

    return await client.post(
        f"/v1/sites/{tenant.site_key}/events",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain", "Origin": origin or f"https://{tenant.domain}"},
    )


async def test_views_starts_and_submissions_per_form(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform, domain="forms.example.com")
    # Three sampled views at 1 in 10 and one sampled start: 30 views, 10 starts.
    for _ in range(3):
        ok = await beacon(client, tenant, {"type": "view", "form": "contact", "sample_rate": 10})
        assert ok.status_code == 204, ok.text
        assert ok.headers["access-control-allow-origin"] == "https://forms.example.com"
    await beacon(client, tenant, {"type": "start", "form": "contact", "sample_rate": 10})
    await beacon(client, tenant, {"type": "view", "form": "callback"})
    # Refused: another origin, a bad type, a bad rate, personal data has nowhere to go.
    assert (
        await beacon(
            client, tenant, {"type": "view", "form": "contact"}, origin="https://evil.example"
        )
    ).status_code == 403
    assert (await beacon(client, tenant, {"type": "click", "form": "contact"})).status_code == 422
    assert (
        await beacon(client, tenant, {"type": "view", "form": "contact", "sample_rate": 0})
    ).status_code == 422
    assert (await beacon(client, tenant, "not an object")).status_code == 422
    # Two real submissions of "contact".
    for _ in range(2):
        sent = await submit(client, tenant, submission(email=f"{uuid.uuid4().hex[:8]}@example.com"))
        assert sent.status_code == 202
    now = datetime.now(UTC)
    period = {
        "from": (now - timedelta(days=2)).isoformat(),
        "to": (now + timedelta(days=2)).isoformat(),
    }
    rows = (await tenant.panel.data(FORMS, filter=period))["analytics"]["forms"]
    by_form = {r["form"]: r for r in rows}
    # contact: 10 / 30 started, 2 / 10 of the starts submitted, 2 / 30 of the views.
    assert by_form["contact"] == {
        "siteId": tenant.site_id,
        "form": "contact",
        "views": 30,
        "starts": 10,
        "submissions": 2,
        "startRate": pytest.approx(1 / 3),
        "submitRate": 0.2,
        "conversion": pytest.approx(2 / 30),
    }
    assert (by_form["callback"]["views"], by_form["callback"]["submissions"]) == (1, 0)
    # Another workspace's panel sees none of it.
    other = await make_tenant(platform, domain="forms-other.example.com")
    assert (await other.panel.data(FORMS, filter=period))["analytics"]["forms"] == []


def test_buckets_follow_the_local_calendar_across_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2024, 3, 30, tzinfo=berlin).astimezone(UTC)
    end = datetime(2024, 4, 1, tzinfo=berlin).astimezone(UTC)
    days = buckets(start, end, Interval.DAY, berlin)
    # 31 March 2024 is 23 hours long in Berlin (clocks go forward at 02:00).
    assert [(b.ends - b.starts) for b in days] == [timedelta(hours=24), timedelta(hours=23)]
    months = buckets(
        datetime(2024, 1, 15, tzinfo=UTC),
        datetime(2024, 3, 2, tzinfo=UTC),
        Interval.MONTH,
        ZoneInfo("UTC"),
    )
    assert [b.starts.date() for b in months] == [
        date(2024, 1, 15),
        date(2024, 2, 1),
        date(2024, 3, 1),
    ]


@pytest.mark.parametrize(
    ("values", "p50", "p90"),
    [
        # n = 1: both are the value.
        ([7.0], 7.0, 7.0),
        # n = 4: median at position 1.5 → (2 + 3) / 2; p90 at 2.7 → 3 + 0.7 × (10 − 3) = 7.9.
        ([10.0, 1.0, 3.0, 2.0], 2.5, 7.9),
        # n = 5: median is the middle one; p90 at 3.6 → 4 + 0.6 × (100 − 4) = 61.6.
        ([1.0, 2.0, 3.0, 4.0, 100.0], 3.0, 61.6),
    ],
)
async def test_percentiles_match_percentile_cont(
    services: Services, values: list[float], p50: float, p90: float
) -> None:
    rows = union_all(
        *[select(literal("g").label("g"), literal(v, Float).label("v")) for v in values],
        select(literal("g").label("g"), literal(None, Float).label("v")),
    ).subquery("rows")
    fractions = {"p50": Fraction(1, 2), "p90": Fraction(9, 10)}
    # The ranked form SQLite needs runs on either database; PostgreSQL's own is checked where
    # the suite runs on it.
    dialects = ["sqlite", *(["postgresql"] if services.db.dialect == "postgresql" else [])]
    async with services.db.transaction() as session:
        for dialect in dialects:
            stmt = percentiles(rows, group=["g"], value="v", fractions=fractions, dialect=dialect)
            row = (await session.execute(stmt)).one()
            assert (row.p50, row.p90) == pytest.approx((p50, p90)), dialect


async def test_seconds_between_timestamps(services: Services) -> None:
    later = literal(datetime(2024, 3, 2, 10, 0, 1, 500000, tzinfo=UTC), UTCDateTime())
    earlier = literal(datetime(2024, 3, 1, 9, 0, tzinfo=UTC), UTCDateTime())
    async with services.db.transaction() as session:
        value = await session.scalar(select(seconds_between(later, earlier, services.db.dialect)))
    assert value == pytest.approx(90001.5, abs=0.01)
