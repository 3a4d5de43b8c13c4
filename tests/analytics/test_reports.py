"""Every report through /graphql against the data set of analytics_data.py, whose table and
arithmetic the expected values below follow."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from analytics_data import NOW, PERIOD, DataSet, build

from conftest import GraphQL
from embedcrm.graphql.ids import to_global_id
from embedcrm.services import Services
from factories import ISSUE_TOKEN, make_tenant

REPORTS = """
query($filter: AnalyticsFilter!, $touch: Touch!, $group: SpendGrouping!, $interval: AnalyticsInterval!, $ws: ID) {
  analytics(filter: $filter, workspaceId: $ws) {
    funnel { pipelineId leads won lost
      stages { stageId name kind reached conversionToNext conversionToWon medianSecondsInStage } }
    sources(touch: $touch) { source medium campaign leads won revenue conversion }
    spend(groupBy: $group) { source campaign leads won revenue spend costPerLead costPerWon roi payback }
    managers { memberId member { name } leads answered medianFirstResponseSeconds
      p90FirstResponseSeconds won lost winRate revenue overdueTasks }
    forecast { months { month leads value weightedValue } undated { leads value weightedValue }
      openPipeline { leads value weightedValue } }
    profitability { won revenue costedDeals sales costOfGoods grossProfit margin }
    timeSeries(interval: $interval) { startsAt endsAt leads won revenue }
  } }
"""

RECORD_SPEND = """
mutation($input: RecordAdSpendInput!) { recordAdSpend(input: $input) {
  adSpend { id source campaign startsOn endsOn amount } userErrors { field message code } } }
"""

IMPORT_SPEND = """
mutation($input: ImportAdSpendInput!) { importAdSpend(input: $input) {
  adSpend { id source campaign amount } userErrors { field message code } } }
