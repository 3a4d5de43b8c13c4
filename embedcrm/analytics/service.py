"""Reports for the host's panel, spend entry and import, and the widget's form-event beacons.

Each report is one short read transaction whose queries aggregate in the database; what is
done here is arithmetic on those few aggregates (ratios, cents) and cutting the period into
the workspace's local days, weeks or months.
"""

from __future__ import annotations

import csv
import enum
import io
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.analytics.models import AdSpend
from embedcrm.analytics.repository import AdSpendRepository, AnalyticsRepository, Bucket, Scope
from embedcrm.auth import Principal
from embedcrm.db import Database, new_id, utcnow
from embedcrm.errors import NotFound, ValidationFailed
from embedcrm.kit.repository import NOWHERE
from embedcrm.leads.moves import get_lead
from embedcrm.pipelines.models import StageKind
from embedcrm.pipelines.service import default_pipeline
from embedcrm.workspaces.access import load_actor, reader_workspace, viewer_of
from embedcrm.workspaces.models import Site, Workspace
from embedcrm.workspaces.repository import MemberRepository, WorkspaceDirectory
from embedcrm.workspaces.words import word

CENT = Decimal("0.01")
MAX_BUCKETS = 400
MAX_PERIOD = timedelta(days=3 * 366)
MAX_SPEND_DAYS = 366
MAX_IMPORT_ROWS = 5000
MAX_SAMPLE_RATE = 1000
FORM_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
TIMEZONE_CACHE_SECONDS = 300.0


class Interval(enum.StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


class FormEventType(enum.StrEnum):
    VIEW = "view"
    START = "start"


def money(value: Any) -> Decimal:
    """An aggregate as cents. SQLite sums NUMERIC as floating point, so round once, here."""
    if value is None:
        return Decimal("0.00")
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(part: Decimal | int, whole: Decimal | int) -> float | None:
    return None if not whole else float(Decimal(part) / Decimal(whole))


# ---- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStage:
    stage_id: uuid.UUID
    name: str
    kind: StageKind
    position: int
    probability: int
    reached: int
    conversion_to_next: float | None
    conversion_to_won: float | None
    median_seconds: float | None


@dataclass(frozen=True)
class Funnel:
    pipeline_id: uuid.UUID | None
    leads: int
    won: int
    lost: int
    stages: list[FunnelStage] = field(default_factory=list)


@dataclass(frozen=True)
class SourceRow:
    source: str | None
    medium: str | None
    campaign: str | None
    leads: int
    won: int
    revenue: Decimal
    conversion: float | None
    # The source as a person reads it: untagged traffic is "direct" in the workspace's language.
    label: str = ""
    won_without_value: int = 0


@dataclass(frozen=True)
class SpendRow:
    source: str | None
    campaign: str | None
    leads: int
    won: int
    revenue: Decimal
    spend: Decimal
    cost_per_lead: Decimal | None
    cost_per_won: Decimal | None
    roi: float | None
    payback: float | None
    label: str = ""
    won_without_value: int = 0


@dataclass(frozen=True)
class ManagerRow:
    member_id: uuid.UUID | None
    leads: int
    answered: int
    median_response_seconds: float | None
    p90_response_seconds: float | None
    won: int
    lost: int
    win_rate: float | None
    revenue: Decimal
    overdue_tasks: int
    # The member's name, or "unassigned" in the workspace's language for leads nobody has.
    label: str = ""
    won_without_value: int = 0


@dataclass(frozen=True)
class ForecastRow:
    month: date | None
    leads: int
    value: Decimal
    weighted: Decimal


@dataclass(frozen=True)
class Forecast:
    months: list[ForecastRow]
    undated: ForecastRow
    total: ForecastRow


@dataclass(frozen=True)
class Profitability:
    won: int
    revenue: Decimal
    costed: int
    sales: Decimal
    cost_of_goods: Decimal
    gross_profit: Decimal
    margin: float | None


@dataclass(frozen=True)
class FormRow:
    site_id: uuid.UUID
    form: str
    views: int
    starts: int
    submissions: int
    start_rate: float | None
    submit_rate: float | None
    conversion: float | None


@dataclass(frozen=True)
class TimePoint:
    starts: datetime
    ends: datetime
    leads: int
    won: int
    revenue: Decimal


# ---- the local calendar ----------------------------------------------------------------------


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_days(starts: datetime, ends: datetime, tz: ZoneInfo) -> tuple[date, date]:
    """The local days a half-open period touches, both included."""
    last = (ends - timedelta(microseconds=1)).astimezone(tz).date()
    return starts.astimezone(tz).date(), last


def buckets(starts: datetime, ends: datetime, interval: Interval, tz: ZoneInfo) -> list[Bucket]:
    """The period cut at local midnights, Mondays or firsts of the month, as UTC instants.

    Computed from the calendar, not by adding hours, so a bucket that spans a daylight-saving
    change is 23 or 25 hours long, exactly as the owner's clock shows it. The first and last
    buckets are clipped to the period.
    """
    day = starts.astimezone(tz).date()
    if interval is Interval.WEEK:
        day -= timedelta(days=day.weekday())
    elif interval is Interval.MONTH:
        day = day.replace(day=1)
    result: list[Bucket] = []
    while True:
        nxt = _next(day, interval)
        lo = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
        hi = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).astimezone(UTC)
        if lo >= ends:
            break
        result.append(Bucket(len(result), max(lo, starts), min(hi, ends)))
        if len(result) > MAX_BUCKETS:
            raise ValidationFailed(
                f"More than {MAX_BUCKETS} points: choose a longer interval.", field="interval"
            )
        day = nxt
    return result


