"""The reports' SQL. Every query is bound to one workspace and aggregates in the database.

Definitions the numbers follow:

- A report's *cohort* is the leads created in the period (and matching the filters); funnel,
  sources, spend and managers count what became of that cohort, so a lead created in March and
  won in April counts as March's.
- An outcome is the lead's status now (``Lead.status``): won, lost or open. A lead lost and
  then won is won, once, in every report; the funnel's stages still show where it stood.
- Time series and profitability count wins when they happened: a lead whose status is won is
  won at its last move into a WON stage inside the period, read from the stage history.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    Integer,
    Numeric,
    Select,
    and_,
    case,
    cast,
    column,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE, Subquery

from embedcrm.analytics.models import AdSpend, AdSpendDay, FormEventDay
from embedcrm.analytics.sql import percentiles, seconds_between, upsert_adding
from embedcrm.capture.models import Submission, SubmissionStatus
from embedcrm.contacts.models import Contact
from embedcrm.db import UTCDateTime
from embedcrm.leads.models import Lead, LeadItem, LeadStageChange, LeadStatus, stage_key
from embedcrm.pipelines.models import Stage, StageKind
from embedcrm.tasks.models import Task

# The expected close time is this area's column on `leads` (migration 0007); the lead model
# belongs to the CRM area, so it is reached by name here instead of through the model.
EXPECTED_CLOSE_AT: ColumnElement[datetime] = literal_column(
    "leads.expected_close_at", UTCDateTime()
)
LEAD_CLOSE = table(
    "leads",
    column("workspace_id"),
    column("id"),
    column("expected_close_at", UTCDateTime()),
)

MONEY = Numeric(18, 2)
MEDIAN = Fraction(1, 2)
P90 = Fraction(9, 10)


@dataclass(frozen=True)
class Scope:
    """The period (half-open, UTC) and the optional filters every lead-based report takes."""

    starts: datetime
    ends: datetime
    site_id: uuid.UUID | None = None
    pipeline_id: uuid.UUID | None = None
    source: str | None = None
    manager_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Bucket:
    index: int
    starts: datetime
    ends: datetime


class AnalyticsRepository:
    """Report queries for one workspace; each returns aggregated rows only."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    # ---- building blocks -------------------------------------------------------------------

    def _lead_filters(self, scope: Scope) -> list[ColumnElement[bool]]:
        filters: list[ColumnElement[bool]] = [Lead.workspace_id == self.workspace_id]
        if scope.site_id is not None:
            filters.append(Lead.site_id == scope.site_id)
        if scope.pipeline_id is not None:
            filters.append(Lead.pipeline_id == scope.pipeline_id)
        if scope.source is not None:
            filters.append(Lead.utm_source == scope.source)
        if scope.manager_id is not None:
            filters.append(Lead.assignee_id == scope.manager_id)
        return filters

    def _cohort_filters(self, scope: Scope) -> list[ColumnElement[bool]]:
        return [
            *self._lead_filters(scope),
            Lead.created_at >= scope.starts,
            Lead.created_at < scope.ends,
        ]

    def _wins(self, scope: Scope) -> CTE:
        """(lead_id, won_at, value): leads of the scope that moved into a WON stage in the period.

        A CTE, so that a query reading it twice (profitability) computes it once.
        """
        change = LeadStageChange
        moves = (
            select(change.lead_id, func.max(change.changed_at).label("won_at"))
            .join(
                Stage,
                and_(
                    Stage.workspace_id == change.workspace_id,
                    Stage.id == change.to_stage_id,
                    Stage.kind == StageKind.WON,
                ),
            )
            .where(
                change.workspace_id == self.workspace_id,
                change.changed_at >= scope.starts,
                change.changed_at < scope.ends,
            )
            .group_by(change.lead_id)
            .subquery("moves")
        )
        return (
            select(Lead.id.label("lead_id"), moves.c.won_at, Lead.value)
            .join(moves, moves.c.lead_id == Lead.id)
            .where(*self._lead_filters(scope), Lead.status == LeadStatus.WON)
            .cte("wins")
        )

    @staticmethod
    def _buckets(buckets: Sequence[Bucket]) -> Subquery:
        # A UNION ALL of literal rows rather than VALUES: SQLite cannot name VALUES columns.
        rows = [
            select(
                cast(literal(b.index), Integer).label("i"),
                literal(b.starts, UTCDateTime()).label("starts"),
                literal(b.ends, UTCDateTime()).label("ends"),
            )
            for b in buckets
        ]
        return (
            union_all(*rows).subquery("buckets") if len(rows) > 1 else rows[0].subquery("buckets")
        )

    # ---- funnel ----------------------------------------------------------------------------

    async def funnel(
        self, scope: Scope, pipeline_id: uuid.UUID
    ) -> tuple[list[tuple[Stage, int, float | None]], tuple[int, int, int]]:
        """Each stage of the pipeline with the cohort's leads that reached it and their median
        seconds in it; and the cohort's leads, won and lost. One statement.

        A lead reached an OPEN stage when it ever stood there or further on, or was won:
        skipping a stage is passing it. A WON or LOST stage is reached by standing in it.
        Where a lead stood is its stage now and the stages it left (``Lead.past_stages``).
        Won and lost are the leads' status now: a lead lost and then won counts once, as won,
        although it reached both closing stages.
        """
        ws = self.workspace_id
        change = LeadStageChange
        cohort = (
            select(Lead.id, Lead.stage_id, Lead.past_stages, Lead.status)
            .where(*self._cohort_filters(scope), Lead.pipeline_id == pipeline_id)
            .cte("cohort")
        )
        # Tens of thousands of leads walk a few paths: stages are matched against the paths.
        paths = (
            select(
                cohort.c.stage_id,
                cohort.c.past_stages,
                cohort.c.status,
                func.count().label("leads"),
            )
            .group_by(cohort.c.stage_id, cohort.c.past_stages, cohort.c.status)
            .cte("paths")
        )
        stood = or_(Stage.id == paths.c.stage_id, paths.c.past_stages.contains(stage_key(Stage.id)))
        visits = (
            select(
                paths.c.stage_id.label("now_at"),
                paths.c.past_stages,
                paths.c.status,
                paths.c.leads,
                Stage.id.label("stage_id"),
                Stage.kind,
                Stage.position,
            )
            .select_from(paths)
            .join(Stage, and_(Stage.workspace_id == ws, Stage.pipeline_id == pipeline_id, stood))
            .cte("visits")
        )
        per_path = (
            select(
                func.max(visits.c.leads).label("leads"),
                func.max(case((visits.c.kind == StageKind.OPEN, visits.c.position))).label(
                    "furthest"
                ),
                # Stood in a WON stage at some time: it went past every open stage.
                func.max(case((visits.c.kind == StageKind.WON, 1), else_=0)).label("went_won"),
                # The outcome is the status now, as in every other report.
                func.max(case((visits.c.status == LeadStatus.WON, 1), else_=0)).label("won"),
                func.max(case((visits.c.status == LeadStatus.LOST, 1), else_=0)).label("lost"),
            )
            .group_by(visits.c.now_at, visits.c.past_stages, visits.c.status)
            .cte("per_path")
        )
        open_reached = (
            select(func.sum(per_path.c.leads))
            .where(or_(per_path.c.went_won == 1, per_path.c.furthest >= Stage.position))
            .scalar_subquery()
        )
        closed_reached = (
            select(func.sum(visits.c.leads)).where(visits.c.stage_id == Stage.id).scalar_subquery()
        )
        # Each finished stay of a cohort lead, from entering a stage to the move out of it.
        stays = (
            select(
                change.from_stage_id.label("stage_id"),
                seconds_between(change.changed_at, change.entered_at, self.dialect).label(
                    "seconds"
                ),
            )
            .join(cohort, cohort.c.id == change.lead_id)
            .where(
                change.workspace_id == ws,
                change.lead_created_at >= scope.starts,
                change.lead_created_at < scope.ends,
                change.from_stage_id.is_not(None),
            )
            .subquery("stays")
        )
        # Materialized, so that the planner computes them once rather than once per stage.
        medians = (
            percentiles(
                stays,
                group=["stage_id"],
                value="seconds",
                fractions={"p50": MEDIAN},
                dialect=self.dialect,
            )
            .cte("medians")
            .prefix_with("MATERIALIZED")
        )
        stmt = (
            select(
                Stage,
                case((Stage.kind == StageKind.OPEN, open_reached), else_=closed_reached),
                medians.c.p50,
                select(func.sum(per_path.c.leads)).scalar_subquery(),
                select(func.sum(per_path.c.leads * per_path.c.won)).scalar_subquery(),
                select(func.sum(per_path.c.leads * per_path.c.lost)).scalar_subquery(),
            )
            .outerjoin(medians, medians.c.stage_id == Stage.id)
            .where(Stage.workspace_id == ws, Stage.pipeline_id == pipeline_id)
            .order_by(Stage.position, Stage.id)
        )
        rows = (await self.session.execute(stmt)).all()
        stages = [(row[0], int(row[1] or 0), _float(row[2])) for row in rows]
        totals = rows[0][3:] if rows else (0, 0, 0)
        return stages, (int(totals[0] or 0), int(totals[1] or 0), int(totals[2] or 0))

    # ---- sources and spend -----------------------------------------------------------------

    @staticmethod
    def touch_keys(first: bool) -> tuple[Any, Any, Any]:
        """(source, medium, campaign) of the last touch (the lead's own UTM) or the first.

        The first touch is the visitor's first visit as the widget remembered it on the lead;
        without one, the contact's first known touch; without that, the lead's own UTM (its
        first touch is then its last).
        """
        if not first:
            return Lead.utm_source, Lead.utm_medium, Lead.utm_campaign
        lead_ft = Lead.first_touch
        contact_ft = Contact.first_touch
        lead_has = or_(
            lead_ft["page_url"].as_string().is_not(None),
            lead_ft[("utm", "source")].as_string().is_not(None),
            lead_ft["referrer"].as_string().is_not(None),
        )
        contact_has = or_(
            contact_ft["utm_source"].as_string().is_not(None),
            contact_ft["referrer"].as_string().is_not(None),
            contact_ft["landing_page"].as_string().is_not(None),
        )

        def pick(name: str, own: Any) -> ColumnElement[Any]:
            return case(
                (lead_has, lead_ft[("utm", name)].as_string()),
                (contact_has, contact_ft[f"utm_{name}"].as_string()),
                else_=own,
            )

        return (
            pick("source", Lead.utm_source),
            pick("medium", Lead.utm_medium),
            pick("campaign", Lead.utm_campaign),
        )

    def _with_contact(self, stmt: Select[Any], first: bool) -> Select[Any]:
        if not first:
            return stmt
        return stmt.join(
            Contact, and_(Contact.workspace_id == Lead.workspace_id, Contact.id == Lead.contact_id)
        )

    def _outcomes(self) -> list[ColumnElement[Any]]:
        won = Lead.status == LeadStatus.WON
        return [
            func.count(Lead.id).label("leads"),
            func.sum(case((won, 1), else_=0)).label("won"),
            func.coalesce(func.sum(case((won, Lead.value), else_=0)), 0).label("revenue"),
            # Won with no value: they add nothing to the revenue, so the report says how many.
            func.sum(case((and_(won, Lead.value.is_(None)), 1), else_=0)).label("no_value"),
        ]

    async def sources(self, scope: Scope, *, first: bool) -> list[tuple[Any, ...]]:
        """(source, medium, campaign, leads, won, revenue, won without a value) of the cohort,
        most leads first."""
        source, medium, campaign = self.touch_keys(first)
        keys = [source.label("source"), medium.label("medium"), campaign.label("campaign")]
        stmt = self._with_contact(select(*keys, *self._outcomes()).select_from(Lead), first)
        stmt = (
            stmt.where(*self._cohort_filters(scope))
            .group_by(source, medium, campaign)
            .order_by(func.count(Lead.id).desc(), source, medium, campaign)
        )
        return [tuple(row) for row in (await self.session.execute(stmt)).all()]

    async def spend_report(
        self, scope: Scope, *, first_day: date, last_day: date, by_campaign: bool, first: bool
    ) -> list[tuple[Any, ...]]:
        """(source, campaign, leads, won, revenue, spend, won without a value) by source or by
        source and campaign.

        Leads and spend meet on their keys; a missing campaign is the empty string on both
        sides, so spend entered for a whole source stands on its own row.
        """
        source, _, campaign = self.touch_keys(first)
        lead_source = func.coalesce(source, "")
        lead_campaign = func.coalesce(campaign, "") if by_campaign else literal("")
        zero_money = cast(literal(0), MONEY)
        leads = self._with_contact(
            select(
                lead_source.label("source"),
                lead_campaign.label("campaign"),
                *self._outcomes(),
                zero_money.label("spend"),
            ).select_from(Lead),
            first,
        ).where(*self._cohort_filters(scope))
        leads = leads.group_by(lead_source, lead_campaign)
        day = AdSpendDay
        spend_campaign = day.campaign if by_campaign else literal("")
        spend = select(
            day.source,
            spend_campaign.label("campaign"),
            literal(0).label("leads"),
            literal(0).label("won"),
            zero_money.label("revenue"),
            literal(0).label("no_value"),
            cast(func.sum(day.amount), MONEY).label("spend"),
        ).where(day.workspace_id == self.workspace_id, day.day >= first_day, day.day <= last_day)
        if scope.source is not None:
            spend = spend.where(day.source == scope.source)
        spend = spend.group_by(day.source, spend_campaign)
        both = union_all(leads, spend).subquery("both")
        stmt = (
            select(
                both.c.source,
                both.c.campaign,
                func.sum(both.c.leads),
                func.sum(both.c.won),
                cast(func.sum(both.c.revenue), MONEY),
                cast(func.sum(both.c.spend), MONEY),
                func.sum(both.c.no_value),
            )
            .group_by(both.c.source, both.c.campaign)
            .order_by(both.c.source, both.c.campaign)
        )
        return [tuple(row) for row in (await self.session.execute(stmt)).all()]

    # ---- managers --------------------------------------------------------------------------

    async def managers(
        self, scope: Scope, *, now: datetime
    ) -> tuple[list[tuple[Any, ...]], dict[Any, int]]:
        """Per assignee: outcomes of the cohort with first-response percentiles; overdue tasks.

        Each row is (assignee, leads, answered, won, lost, revenue, won without a value, p50,
        p90). A lead is
        answered at ``Lead.first_response_at``: the first activity of a member of the kinds in
        RESPONSE_KINDS, or its first-response task marked done.
        """
        ws = self.workspace_id
        cohort = (
            select(
                Lead.assignee_id,
                Lead.status,
                Lead.value,
                seconds_between(Lead.first_response_at, Lead.created_at, self.dialect).label(
                    "seconds"
                ),
            )
            .where(*self._cohort_filters(scope))
            .cte("cohort")
        )
        speed = percentiles(
            cohort,
            group=["assignee_id"],
            value="seconds",
            fractions={"p50": MEDIAN, "p90": P90},
            dialect=self.dialect,
        ).subquery("speed")
        won = cohort.c.status == LeadStatus.WON
        outcomes = (
            select(
                cohort.c.assignee_id,
                func.count().label("leads"),
                func.count(cohort.c.seconds).label("answered"),
                func.sum(case((won, 1), else_=0)).label("won"),
                func.sum(case((cohort.c.status == LeadStatus.LOST, 1), else_=0)).label("lost"),
                func.coalesce(func.sum(case((won, cohort.c.value), else_=0)), 0).label("revenue"),
                func.sum(case((and_(won, cohort.c.value.is_(None)), 1), else_=0)).label("no_value"),
            )
            .group_by(cohort.c.assignee_id)
            .subquery("outcomes")
        )
        stmt = select(*outcomes.c, speed.c.p50, speed.c.p90).outerjoin(
            speed, outcomes.c.assignee_id.is_not_distinct_from(speed.c.assignee_id)
        )
        overdue = (
            select(Task.assignee_id, func.count())
            .where(Task.workspace_id == ws, Task.done_at.is_(None), Task.due_at < now)
            .group_by(Task.assignee_id)
        )
        if scope.manager_id is not None:
            overdue = overdue.where(Task.assignee_id == scope.manager_id)
        rows = [tuple(r) for r in (await self.session.execute(stmt)).all()]
        late = {r[0]: int(r[1]) for r in (await self.session.execute(overdue)).all()}
        return rows, late

    # ---- forecast and profitability --------------------------------------------------------

    async def forecast(
        self, scope: Scope, buckets: Sequence[Bucket]
    ) -> tuple[list[tuple[Any, ...]], tuple[Any, ...], tuple[Any, ...]]:
        """Open leads by expected close bucket, those with no date, and the whole open pipeline.

        Each row is (leads, value, value × probability); the weighted value is summed in
        percent-units and divided once by the caller, so SQLite's integer division never
        truncates a cent.
        """
        # The bucket as a CASE over the few month boundaries, not a join to them: a join tests
        # every open lead against every bucket.
        bucket = case(
            *(
                (
                    and_(
                        EXPECTED_CLOSE_AT >= literal(b.starts, UTCDateTime()),
                        EXPECTED_CLOSE_AT < literal(b.ends, UTCDateTime()),
                    ),
                    literal(b.index, Integer),
                )
                for b in buckets
            ),
            else_=None,
        )
        undated_flag = case((EXPECTED_CLOSE_AT.is_(None), 1), else_=0)
        # The open leads are grouped by stage first, reading leads alone (an index-only scan of
        # ix_leads_open_pipeline on PostgreSQL), and only the few groups meet their stage's
        # probability: joined lead by lead, the planner reaches the leads stage by stage through
        # the table instead.
        per_stage = (
            select(
                Lead.stage_id,
                bucket.label("bucket"),
                undated_flag.label("undated"),
                func.count().label("leads"),
                func.sum(Lead.value).label("value"),
            )
            .where(
                *self._lead_filters(scope),
                # A literal, not a parameter: every plan, cached or not, estimates the open
                # leads from the column's statistics.
                Lead.status == literal(LeadStatus.OPEN.value, literal_execute=True),
            )
            .group_by(Lead.stage_id, bucket, undated_flag)
            .subquery("per_stage")
        )
        # Each falls in at most one bucket (or none, or has no date), and the whole pipeline is
        # the sum of those few groups.
        stmt = (
            select(
                func.sum(per_stage.c.leads),
                func.coalesce(func.sum(per_stage.c.value), 0),
                func.coalesce(func.sum(per_stage.c.value * Stage.probability), 0),
                per_stage.c.bucket,
                per_stage.c.undated,
            )
            .select_from(per_stage)
            .join(
                Stage,
                and_(Stage.workspace_id == self.workspace_id, Stage.id == per_stage.c.stage_id),
            )
            .group_by(per_stage.c.bucket, per_stage.c.undated)
        )
        groups = [tuple(r) for r in (await self.session.execute(stmt)).all()]

        def summed(rows: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
            return (
                sum(int(r[0] or 0) for r in rows),
                sum((r[1] or 0) for r in rows),
                sum((r[2] or 0) for r in rows),
            )

        rows = sorted((g[:4] for g in groups if g[3] is not None), key=lambda r: r[3])
        return rows, summed([g for g in groups if g[4]]), summed(groups)

    async def profitability(self, scope: Scope) -> tuple[Any, ...]:
        """(deals won, revenue, deals with every item costed, their items' revenue, their cost)."""
        wins = self._wins(scope)
        # One row per won deal with its items summed: an indexed lookup of each deal's items,
        # rather than joining a separately grouped item table back (which the planner, unsure
        # how many wins there are, may loop over once per win).
        per_deal = (
            select(
                wins.c.lead_id,
                wins.c.value,
                func.sum(LeadItem.quantity * LeadItem.unit_price).label("sales"),
                func.sum(LeadItem.quantity * LeadItem.unit_cost).label("cost"),
                func.count(LeadItem.id).label("item_count"),
                func.sum(case((LeadItem.unit_cost.is_(None), 1), else_=0)).label("uncosted"),
            )
            .select_from(wins)
            .outerjoin(
                LeadItem,
                and_(
                    LeadItem.workspace_id == self.workspace_id,
                    LeadItem.lead_id == wins.c.lead_id,
                ),
            )
            .group_by(wins.c.lead_id, wins.c.value)
            .subquery("per_deal")
        )
        costed = and_(per_deal.c.item_count > 0, per_deal.c.uncosted == 0)
        stmt = select(
            func.count(per_deal.c.lead_id),
            func.coalesce(func.sum(per_deal.c.value), 0),
            func.coalesce(func.sum(case((costed, 1), else_=0)), 0),
            func.coalesce(func.sum(case((costed, per_deal.c.sales), else_=0)), 0),
            func.coalesce(func.sum(case((costed, per_deal.c.cost), else_=0)), 0),
        )
        return tuple((await self.session.execute(stmt)).one())

    async def set_expected_close(self, lead_id: uuid.UUID, at: datetime | None) -> bool:
        result = await self.session.execute(
            update(LEAD_CLOSE)
            .where(LEAD_CLOSE.c.workspace_id == self.workspace_id, LEAD_CLOSE.c.id == lead_id)
            .values(expected_close_at=at)
        )
        return bool(getattr(result, "rowcount", 0))

    async def expected_close(self, lead_id: uuid.UUID) -> datetime | None:
        value: datetime | None = await self.session.scalar(
            select(LEAD_CLOSE.c.expected_close_at).where(
                LEAD_CLOSE.c.workspace_id == self.workspace_id, LEAD_CLOSE.c.id == lead_id
            )
        )
        return value

    # ---- time series -----------------------------------------------------------------------

    async def series(
        self, scope: Scope, buckets: Sequence[Bucket]
    ) -> tuple[dict[int, int], dict[int, tuple[int, Any]]]:
        """New leads per bucket, and (wins, revenue) per bucket by when the win happened."""
        b = self._buckets(buckets)
        created = (
            select(b.c.i, func.count(Lead.id))
            .select_from(b)
            .join(
                Lead,
                and_(
                    *self._lead_filters(scope),
                    Lead.created_at >= b.c.starts,
                    Lead.created_at < b.c.ends,
                ),
            )
            .group_by(b.c.i)
        )
        wins = self._wins(scope)
        won = (
            select(b.c.i, func.count(wins.c.lead_id), func.coalesce(func.sum(wins.c.value), 0))
            .select_from(b)
            .join(wins, and_(wins.c.won_at >= b.c.starts, wins.c.won_at < b.c.ends))
            .group_by(b.c.i)
        )
        leads = {int(i): int(n) for i, n in (await self.session.execute(created)).all()}
        wins_by = {
            int(i): (int(n), money) for i, n, money in (await self.session.execute(won)).all()
        }
        return leads, wins_by

    # ---- forms -----------------------------------------------------------------------------

    async def forms(
        self, scope: Scope, *, first_day: date, last_day: date
    ) -> list[tuple[Any, ...]]:
        """(site_id, form, views, starts, submissions) per form; spam is not a submission."""
        ws = self.workspace_id
        events = select(
            FormEventDay.site_id,
            FormEventDay.form,
            func.sum(FormEventDay.views).label("views"),
            func.sum(FormEventDay.starts).label("starts"),
            literal(0).label("submissions"),
        ).where(
            FormEventDay.workspace_id == ws,
            FormEventDay.day >= first_day,
            FormEventDay.day <= last_day,
        )
        form_key = Submission.payload["form"].as_string()
        submitted = select(
            Submission.site_id,
            form_key.label("form"),
            literal(0).label("views"),
            literal(0).label("starts"),
            func.count(Submission.id).label("submissions"),
        ).where(
            Submission.workspace_id == ws,
            Submission.status.in_(
                [s for s in SubmissionStatus if s is not SubmissionStatus.QUARANTINED]
            ),
            Submission.created_at >= scope.starts,
            Submission.created_at < scope.ends,
        )
        if scope.site_id is not None:
            events = events.where(FormEventDay.site_id == scope.site_id)
            submitted = submitted.where(Submission.site_id == scope.site_id)
        both = union_all(
            events.group_by(FormEventDay.site_id, FormEventDay.form),
            submitted.group_by(Submission.site_id, form_key),
        ).subquery("both")
        stmt = (
            select(
                both.c.site_id,
                both.c.form,
                func.sum(both.c.views),
                func.sum(both.c.starts),
                func.sum(both.c.submissions),
            )
            .group_by(both.c.site_id, both.c.form)
            .order_by(both.c.site_id, both.c.form)
        )
        return [tuple(r) for r in (await self.session.execute(stmt)).all()]

    async def count_form_event(
        self, site_id: uuid.UUID, form: str, day: date, *, views: int, starts: int
    ) -> None:
        row = {
            "workspace_id": self.workspace_id,
            "site_id": site_id,
            "form": form,
            "day": day,
            "views": views,
            "starts": starts,
        }
        await self.session.execute(
            upsert_adding(
                self.dialect,
                FormEventDay.__table__,
                row,
                keys=["workspace_id", "site_id", "form", "day"],
                add=["views", "starts"],
            )
        )


class AdSpendRepository:
    """Spend entries and their days, for one workspace."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def add(self, entry: AdSpend, days: Sequence[tuple[date, Decimal]]) -> AdSpend:
        entry.workspace_id = self.workspace_id
        self.session.add(entry)
        for day, amount in days:
            self.session.add(
                AdSpendDay(
                    workspace_id=self.workspace_id,
                    spend_id=entry.id,
                    day=day,
                    source=entry.source,
                    campaign=entry.campaign,
                    amount=amount,
                )
            )
        return entry

    async def list(self, first_day: date, last_day: date) -> Sequence[AdSpend]:
        """Entries overlapping the days, in the order they start."""
        rows = await self.session.scalars(
            select(AdSpend)
            .where(
                AdSpend.workspace_id == self.workspace_id,
                AdSpend.starts_on <= last_day,
                AdSpend.ends_on >= first_day,
            )
            .order_by(AdSpend.starts_on, AdSpend.id)
        )
        return list(rows)

    async def get(self, spend_id: uuid.UUID) -> AdSpend | None:
        found: AdSpend | None = await self.session.scalar(
            select(AdSpend).where(AdSpend.workspace_id == self.workspace_id, AdSpend.id == spend_id)
        )
        return found

    async def delete(self, spend_id: uuid.UUID) -> bool:
        # Days go with their entry (ON DELETE CASCADE on PostgreSQL; SQLite's foreign keys are
        # on too, but deleting them here keeps it independent of the pragma).
        await self.session.execute(
            delete(AdSpendDay).where(
                AdSpendDay.workspace_id == self.workspace_id, AdSpendDay.spend_id == spend_id
            )
        )
        result = await self.session.execute(
            delete(AdSpend).where(AdSpend.workspace_id == self.workspace_id, AdSpend.id == spend_id)
        )
        return bool(getattr(result, "rowcount", 0))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
