"""GraphQL types of analytics: reports and ad spend."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

import strawberry

from embedcrm.analytics import service as an
from embedcrm.analytics.models import AdSpend as AdSpendRow
from embedcrm.analytics.repository import Scope
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Node
from embedcrm.graphql.ids import parse_global_id, to_global_id
from embedcrm.graphql.nodes import loads_visible
from embedcrm.graphql.pipelines.types import StageKind
from embedcrm.graphql.workspaces.types import Member

Interval = strawberry.enum(an.Interval, name="AnalyticsInterval")


@strawberry.enum(description="Which visit a lead is credited to.")
class Touch(enum.Enum):
    FIRST = "FIRST"
    LAST = "LAST"


@strawberry.enum
class SpendGrouping(enum.Enum):
    SOURCE = "SOURCE"
    CAMPAIGN = "CAMPAIGN"


def money_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def optional_gid(
    type_name: str, workspace_id: uuid.UUID, row_id: uuid.UUID | None
) -> strawberry.ID | None:
    return None if row_id is None else strawberry.ID(to_global_id(type_name, workspace_id, row_id))


@strawberry.type
class FunnelStage:
    stage_id: strawberry.ID
    name: str
    kind: StageKind  # type: ignore[valid-type]
    position: int
    probability: int
    reached: int = strawberry.field(description="Leads that stood here or went past it.")
    conversion_to_next: float | None
    conversion_to_won: float | None
    median_seconds_in_stage: float | None = strawberry.field(
        description="Median of finished stays here."
    )


@strawberry.type
class Funnel:
    pipeline_id: strawberry.ID | None
    leads: int
    won: int
    lost: int
    stages: list[FunnelStage]


@strawberry.type
class SourceReport:
    source: str | None
    medium: str | None
    campaign: str | None
    leads: int
    won: int
    revenue: str
    conversion: float | None
    label: str = strawberry.field(
        description="The source as a person reads it: untagged traffic (source null) is "
        "«прямой заход» / direct, in the workspace's language."
    )
    won_without_value: int = strawberry.field(
        description="Won leads with no value: they add nothing to revenue."
    )


@strawberry.type
class SpendReport:
    source: str | None
    campaign: str | None
    leads: int
    won: int
    revenue: str
    spend: str
    cost_per_lead: str | None
    cost_per_won: str | None
    roi: float | None = strawberry.field(description="(revenue − spend) / spend.")
    payback: float | None = strawberry.field(description="revenue / spend; 1 = paid back.")
    label: str = strawberry.field(
        description="The source as a person reads it: untagged traffic (source null) is "
        "«прямой заход» / direct, in the workspace's language."
    )
    won_without_value: int = strawberry.field(
        description="Won leads with no value: they add nothing to revenue."
    )


@strawberry.type
class ManagerReport:
    member_id: strawberry.ID | None = strawberry.field(description="Null: leads nobody has.")
    leads: int
    answered: int
    median_first_response_seconds: float | None
    p90_first_response_seconds: float | None
    won: int
    lost: int
    win_rate: float | None = strawberry.field(description="won / (won + lost).")
    revenue: str
    overdue_tasks: int
    label: str = strawberry.field(
        description="The member's name; for leads nobody has (memberId null) «не назначен» / "
        "unassigned, in the workspace's language."
    )
    won_without_value: int = strawberry.field(
        description="Won leads with no value: they add nothing to revenue."
    )
    _workspace_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def member(self, info: Info) -> Member | None:
        if self.member_id is None:
            return None
        gid = parse_global_id(self.member_id)
        row = await info.context.loaders.members.load((self._workspace_id, gid.row_id))
        return Member.of(row) if row else None


@strawberry.type
class ForecastMonth:
    month: date | None = strawberry.field(description="First day of the month; null: no date.")
    leads: int
    value: str
    weighted_value: str = strawberry.field(description="Σ value × stage probability.")


@strawberry.type
class Forecast:
    months: list[ForecastMonth]
    undated: ForecastMonth
    open_pipeline: ForecastMonth


@strawberry.type
class Profitability:
    won: int
    revenue: str
    costed_deals: int = strawberry.field(description="Won deals whose every item has a cost.")
    sales: str = strawberry.field(description="Items' price × quantity of the costed deals.")
    cost_of_goods: str
    gross_profit: str
    margin: float | None


@strawberry.type
class FormReport:
    site_id: strawberry.ID
    form: str
    views: int
    starts: int
    submissions: int
    start_rate: float | None
    submit_rate: float | None
    conversion: float | None


@strawberry.type
class TimePoint:
    starts_at: datetime
    ends_at: datetime
    leads: int
    won: int
    revenue: str


def forecast_month(row: an.ForecastRow) -> ForecastMonth:
    return ForecastMonth(
        month=row.month,
        leads=row.leads,
        value=money_text(row.value) or "0.00",
        weighted_value=money_text(row.weighted) or "0.00",
    )


@strawberry.type(description="The reports of one workspace over one period and filter.")
class Analytics:
    _workspace_id: strawberry.Private[uuid.UUID]
    scope_of: strawberry.Private[Scope]

    @strawberry.field(
        description="How many seconds behind the primary the reports' data are: 0 when they "
        "are read from the primary, or from a replica that has replayed all it received."
    )
    async def lag_seconds(self, info: Info) -> float:
        return await info.context.services.analytics.lag_seconds()

    @strawberry.field
    async def funnel(self, info: Info) -> Funnel:
        ws = self._workspace_id
        result = await info.context.services.analytics.funnel(
            info.context.principal, ws, self.scope_of
        )
        return Funnel(
            pipeline_id=optional_gid("Pipeline", ws, result.pipeline_id),
            leads=result.leads,
            won=result.won,
            lost=result.lost,
            stages=[
                FunnelStage(
                    stage_id=strawberry.ID(to_global_id("Stage", ws, s.stage_id)),
                    name=s.name,
                    kind=s.kind,
                    position=s.position,
                    probability=s.probability,
                    reached=s.reached,
                    conversion_to_next=s.conversion_to_next,
                    conversion_to_won=s.conversion_to_won,
                    median_seconds_in_stage=s.median_seconds,
                )
                for s in result.stages
            ],
        )

    @strawberry.field
    async def sources(self, info: Info, touch: Touch = Touch.LAST) -> list[SourceReport]:
        rows = await info.context.services.analytics.sources(
            info.context.principal,
            self._workspace_id,
            self.scope_of,
            first_touch=touch == Touch.FIRST,
        )
        return [
            SourceReport(
                source=r.source,
                medium=r.medium,
                campaign=r.campaign,
                leads=r.leads,
                won=r.won,
                revenue=money_text(r.revenue) or "0.00",
                conversion=r.conversion,
                label=r.label,
                won_without_value=r.won_without_value,
            )
            for r in rows
        ]

    @strawberry.field(description="Leads and revenue beside ad spend; spend ignores site/manager.")
    async def spend(
        self,
        info: Info,
        group_by: SpendGrouping = SpendGrouping.CAMPAIGN,
        touch: Touch = Touch.LAST,
    ) -> list[SpendReport]:
        rows = await info.context.services.analytics.spend(
            info.context.principal,
            self._workspace_id,
            self.scope_of,
            by_campaign=group_by == SpendGrouping.CAMPAIGN,
            first_touch=touch == Touch.FIRST,
        )
        return [
            SpendReport(
                source=r.source,
                campaign=r.campaign,
                leads=r.leads,
                won=r.won,
                revenue=money_text(r.revenue) or "0.00",
                spend=money_text(r.spend) or "0.00",
                cost_per_lead=money_text(r.cost_per_lead),
                cost_per_won=money_text(r.cost_per_won),
                roi=r.roi,
                payback=r.payback,
                label=r.label,
                won_without_value=r.won_without_value,
            )
            for r in rows
        ]

    @strawberry.field
    async def managers(self, info: Info) -> list[ManagerReport]:
        ws = self._workspace_id
        rows = await info.context.services.analytics.managers(
            info.context.principal, ws, self.scope_of
        )
        return [
            ManagerReport(
                member_id=optional_gid("Member", ws, r.member_id),
                leads=r.leads,
                answered=r.answered,
                median_first_response_seconds=r.median_response_seconds,
                p90_first_response_seconds=r.p90_response_seconds,
                won=r.won,
                lost=r.lost,
                win_rate=r.win_rate,
                revenue=money_text(r.revenue) or "0.00",
                overdue_tasks=r.overdue_tasks,
                label=r.label,
                won_without_value=r.won_without_value,
                _workspace_id=ws,
            )
            for r in rows
        ]

    @strawberry.field(description="Open leads by local month of expected close in the period.")
    async def forecast(self, info: Info) -> Forecast:
        result = await info.context.services.analytics.forecast(
            info.context.principal, self._workspace_id, self.scope_of
        )
        return Forecast(
            months=[forecast_month(m) for m in result.months],
            undated=forecast_month(result.undated),
            open_pipeline=forecast_month(result.total),
        )

    @strawberry.field(description="Deals won in the period and their gross profit.")
    async def profitability(self, info: Info) -> Profitability:
        r = await info.context.services.analytics.profitability(
            info.context.principal, self._workspace_id, self.scope_of
        )
        return Profitability(
            won=r.won,
            revenue=money_text(r.revenue) or "0.00",
            costed_deals=r.costed,
            sales=money_text(r.sales) or "0.00",
            cost_of_goods=money_text(r.cost_of_goods) or "0.00",
            gross_profit=money_text(r.gross_profit) or "0.00",
            margin=r.margin,
        )

    @strawberry.field(description="Views, starts (sampled, scaled up) and submissions per form.")
    async def forms(self, info: Info) -> list[FormReport]:
        ws = self._workspace_id
        rows = await info.context.services.analytics.forms(
            info.context.principal, ws, self.scope_of
        )
        return [
            FormReport(
                site_id=strawberry.ID(to_global_id("Site", ws, r.site_id)),
                form=r.form,
                views=r.views,
                starts=r.starts,
                submissions=r.submissions,
                start_rate=r.start_rate,
                submit_rate=r.submit_rate,
                conversion=r.conversion,
            )
            for r in rows
        ]

    @strawberry.field(description="New leads, wins and revenue per local day, week or month.")
    async def time_series(self, info: Info, interval: Interval) -> list[TimePoint]:  # type: ignore[valid-type]
        points = await info.context.services.analytics.time_series(
            info.context.principal, self._workspace_id, self.scope_of, interval
        )
        return [
            TimePoint(
                starts_at=p.starts,
                ends_at=p.ends,
                leads=p.leads,
                won=p.won,
                revenue=money_text(p.revenue) or "0.00",
            )
            for p in points
        ]


@strawberry.type
class AdSpend(Node):
    source: str
    campaign: str | None
    starts_on: date
    ends_on: date
    amount: str
    currency: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: AdSpendRow) -> AdSpend:
        return cls(
            id=strawberry.ID(to_global_id("AdSpend", row.workspace_id, row.id)),
            source=row.source,
            campaign=row.campaign or None,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            amount=money_text(row.amount) or "0.00",
            currency=row.currency,
            created_at=row.created_at,
        )


loads_visible("AdSpend", AdSpend.of, lambda s: s.analytics.spend_entry)