def _next(day: date, interval: Interval) -> date:
    if interval is Interval.DAY:
        return day + timedelta(days=1)
    if interval is Interval.WEEK:
        return day + timedelta(days=7)
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


# ---- the service -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewSpend:
    source: str
    campaign: str
    starts_on: date
    ends_on: date
    amount: Decimal
    currency: str | None = None


async def readable_scope(
    session: AsyncSession, principal: Principal, workspace_id: uuid.UUID, scope: Scope
) -> Scope:
    """The report's scope as the caller may read it: a MANAGER's reports count their own
    leads only (and the managers report shows their row alone), unless the workspace lets
    managers work everything. Asking for another manager's leads finds none."""
    viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
    own = viewer.sees_only_own
    if own is None:
        return scope
    return replace(scope, manager_id=own if scope.manager_id in (None, own) else NOWHERE)


class AnalyticsService:
    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock
        self._zones: dict[uuid.UUID, tuple[float, ZoneInfo]] = {}

    @staticmethod
    def _check(scope: Scope) -> None:
        if scope.starts.tzinfo is None or scope.ends.tzinfo is None:
            raise ValidationFailed("Give the period with a time zone.", field="filter.from")
        if scope.ends <= scope.starts:
            raise ValidationFailed("The period ends before it starts.", field="filter.to")
        if scope.ends - scope.starts > MAX_PERIOD:
            raise ValidationFailed("The period is longer than three years.", field="filter.to")

    async def lag_seconds(self) -> float:
        """How far behind the primary the reports' data are (0 without a read replica)."""
        return await self.db.read_lag_seconds()

    async def _workspace(self, session: Any, workspace_id: uuid.UUID) -> Workspace:
        workspace = await WorkspaceDirectory(session).get(workspace_id)
        if workspace is None:
            raise NotFound("No such workspace.", field="workspaceId")
        return workspace

    async def _zone(self, session: Any, workspace_id: uuid.UUID) -> ZoneInfo:
        return zone((await self._workspace(session, workspace_id)).timezone)

    async def funnel(self, principal: Principal, workspace_id: uuid.UUID, scope: Scope) -> Funnel:
        """Leads of the period on the pipeline (the default one unless the filter names one)."""
        self._check(scope)
        async with self.db.reading() as session:
            scope = await readable_scope(session, principal, workspace_id, scope)
            pipeline_id = scope.pipeline_id
            if pipeline_id is None:
                pipeline = await default_pipeline(session, workspace_id)
                if pipeline is None:
                    return Funnel(pipeline_id=None, leads=0, won=0, lost=0)
                pipeline_id = pipeline.id
            rows, (leads, won, lost) = await AnalyticsRepository(session, workspace_id).funnel(
                scope, pipeline_id
            )
        reached = {stage.id: count for stage, count, _ in rows}
        open_stages = [stage for stage, _, _ in rows if stage.kind is StageKind.OPEN]
        result: list[FunnelStage] = []
        for stage, count, median in rows:
            to_next: float | None = None
            to_won: float | None = None
            if stage.kind is StageKind.OPEN:
                later = [s for s in open_stages if s.position > stage.position]
                # Past the last open stage, "the next step" is winning.
                following = reached.get(later[0].id, 0) if later else won
                to_next = ratio(following, count)
                to_won = ratio(won, count)
            result.append(
                FunnelStage(
                    stage_id=stage.id,
                    name=stage.name,
                    kind=stage.kind,
                    position=stage.position,
                    probability=stage.probability,
                    reached=count,
                    conversion_to_next=to_next,
                    conversion_to_won=to_won,
                    median_seconds=median,
                )
            )
        return Funnel(pipeline_id=pipeline_id, leads=leads, won=won, lost=lost, stages=result)

    async def sources(
        self, principal: Principal, workspace_id: uuid.UUID, scope: Scope, *, first_touch: bool
    ) -> list[SourceRow]:
        self._check(scope)
        async with self.db.reading() as session:
            scope = await readable_scope(session, principal, workspace_id, scope)
            language = (await self._workspace(session, workspace_id)).language
            rows = await AnalyticsRepository(session, workspace_id).sources(
                scope, first=first_touch
            )
        return [
            SourceRow(
                source=source,
                medium=medium,
                campaign=campaign,
                leads=int(leads),
                won=int(won or 0),
                revenue=money(revenue),
                conversion=ratio(int(won or 0), int(leads)),
                label=source or word(language, "direct"),
                won_without_value=int(no_value or 0),
            )
            for source, medium, campaign, leads, won, revenue, no_value in rows
        ]

    async def spend(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        scope: Scope,
        *,
        by_campaign: bool,
        first_touch: bool = False,
    ) -> list[SpendRow]:
        """Leads, wins and revenue of the cohort beside the spend of the period's local days.

        ROI is (revenue − spend) / spend; payback is revenue / spend (1.0 = the spend has come
        back). Spend is entered per source and campaign, so the site and manager filters narrow
        the leads but not the spend.
        """
        self._check(scope)
        async with self.db.reading() as session:
            scope = await readable_scope(session, principal, workspace_id, scope)
            workspace = await self._workspace(session, workspace_id)
            first_day, last_day = local_days(scope.starts, scope.ends, zone(workspace.timezone))
            rows = await AnalyticsRepository(session, workspace_id).spend_report(
                scope,
                first_day=first_day,
                last_day=last_day,
                by_campaign=by_campaign,
                first=first_touch,
            )
        result: list[SpendRow] = []
        for source, campaign, leads, won, revenue, spent, no_value in rows:
            leads, won = int(leads or 0), int(won or 0)
            revenue, spent = money(revenue), money(spent)
            result.append(
                SpendRow(
                    source=source or None,
                    campaign=(campaign or None) if by_campaign else None,
                    leads=leads,
                    won=won,
                    revenue=revenue,
                    spend=spent,
                    cost_per_lead=money(spent / leads) if leads and spent else None,
                    cost_per_won=money(spent / won) if won and spent else None,
                    roi=ratio(revenue - spent, spent),
                    payback=ratio(revenue, spent),
                    label=source or word(workspace.language, "direct"),
                    won_without_value=int(no_value or 0),
                )
            )
        return result

    async def managers(
        self, principal: Principal, workspace_id: uuid.UUID, scope: Scope
    ) -> list[ManagerRow]:
        """Per assignee of the period's leads (None = unassigned); overdue tasks as of now."""
        self._check(scope)
        async with self.db.reading() as session:
            scope = await readable_scope(session, principal, workspace_id, scope)
            language = (await self._workspace(session, workspace_id)).language
            rows, late = await AnalyticsRepository(session, workspace_id).managers(
                scope, now=self.clock()
            )
            members = await MemberRepository(session, workspace_id).get_many(
                {r[0] for r in rows if r[0] is not None} | {m for m in late if m is not None}
            )

        def label(member_id: uuid.UUID | None) -> str:
            member = members.get(member_id) if member_id is not None else None
            if member is None:
                return word(language, "unassigned")
            return member.name or member.email or member.external_id

        result: list[ManagerRow] = []
        seen: set[uuid.UUID | None] = set()
        for member_id, leads, answered, won, lost, revenue, no_value, p50, p90 in rows:
            seen.add(member_id)
            won, lost = int(won or 0), int(lost or 0)
            result.append(
                ManagerRow(
                    member_id=member_id,
                    leads=int(leads),
                    answered=int(answered),
                    median_response_seconds=None if p50 is None else float(p50),
                    p90_response_seconds=None if p90 is None else float(p90),
                    won=won,
                    lost=lost,
                    win_rate=ratio(won, won + lost),
                    revenue=money(revenue),
                    overdue_tasks=late.get(member_id, 0),
                    label=label(member_id),
                    won_without_value=int(no_value or 0),
                )
            )
        # A member with overdue tasks but no new leads in the period still shows.
        for member_id, count in late.items():
            if member_id not in seen and member_id is not None:
                result.append(
                    ManagerRow(
                        member_id, 0, 0, None, None, 0, 0, None, money(0), count, label(member_id)
                    )
                )
        result.sort(key=lambda r: (r.member_id is None, -r.leads, str(r.member_id)))
        return result

    async def forecast(
        self, principal: Principal, workspace_id: uuid.UUID, scope: Scope
    ) -> Forecast:
        """Open leads weighted by their stage's probability, by local month of expected close."""
        self._check(scope)
        async with self.db.reading() as session:
            scope = await readable_scope(session, principal, workspace_id, scope)
            tz = await self._zone(session, workspace_id)
            months = buckets(scope.starts, scope.ends, Interval.MONTH, tz)
            rows, undated, total = await AnalyticsRepository(session, workspace_id).forecast(
                scope, months
            )

        def row(month: date | None, values: Sequence[Any]) -> ForecastRow:
            leads, value, weighted = values[0], values[1], values[2]
            return ForecastRow(
                month=month,
                leads=int(leads or 0),
                value=money(value),
                weighted=money(money(weighted) / 100),
            )

        by_index = {int(r[3]): r for r in rows}
        return Forecast(
            months=[
                row(
                    b.starts.astimezone(tz).date().replace(day=1),
                    by_index.get(b.index, (0, 0, 0)),
                )
                for b in months
            ],
            undated=row(None, undated),
            total=row(None, total),
        )

    async def profitability(
        self, principal: Principal, workspace_id: uuid.UUID, scope: Scope
    ) -> Profitability:
        """Deals won in the period; gross profit over those whose every item has a cost."""
        self._check(scope)
        async with self.db.reading() as session:
            scope = await readable_scope(session, principal, workspace_id, scope)
            won, revenue, costed, sales, cost = await AnalyticsRepository(
                session, workspace_id
            ).profitability(scope)
        sales, cost = money(sales), money(cost)
        return Profitability(
            won=int(won or 0),
            revenue=money(revenue),
            costed=int(costed or 0),
            sales=sales,
            cost_of_goods=cost,
            gross_profit=sales - cost,
            margin=ratio(sales - cost, sales),
        )

    async def time_series(
        self, principal: Principal, workspace_id: uuid.UUID, scope: Scope, interval: Interval
    ) -> list[TimePoint]:
        self._check(scope)
        async with self.db.reading() as session:
            scope = await readable_scope(session, principal, workspace_id, scope)
            tz = await self._zone(session, workspace_id)
            cuts = buckets(scope.starts, scope.ends, interval, tz)
            leads, wins = await AnalyticsRepository(session, workspace_id).series(scope, cuts)
        return [
            TimePoint(
                starts=b.starts,
                ends=b.ends,
                leads=leads.get(b.index, 0),
                won=wins.get(b.index, (0, 0))[0],
                revenue=money(wins.get(b.index, (0, 0))[1]),
            )
            for b in cuts
        ]

    async def forms(
        self, principal: Principal, workspace_id: uuid.UUID, scope: Scope
    ) -> list[FormRow]:
        """Views and starts the widget reported (scaled up by their sample rate), submissions
        stored; per site and form. Only the site filter applies."""
        self._check(scope)
        async with self.db.reading() as session:
            scope = await readable_scope(session, principal, workspace_id, scope)
            tz = await self._zone(session, workspace_id)
            first_day, last_day = local_days(scope.starts, scope.ends, tz)
            rows = await AnalyticsRepository(session, workspace_id).forms(
                scope, first_day=first_day, last_day=last_day
            )
        result = []
        for site_id, form, views, starts, submissions in rows:
            views, starts, submissions = int(views or 0), int(starts or 0), int(submissions or 0)
            result.append(
                FormRow(
                    site_id=site_id,
                    form=form or "",
                    views=views,
                    starts=starts,
                    submissions=submissions,
                    start_rate=ratio(starts, views),
                    submit_rate=ratio(submissions, starts),
                    conversion=ratio(submissions, views),
                )
            )
        return result

    # ---- expected close --------------------------------------------------------------------

    async def set_expected_close(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        lead_id: uuid.UUID,
        at: datetime | None,
    ) -> datetime | None:
        if at is not None and at.tzinfo is None:
            raise ValidationFailed("Give the time with a time zone.", field="expectedCloseAt")
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="leadId")
            lead = await get_lead(session, workspace_id, lead_id)
            actor.require_assigned(lead.assignee_id, "lead")
            repo = AnalyticsRepository(session, workspace_id)
            if not await repo.set_expected_close(lead_id, at):
                raise NotFound("Nothing has this id.", field="leadId")
            return await repo.expected_close(lead_id)

    # ---- ad spend --------------------------------------------------------------------------

    async def record_spend(
        self, principal: Principal, workspace_id: uuid.UUID, new: NewSpend
    ) -> AdSpend:
        reader_workspace(principal, workspace_id, field="workspaceId")
        entry, days = _spread(new, field_prefix="")
        async with self.db.transaction() as session:
            await self._zone(session, workspace_id)
            return AdSpendRepository(session, workspace_id).add(entry, days)

    async def import_spend_csv(
        self, principal: Principal, workspace_id: uuid.UUID, text: str
    ) -> list[AdSpend]:
        """Rows ``source,campaign,starts_on,ends_on,amount[,currency]`` with that header.

        All or nothing: one bad row rejects the file, naming the row, so a fixed file can be
        sent again without doubling what went in.
        """
        reader_workspace(principal, workspace_id, field="workspaceId")
        try:
            return await self._import_spend_rows(workspace_id, text)
        except csv.Error as exc:
            raise ValidationFailed(f"Not a CSV file: {exc}.", field="csv") from exc

    async def _import_spend_rows(self, workspace_id: uuid.UUID, text: str) -> list[AdSpend]:
        # newline=None reads \r\n, \n and a bare \r (old spreadsheet exports) as line ends.
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=None))
        needed = {"source", "starts_on", "ends_on", "amount"}
        if reader.fieldnames is None or not needed <= {f.strip() for f in reader.fieldnames}:
            raise ValidationFailed(
                "The header must name source, campaign, starts_on, ends_on, amount.", field="csv"
            )
        spread: list[tuple[AdSpend, list[tuple[date, Decimal]]]] = []
        for number, raw in enumerate(reader, start=2):
            if len(spread) >= MAX_IMPORT_ROWS:
                raise ValidationFailed(f"More than {MAX_IMPORT_ROWS} rows.", field="csv")
            row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
            try:
                new = NewSpend(
                    source=row.get("source", ""),
                    campaign=row.get("campaign", ""),
                    starts_on=date.fromisoformat(row.get("starts_on", "")),
                    ends_on=date.fromisoformat(row.get("ends_on", "")),
                    amount=Decimal(row.get("amount", "").replace(",", ".")),
                    currency=row.get("currency") or None,
                )
            except (ValueError, InvalidOperation) as exc:
                raise ValidationFailed(f"Row {number}: {exc}.", field="csv") from exc
            spread.append(_spread(new, field_prefix=f"Row {number}: "))
        async with self.db.transaction() as session:
            await self._zone(session, workspace_id)
            repo = AdSpendRepository(session, workspace_id)
            return [repo.add(entry, days) for entry, days in spread]

    async def list_spend(
        self, principal: Principal, workspace_id: uuid.UUID, first_day: date, last_day: date
    ) -> Sequence[AdSpend]:
        reader_workspace(principal, workspace_id, field="workspaceId")
        async with self.db.transaction() as session:
            return await AdSpendRepository(session, workspace_id).list(first_day, last_day)

    async def spend_entry(
        self, principal: Principal, workspace_id: uuid.UUID, spend_id: uuid.UUID
    ) -> AdSpend | None:
        reader_workspace(principal, workspace_id, field="id")
        async with self.db.transaction() as session:
            return await AdSpendRepository(session, workspace_id).get(spend_id)

    async def delete_spend(
        self, principal: Principal, workspace_id: uuid.UUID, spend_id: uuid.UUID
    ) -> None:
        reader_workspace(principal, workspace_id, field="workspaceId")
        async with self.db.transaction() as session:
            if not await AdSpendRepository(session, workspace_id).delete(spend_id):
                raise NotFound("Nothing has this id.", field="id")

    # ---- widget beacons --------------------------------------------------------------------

    async def count_form_event(self, site: Site, body: Any) -> None:
        """One sampled view or start of a form: ``sample_rate`` events counted as that many.

        Only the form's key and the day are kept: no address, no visitor id, nothing personal.
        """
        if not isinstance(body, dict):
            raise ValidationFailed("Send a JSON object.")
        try:
            kind = FormEventType(str(body.get("type")))
        except ValueError as exc:
            raise ValidationFailed("type is view or start.", field="type") from exc
        form = body.get("form")
        if not isinstance(form, str) or not FORM_KEY.match(form):
            raise ValidationFailed("form is a form's key.", field="form")
        rate = body.get("sample_rate", 1)
        if isinstance(rate, bool) or not isinstance(rate, int) or not 1 <= rate <= MAX_SAMPLE_RATE:
            raise ValidationFailed(
                f"sample_rate is a whole number from 1 to {MAX_SAMPLE_RATE}.", field="sample_rate"
            )
        async with self.db.transaction() as session:
            tz = await self._cached_zone(session, site.workspace_id)
            day = self.clock().astimezone(tz).date()
            await AnalyticsRepository(session, site.workspace_id).count_form_event(
                site.id,
                form,
                day,
                views=rate if kind is FormEventType.VIEW else 0,
                starts=rate if kind is FormEventType.START else 0,
            )

    async def _cached_zone(self, session: Any, workspace_id: uuid.UUID) -> ZoneInfo:
        # Beacons are the hottest public traffic; the zone rarely changes, so skip its lookup.
        cached = self._zones.get(workspace_id)
        if cached is not None and time.monotonic() - cached[0] < TIMEZONE_CACHE_SECONDS:
            return cached[1]
        tz = await self._zone(session, workspace_id)
        self._zones[workspace_id] = (time.monotonic(), tz)
        return tz