"""


@pytest.fixture(scope="module")
async def data(platform_module: GraphQL, services: Services) -> AsyncIterator[DataSet]:
    yield await build(platform_module, services)


@pytest.fixture(scope="module")
def platform_module(client: Any, platform_key: str) -> GraphQL:
    return GraphQL(client, platform_key)


@pytest.fixture(autouse=True)
def frozen_now(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services.analytics, "clock", lambda: NOW)


async def reports(
    panel: GraphQL,
    *,
    touch: str = "LAST",
    group: str = "CAMPAIGN",
    interval: str = "WEEK",
    ws: str | None = None,
    **filters: Any,
) -> dict[str, Any]:
    data = await panel.data(
        REPORTS,
        filter={**PERIOD, **filters},
        touch=touch,
        group=group,
        interval=interval,
        ws=ws,
    )
    result: dict[str, Any] = data["analytics"]
    return result


async def test_funnel_counts_reached_stages_conversions_and_median_stays(data: DataSet) -> None:
    funnel = (await reports(data.tenant.panel))["funnel"]
    # Cohort: L1..L5 (L6, L7 were created in February). Won: L1, L3. Lost: L2.
    assert (funnel["leads"], funnel["won"], funnel["lost"]) == (5, 2, 1)
    rows = {s["name"]: s for s in funnel["stages"]}
    assert [s["name"] for s in funnel["stages"]] == [
        "Новый",
        "В работе",
        "Предложение",
        "Успешно",
        "Отказ",
    ]
    # Furthest open stage per lead (0 Новый, 1 В работе, 2 Предложение), won passes them all:
    # L1 2+won, L2 1, L3 0+won, L4 0, L5 1.
    # Новый: all 5. В работе: L1, L2, L3 (won), L5 = 4. Предложение: L1, L3 (won) = 2.
    assert [rows[n]["reached"] for n in rows] == [5, 4, 2, 2, 1]
    # Новый → В работе 4/5; → won 2/5. В работе → Предложение 2/4; → won 2/4.
    # Предложение → its next step is winning: 2/2.
    assert rows["Новый"]["conversionToNext"] == pytest.approx(0.8)
    assert rows["Новый"]["conversionToWon"] == pytest.approx(0.4)
    assert rows["В работе"]["conversionToNext"] == pytest.approx(0.5)
    assert rows["В работе"]["conversionToWon"] == pytest.approx(0.5)
    assert rows["Предложение"]["conversionToNext"] == pytest.approx(1.0)
    assert rows["Успешно"]["conversionToNext"] is None
    # Finished stays in Новый: L1 1 h, L5 2 h, L2 3 h, L3 48 h (L4 is still there):
    # sorted 3600, 7200, 10800, 172800 → median (7200 + 10800) / 2 = 9000 s.
    assert rows["Новый"]["medianSecondsInStage"] == pytest.approx(9000)
    # В работе: L1 24 h, L2 24 h (L5 still there) → 86400 s. Предложение: L1 48 h.
    assert rows["В работе"]["medianSecondsInStage"] == pytest.approx(86400)
    assert rows["Предложение"]["medianSecondsInStage"] == pytest.approx(172800)
    assert rows["Успешно"]["medianSecondsInStage"] is None


async def test_funnel_filters_by_manager_source_and_foreign_ids(data: DataSet) -> None:
    # M2 has L3 (won) and L4.
    by_m2 = (await reports(data.tenant.panel, managerId=data.m2))["funnel"]
    assert (by_m2["leads"], by_m2["won"], by_m2["lost"]) == (2, 1, 0)
    # utm_source yandex: L1 (won) and L2 (lost).
    by_source = (await reports(data.tenant.panel, source="yandex"))["funnel"]
    assert (by_source["leads"], by_source["won"], by_source["lost"]) == (2, 1, 1)
    # A site id of the right type from another workspace matches nothing.
    foreign_site = to_global_id("Site", uuid.uuid4(), uuid.uuid4())
    none = (await reports(data.tenant.panel, siteId=foreign_site))["funnel"]
    assert none["leads"] == 0


async def test_sources_by_last_and_first_touch(data: DataSet) -> None:
    last = (await reports(data.tenant.panel, touch="LAST"))["sources"]
    assert last == [
        # L1 (won, 1000), L2 (lost): 2 leads, 1 won, conversion 1/2.
        {
            "source": "google",
            "medium": "cpc",
            "campaign": "brand",
            "leads": 2,
            "won": 1,
            "revenue": "2000.00",
            "conversion": 0.5,
        },
        {
            "source": "yandex",
            "medium": "cpc",
            "campaign": "spring",
            "leads": 2,
            "won": 1,
            "revenue": "1000.00",
            "conversion": 0.5,
        },
        {
            "source": None,
            "medium": None,
            "campaign": None,
            "leads": 1,
            "won": 0,
            "revenue": "0.00",
            "conversion": 0.0,
        },
    ]
    first = (await reports(data.tenant.panel, touch="FIRST"))["sources"]
    by_key = {(r["source"], r["campaign"]): (r["leads"], r["won"], r["revenue"]) for r in first}
    # L1's own first touch is vk/promo; L2 has none, so its contact's (made by L6): autumn;
    # L3, L4 and L5 have none anywhere but their own UTM.
    assert by_key == {
        ("vk", "promo"): (1, 1, "1000.00"),
        ("yandex", "autumn"): (1, 0, "0.00"),
        ("google", "brand"): (2, 1, "2000.00"),
        (None, None): (1, 0, "0.00"),
    }


async def test_spend_cost_per_lead_roi_and_payback(data: DataSet, platform_module: GraphQL) -> None:
    panel = data.tenant.panel
    # yandex/spring: 3100.00 over the 31 days of March → 100.00 a day, all inside.
    ok = await panel.data(
        RECORD_SPEND,
        input={
            "source": "yandex",
            "campaign": "spring",
            "startsOn": "2024-03-01",
            "endsOn": "2024-03-31",
            "amount": "3100",
        },
    )
    assert ok["recordAdSpend"]["userErrors"] == []
    # google/brand: 3100.00 over 15 Feb – 16 Mar (15 + 16 = 31 days) → 16 days in March = 1600.
    await panel.data(
        RECORD_SPEND,
        input={
            "source": "google",
            "campaign": "brand",
            "startsOn": "2024-02-15",
            "endsOn": "2024-03-16",
            "amount": "3100.00",
        },
    )
    # From a file: vk/promo 1000 inside March; yandex with no campaign 100.00 over three days
    # (33.33 + 33.33 + 33.34).
    csv = (
        "source,campaign,starts_on,ends_on,amount,currency\n"
        "vk,promo,2024-03-01,2024-03-10,1000,RUB\n"
        "yandex,,2024-03-01,2024-03-03,100,RUB\n"
    )
    imported = await panel.data(IMPORT_SPEND, input={"csv": csv})
    assert imported["importAdSpend"]["userErrors"] == []
    assert [r["amount"] for r in imported["importAdSpend"]["adSpend"]] == ["1000.00", "100.00"]

    rows = (await reports(panel, group="CAMPAIGN"))["spend"]
    assert rows == [
        # L5, no source, no spend.
        {
            "source": None,
            "campaign": None,
            "leads": 1,
            "won": 0,
            "revenue": "0.00",
            "spend": "0.00",
            "costPerLead": None,
            "costPerWon": None,
            "roi": None,
            "payback": None,
        },
        # 1600 / 2 leads = 800; / 1 won = 1600; ROI (2000 − 1600) / 1600 = 0.25; payback 1.25.
        {
            "source": "google",
            "campaign": "brand",
            "leads": 2,
            "won": 1,
            "revenue": "2000.00",
            "spend": "1600.00",
            "costPerLead": "800.00",
            "costPerWon": "1600.00",
            "roi": 0.25,
            "payback": 1.25,
        },
        # Spend, no leads: ROI (0 − 1000) / 1000 = −1.
        {
            "source": "vk",
            "campaign": "promo",
            "leads": 0,
            "won": 0,
            "revenue": "0.00",
            "spend": "1000.00",
            "costPerLead": None,
            "costPerWon": None,
            "roi": -1.0,
            "payback": 0.0,
        },
        {
            "source": "yandex",
            "campaign": None,
            "leads": 0,
            "won": 0,
            "revenue": "0.00",
            "spend": "100.00",
            "costPerLead": None,
            "costPerWon": None,
            "roi": -1.0,
            "payback": 0.0,
        },
        # 3100 / 2 = 1550; / 1 = 3100; ROI (1000 − 3100) / 3100 = −0.677…; payback 0.322….
        {
            "source": "yandex",
            "campaign": "spring",
            "leads": 2,
            "won": 1,
            "revenue": "1000.00",
            "spend": "3100.00",
            "costPerLead": "1550.00",
            "costPerWon": "3100.00",
            "roi": pytest.approx(-2100 / 3100),
            "payback": pytest.approx(1000 / 3100),
        },
    ]
    by_source = {r["source"]: r for r in (await reports(panel, group="SOURCE"))["spend"]}
    # yandex: 3100 + 100 = 3200 → per lead 1600, per won 3200, ROI (1000 − 3200) / 3200.
    assert by_source["yandex"]["spend"] == "3200.00"
    assert by_source["yandex"]["costPerLead"] == "1600.00"
    assert by_source["yandex"]["costPerWon"] == "3200.00"
    assert by_source["yandex"]["roi"] == pytest.approx(-0.6875)
    assert by_source["google"]["roi"] == pytest.approx(0.25)


async def test_spend_input_is_validated_and_a_bad_file_changes_nothing(data: DataSet) -> None:
    panel = data.tenant.panel
    backwards = await panel.data(
        RECORD_SPEND,
        input={"source": "x", "startsOn": "2024-03-05", "endsOn": "2024-03-01", "amount": "1"},
    )
    assert backwards["recordAdSpend"]["userErrors"][0]["field"] == "endsOn"
    bad_amount = await panel.data(
        RECORD_SPEND,
        input={"source": "x", "startsOn": "2024-03-01", "endsOn": "2024-03-01", "amount": "ten"},
    )
    assert bad_amount["recordAdSpend"]["userErrors"][0]["field"] == "amount"
    csv = "source,campaign,starts_on,ends_on,amount\nok,c,2024-05-01,2024-05-02,10\nbad,c,2024-05-01,nope,1\n"
    failed = await panel.data(IMPORT_SPEND, input={"csv": csv})
    error = failed["importAdSpend"]["userErrors"][0]
    assert error["field"] == "csv" and "Row 3" in error["message"]
    listed = await panel.data(
        'query { adSpend(fromDay: "2024-05-01", toDay: "2024-05-31") { source } }'
    )
    assert listed["adSpend"] == []


async def test_managers_response_times_win_rate_and_overdue(data: DataSet) -> None:
    rows = {r["memberId"]: r for r in (await reports(data.tenant.panel))["managers"]}
    m1, m2, nobody = rows[data.m1], rows[data.m2], rows[None]
    # M1: L1 answered at +10 min (task; the note at +30 min came later), L2 at +40 min (call).
    # Median of 600, 2400 = 1500; p90 at position (2 − 1) × 0.9: 600 + 0.9 × 1800 = 2220.
    assert (m1["leads"], m1["answered"]) == (2, 2)
    assert m1["medianFirstResponseSeconds"] == pytest.approx(1500)
    assert m1["p90FirstResponseSeconds"] == pytest.approx(2220)
    # Won L1, lost L2: win rate 1 / 2; revenue 1000. Overdue now: L2's first-response task.
    assert (m1["won"], m1["lost"], m1["winRate"], m1["revenue"]) == (1, 1, 0.5, "1000.00")
    assert m1["overdueTasks"] == 1
    assert m1["member"]["name"] == "Иван"
    # M2: L3 answered at +5 min (task); L4 never (a stage move is no answer).
    assert (m2["leads"], m2["answered"]) == (2, 1)
    assert m2["medianFirstResponseSeconds"] == pytest.approx(300)
    assert m2["p90FirstResponseSeconds"] == pytest.approx(300)
    assert (m2["won"], m2["lost"], m2["winRate"], m2["revenue"]) == (1, 0, 1.0, "2000.00")
    assert m2["overdueTasks"] == 1
    # Nobody's: L5, answered by M2's note at +20 min; its task is overdue too.
    assert (nobody["leads"], nobody["answered"], nobody["winRate"]) == (1, 1, None)
    assert nobody["medianFirstResponseSeconds"] == pytest.approx(1200)
    assert nobody["overdueTasks"] == 1
    assert nobody["member"] is None


async def test_forecast_weights_open_leads_by_stage_probability(data: DataSet) -> None:
    forecast = (await reports(data.tenant.panel))["forecast"]
    # March: L4 (Новый, 10 %, 300, closes 20 March) → 300 × 10 % = 30.00. L7 closes at
    # 22:00Z on 31 March, which is 1 April in Moscow: not in March.
    assert forecast["months"] == [
        {"month": "2024-03-01", "leads": 1, "value": "300.00", "weightedValue": "30.00"}
    ]
    # L5 has no date and no value.
    assert forecast["undated"] == {"leads": 1, "value": "0.00", "weightedValue": "0.00"}
    # Open now: L4 (30.00), L5 (0), L7 (Предложение 60 % of 1000 = 600.00) → 630.00.
    assert forecast["openPipeline"] == {"leads": 3, "value": "1300.00", "weightedValue": "630.00"}


async def test_profitability_of_deals_won_in_the_period(data: DataSet) -> None:
    result = (await reports(data.tenant.panel))["profitability"]
    # Won in March: L6 (3 March, 700), L1 (5 March, 1000), L3 (12 March, 2000) = 3700.
    # Costed: L1 only (2 × 400 = 800 sales, 2 × 150 = 300 cost); L3's item has no cost, L6 no
    # items. Profit 500, margin 500 / 800 = 0.625.
    assert result == {
        "won": 3,
        "revenue": "3700.00",
        "costedDeals": 1,
        "sales": "800.00",
        "costOfGoods": "300.00",
        "grossProfit": "500.00",
        "margin": 0.625,
    }


async def test_time_series_by_local_week_day_and_month(data: DataSet) -> None:
    weeks = (await reports(data.tenant.panel, interval="WEEK"))["timeSeries"]
    # 1 March 2024 is a Friday: the first week is clipped to 1–3 March, then Mondays 4, 11,
    # 18, 25 March. Leads by Moscow day: L1 2 March, L2 3 March (00:30), L3 and L4 10 March,
    # L5 20 March. Wins by when they happened: L6 3 March (700), L1 5 March (1000),
    # L3 12 March (2000).
    assert [(p["startsAt"], p["leads"], p["won"], p["revenue"]) for p in weeks] == [
        ("2024-02-29T21:00:00+00:00", 2, 1, "700.00"),
        ("2024-03-03T21:00:00+00:00", 2, 1, "1000.00"),
        ("2024-03-10T21:00:00+00:00", 0, 1, "2000.00"),
        ("2024-03-17T21:00:00+00:00", 1, 0, "0.00"),
        ("2024-03-24T21:00:00+00:00", 0, 0, "0.00"),
    ]
    assert weeks[-1]["endsAt"] == "2024-03-31T21:00:00+00:00"
    days = (await reports(data.tenant.panel, interval="DAY"))["timeSeries"]
    assert len(days) == 31
    # L2 was created at 21:30Z on 2 March: the 3rd in Moscow.
    assert [d["leads"] for d in days[1:3]] == [1, 1]
    months = (await reports(data.tenant.panel, interval="MONTH"))["timeSeries"]
    assert [(m["leads"], m["won"], m["revenue"]) for m in months] == [(5, 3, "3700.00")]


async def test_a_panel_token_sees_its_own_workspace_only(
    data: DataSet, platform_module: GraphQL
) -> None:
    other = await make_tenant(platform_module, domain="other.example.com")
    # The other workspace's own reports: nothing of the first one's.
    own = await reports(other.panel)
    assert own["funnel"]["leads"] == 0
    assert own["sources"] == [] and own["managers"] == [] and own["spend"] == []
    assert own["profitability"]["won"] == 0
    # Naming the first workspace with the other's token is refused, like a missing one.
    refused = await other.panel(
        REPORTS,
        filter=PERIOD,
        touch="LAST",
        group="CAMPAIGN",
        interval="MONTH",
        ws=data.tenant.workspace_id,
    )
    assert refused.get("data") is None
    assert refused["errors"][0]["extensions"]["code"] == "not_found"
    # The platform may name either.
    seen = await reports(platform_module, ws=data.tenant.workspace_id)
    assert seen["funnel"]["leads"] == 5


async def test_writes_need_the_owner_and_periods_are_checked(
    data: DataSet, platform_module: GraphQL
) -> None:
    token = await platform_module.data(
        ISSUE_TOKEN, ws=data.tenant.workspace_id, ext="viewer-1", role="VIEWER", ttl=900
    )
    viewer = GraphQL(platform_module.client, token["issuePanelToken"]["token"])
    denied = await viewer.data(
        RECORD_SPEND,
        input={"source": "x", "startsOn": "2024-03-01", "endsOn": "2024-03-01", "amount": "1"},
    )
    assert denied["recordAdSpend"]["userErrors"][0]["code"] == "forbidden"
    # A viewer still reads the reports.
    assert (await reports(viewer))["funnel"]["leads"] == 5
    backwards = await viewer(
        REPORTS,
        filter={"from": PERIOD["to"], "to": PERIOD["from"]},
        touch="LAST",
        group="CAMPAIGN",
        interval="MONTH",
    )
    assert backwards["errors"][0]["extensions"]["code"] == "invalid"


async def test_expected_close_is_set_through_graphql(data: DataSet) -> None:
    lead = to_global_id("Lead", data.workspace, data.leads["L5"])
    done = await data.tenant.panel.data(
        """mutation($input: SetLeadExpectedCloseInput!) { setLeadExpectedClose(input: $input) {
        leadId expectedCloseAt userErrors { code } } }""",
        input={"leadId": lead, "expectedCloseAt": "2024-06-01T09:00:00Z"},
    )
    assert done["setLeadExpectedClose"]["expectedCloseAt"] == "2024-06-01T09:00:00+00:00"
    # Back to undated, so the forecast test above holds whatever the order.
    await data.tenant.panel.data(
        """mutation($input: SetLeadExpectedCloseInput!) { setLeadExpectedClose(input: $input) {
        userErrors { code } } }""",
        input={"leadId": lead, "expectedCloseAt": None},
    )
