"""GraphQL for marketing analytics: reports the panel charts, ad spend, expected close dates.

``analytics(filter:)`` answers an object whose fields are the reports, so a panel asks for
exactly the charts it shows in one request, and each report runs only when asked for.
Money is a decimal string, ratios are fractions (0.25 = 25 %), durations are seconds.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry

from embedcrm.analytics import service as an
from embedcrm.analytics.models import AdSpend as AdSpendRow
from embedcrm.analytics.repository import Scope
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Node, UserError
from embedcrm.graphql.ids import parse_global_id, to_global_id
from embedcrm.graphql.pipelines.types import StageKind
from embedcrm.graphql.support import as_payload, optional_id, workspace_arg
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


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _gid(type_name: str, workspace_id: uuid.UUID, row_id: uuid.UUID | None) -> strawberry.ID | None:
    return None if row_id is None else strawberry.ID(to_global_id(type_name, workspace_id, row_id))


@strawberry.input(description="The period is half-open: from ≤ t < to.")
class AnalyticsFilter:
    from_: datetime = strawberry.field(name="from")
    to: datetime
    site_id: strawberry.ID | None = None
    pipeline_id: strawberry.ID | None = None
    source: str | None = strawberry.field(default=None, description="utm_source of the lead.")
    manager_id: strawberry.ID | None = strawberry.field(default=None, description="The assignee.")


def _scope(value: AnalyticsFilter, workspace_id: uuid.UUID) -> Scope:
    def row_id(raw: strawberry.ID | None, type_name: str, field: str) -> uuid.UUID | None:
        parsed = optional_id(raw, type_name, field)
        if parsed is None:
            return None
        # An id of another workspace matches nothing, exactly like an unknown one.
        return parsed.row_id if parsed.workspace_id == workspace_id else uuid.UUID(int=0)

    return Scope(
        starts=value.from_,
        ends=value.to,
        site_id=row_id(value.site_id, "Site", "filter.siteId"),
        pipeline_id=row_id(value.pipeline_id, "Pipeline", "filter.pipelineId"),
        source=value.source,
        manager_id=row_id(value.manager_id, "Member", "filter.managerId"),
    )


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


def _forecast_row(row: an.ForecastRow) -> ForecastMonth:
    return ForecastMonth(
        month=row.month,
        leads=row.leads,
        value=_money(row.value) or "0.00",
        weighted_value=_money(row.weighted) or "0.00",
    )


@strawberry.type(description="The reports of one workspace over one period and filter.")
class Analytics:
    _workspace_id: strawberry.Private[uuid.UUID]
    _scope: strawberry.Private[Scope]

    @strawberry.field
    async def funnel(self, info: Info) -> Funnel:
        ws = self._workspace_id
        result = await info.context.services.analytics.funnel(
            info.context.principal, ws, self._scope
        )
        return Funnel(
            pipeline_id=_gid("Pipeline", ws, result.pipeline_id),
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
            self._scope,
            first_touch=touch == Touch.FIRST,
        )
        return [
            SourceReport(
                source=r.source,
                medium=r.medium,
                campaign=r.campaign,
                leads=r.leads,
                won=r.won,
                revenue=_money(r.revenue) or "0.00",
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
            self._scope,
            by_campaign=group_by == SpendGrouping.CAMPAIGN,
            first_touch=touch == Touch.FIRST,
        )
        return [
            SpendReport(
                source=r.source,
                campaign=r.campaign,
                leads=r.leads,
                won=r.won,
                revenue=_money(r.revenue) or "0.00",
                spend=_money(r.spend) or "0.00",
                cost_per_lead=_money(r.cost_per_lead),
                cost_per_won=_money(r.cost_per_won),
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
            info.context.principal, ws, self._scope
        )
        return [
            ManagerReport(
                member_id=_gid("Member", ws, r.member_id),
                leads=r.leads,
                answered=r.answered,
                median_first_response_seconds=r.median_response_seconds,
                p90_first_response_seconds=r.p90_response_seconds,
                won=r.won,
                lost=r.lost,
                win_rate=r.win_rate,
                revenue=_money(r.revenue) or "0.00",
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
            info.context.principal, self._workspace_id, self._scope
        )
        return Forecast(
            months=[_forecast_row(m) for m in result.months],
            undated=_forecast_row(result.undated),
            open_pipeline=_forecast_row(result.total),
        )

    @strawberry.field(description="Deals won in the period and their gross profit.")
    async def profitability(self, info: Info) -> Profitability:
        r = await info.context.services.analytics.profitability(
            info.context.principal, self._workspace_id, self._scope
        )
        return Profitability(
            won=r.won,
            revenue=_money(r.revenue) or "0.00",
            costed_deals=r.costed,
            sales=_money(r.sales) or "0.00",
            cost_of_goods=_money(r.cost_of_goods) or "0.00",
            gross_profit=_money(r.gross_profit) or "0.00",
            margin=r.margin,
        )

    @strawberry.field(description="Views, starts (sampled, scaled up) and submissions per form.")
    async def forms(self, info: Info) -> list[FormReport]:
        ws = self._workspace_id
        rows = await info.context.services.analytics.forms(info.context.principal, ws, self._scope)
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
            info.context.principal, self._workspace_id, self._scope, interval
        )
        return [
            TimePoint(
                starts_at=p.starts,
                ends_at=p.ends,
                leads=p.leads,
                won=p.won,
                revenue=_money(p.revenue) or "0.00",
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
            amount=_money(row.amount) or "0.00",
            currency=row.currency,
            created_at=row.created_at,
        )


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(description="Reports over a period; a panel token sees its workspace only.")
    async def analytics(
        self, info: Info, filter: AnalyticsFilter, workspace_id: strawberry.ID | None = None
    ) -> Analytics:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        return Analytics(_workspace_id=workspace, _scope=_scope(filter, workspace))

    @strawberry.field(description="Spend entries overlapping the days, both included.")
    async def ad_spend(
        self,
        info: Info,
        from_day: date,
        to_day: date,
        workspace_id: strawberry.ID | None = None,
    ) -> list[AdSpend]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        rows = await info.context.services.analytics.list_spend(
            info.context.principal, workspace, from_day, to_day
        )
        return [AdSpend.of(row) for row in rows]


@strawberry.input
class RecordAdSpendInput:
    workspace_id: strawberry.ID | None = None
    source: str
    campaign: str | None = None
    starts_on: date
    ends_on: date = strawberry.field(description="Included.")
    amount: str
    currency: str | None = None


@strawberry.type
class RecordAdSpendPayload:
    ad_spend: AdSpend | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ImportAdSpendInput:
    workspace_id: strawberry.ID | None = None
    csv: str = strawberry.field(
        description="Header source,campaign,starts_on,ends_on,amount[,currency]; all or nothing."
    )


@strawberry.type
class ImportAdSpendPayload:
    ad_spend: list[AdSpend] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class DeleteAdSpendInput:
    id: strawberry.ID


@strawberry.type
class DeleteAdSpendPayload:
    deleted_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetLeadExpectedCloseInput:
    lead_id: strawberry.ID
    expected_close_at: datetime | None = None


@strawberry.type
class SetLeadExpectedClosePayload:
    lead_id: strawberry.ID | None = None
    expected_close_at: datetime | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AnalyticsMutation:
    @strawberry.mutation(description="Spend on a campaign over days; spread evenly over them.")
    async def record_ad_spend(self, info: Info, input: RecordAdSpendInput) -> RecordAdSpendPayload:
        async def call() -> AdSpendRow:
            workspace = info.context.workspace_for(workspace_arg(input.workspace_id))
            try:
                amount = Decimal(input.amount)
            except ArithmeticError:
                amount = Decimal("NaN")
            new = an.NewSpend(
                source=input.source,
                campaign=input.campaign or "",
                starts_on=input.starts_on,
                ends_on=input.ends_on,
                amount=amount,
                currency=input.currency,
            )
            return await info.context.services.analytics.record_spend(
                info.context.principal, workspace, new
            )

        return await as_payload(
            call,
            lambda row: RecordAdSpendPayload(ad_spend=AdSpend.of(row)),
            lambda errors: RecordAdSpendPayload(user_errors=errors),
        )

    @strawberry.mutation(description="Spend entries from a CSV file.")
    async def import_ad_spend(self, info: Info, input: ImportAdSpendInput) -> ImportAdSpendPayload:
        async def call() -> list[AdSpendRow]:
            workspace = info.context.workspace_for(workspace_arg(input.workspace_id))
            return await info.context.services.analytics.import_spend_csv(
                info.context.principal, workspace, input.csv
            )

        return await as_payload(
            call,
            lambda rows: ImportAdSpendPayload(ad_spend=[AdSpend.of(r) for r in rows]),
            lambda errors: ImportAdSpendPayload(user_errors=errors),
        )

    @strawberry.mutation
    async def delete_ad_spend(self, info: Info, input: DeleteAdSpendInput) -> DeleteAdSpendPayload:
        async def call() -> strawberry.ID:
            gid = parse_global_id(input.id, expected="AdSpend")
            workspace = info.context.workspace_for(gid.workspace_id)
            await info.context.services.analytics.delete_spend(
                info.context.principal, workspace, gid.row_id
            )
            return input.id

        return await as_payload(
            call,
            lambda deleted: DeleteAdSpendPayload(deleted_id=deleted),
            lambda errors: DeleteAdSpendPayload(user_errors=errors),
        )

    @strawberry.mutation(
        description="When the lead is expected to close: places it in the forecast."
    )
    async def set_lead_expected_close(
        self, info: Info, input: SetLeadExpectedCloseInput
    ) -> SetLeadExpectedClosePayload:
        async def call() -> datetime | None:
            gid = parse_global_id(input.lead_id, expected="Lead", field="leadId")
            workspace = info.context.workspace_for(gid.workspace_id)
            return await info.context.services.analytics.set_expected_close(
                info.context.principal, workspace, gid.row_id, input.expected_close_at
            )

        return await as_payload(
            call,
            lambda at: SetLeadExpectedClosePayload(lead_id=input.lead_id, expected_close_at=at),
            lambda errors: SetLeadExpectedClosePayload(user_errors=errors),
        )


TYPES: list[Any] = [AdSpend]