def _spread(new: NewSpend, *, field_prefix: str) -> tuple[AdSpend, list[tuple[date, Decimal]]]:
    """The entry and its amount split over its days; the last day takes the odd cents."""
    source, campaign = new.source.strip(), new.campaign.strip()
    if not source or len(source) > 200 or len(campaign) > 200:
        raise ValidationFailed(f"{field_prefix}source is 1 to 200 characters.", field="source")
    if new.ends_on < new.starts_on:
        raise ValidationFailed(f"{field_prefix}the period ends before it starts.", field="endsOn")
    count = (new.ends_on - new.starts_on).days + 1
    if count > MAX_SPEND_DAYS:
        raise ValidationFailed(f"{field_prefix}a period is at most a year.", field="endsOn")
    amount = new.amount.quantize(CENT, rounding=ROUND_HALF_UP) if new.amount.is_finite() else None
    if amount is None or amount < 0 or amount >= Decimal("1e12"):
        raise ValidationFailed(f"{field_prefix}the amount is not valid.", field="amount")
    currency = new.currency.strip().upper() if new.currency else None
    if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValidationFailed(f"{field_prefix}currency is a 3-letter code.", field="currency")
    share = (amount / count).quantize(CENT, rounding="ROUND_DOWN")
    days = [(new.starts_on + timedelta(days=i), share) for i in range(count)]
    days[-1] = (days[-1][0], amount - share * (count - 1))
    entry = AdSpend(
        id=new_id(),
        source=source,
        campaign=campaign,
        starts_on=new.starts_on,
        ends_on=new.ends_on,
        amount=amount,
        currency=currency,
        created_at=utcnow(),
    )
    return entry, days
