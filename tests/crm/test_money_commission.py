"""Commission per manager by period, on paid revenue or on margin where cost is known, computed
by hand here; a manager sees only their own; and the workload of each member."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from crm_support import errors_of, new_lead, panel_as
from money_support import ISSUE, create

from conftest import GraphQL
from factories import make_tenant

ASSIGN = """mutation($lead: ID!, $member: ID) { assignLead(input: {leadId: $lead, assigneeId: $member}) {
  lead { id } userErrors { code } } }"""
RULES = """mutation($member: ID!, $rules: [CommissionRuleInput!]!) {
  setCommissionRules(input: {memberId: $member, rules: $rules}) {
    rules { basis percent startsOn endsOn } userErrors { field message code } } }"""
PAY = """mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {
  invoice { status } userErrors { field message code } } }"""
ACCRUED = """query($starts: DateTime!, $ends: DateTime!, $member: ID) {
  accruedCommission(starts: $starts, ends: $ends, memberId: $member) {
    memberId payments paid margin commission } }"""
WORKLOAD = "{ workload { memberId openLeads openTasks overdueTasks } }"
CREATE_TASK = """mutation($input: CreateTaskInput!) { createTask(input: $input) {
  task { id } userErrors { code } } }"""


async def test_commission_by_period_on_revenue_or_margin(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    shop = await make_tenant(platform)
    anna_panel, anna = await panel_as(platform, shop, "MANAGER")
    boris_panel, boris = await panel_as(platform, shop, "MANAGER")
    viewer, _ = await panel_as(platform, shop, "VIEWER")
    today = datetime.now(UTC).date()

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    anna_rules = [
        {"basis": "PAID_REVENUE", "percent": "10", "startsOn": day(-60), "endsOn": day(-31)},
        {"basis": "PAID_REVENUE", "percent": "5", "startsOn": day(-30)},
    ]
    set_anna = (await shop.panel.data(RULES, member=anna, rules=anna_rules))["setCommissionRules"]
    assert [r["percent"] for r in set_anna["rules"]] == ["10.00", "5.00"]
    await shop.panel.data(
        RULES, member=boris, rules=[{"basis": "MARGIN", "percent": "20", "startsOn": day(-365)}]
    )
    overlapping = await shop.panel.data(
        RULES,
        member=anna,
        rules=[
            {"basis": "MARGIN", "percent": "1", "startsOn": day(-10)},
            {"basis": "MARGIN", "percent": "2", "startsOn": day(-5)},
        ],
    )
    assert overlapping["setCommissionRules"]["userErrors"][0]["field"] == "rules[1].startsOn"
    too_much = await shop.panel.data(
        RULES, member=anna, rules=[{"basis": "MARGIN", "percent": "150", "startsOn": day(0)}]
    )
    assert too_much["setCommissionRules"]["userErrors"][0]["field"] == "rules[0].percent"
    refused = await anna_panel.data(RULES, member=anna, rules=[])
    assert errors_of(refused["setCommissionRules"]) == ["forbidden"]

    async def invoice_for(member: str, lines: list[dict[str, str]]) -> dict[str, Any]:
        lead = await new_lead(client, shop)
        await shop.panel.data(ASSIGN, lead=lead["id"], member=member)
        invoice = await create(shop.panel, leadId=lead["id"], lines=lines)
        await shop.panel.data(ISSUE, id=invoice["id"])
        return invoice

    async def pay(invoice: dict[str, Any], amount: str, days_ago: int) -> None:
        paid_at = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
        answer = await shop.panel.data(
            PAY, input={"invoiceId": invoice["id"], "amount": amount, "paidAt": paid_at}
        )
        assert answer["recordPayment"]["userErrors"] == []

    annas = await invoice_for(
        anna, [{"name": "Свадебный букет", "quantity": "2", "unitPrice": "1000"}]
    )
    await pay(annas, "1000", 40)  # 10 % then: 100.00
    await pay(annas, "1000", 0)  # 5 % now: 50.00
    boris_invoice = await invoice_for(
        boris,
        [
            {"name": "Роза", "quantity": "3", "unitPrice": "500", "unitCost": "300"},
            {"name": "Открытка", "quantity": "1", "unitPrice": "100"},
        ],
    )
    # Margin over the lines of known cost: 1500 − 900 = 600; half the invoice paid carries
    # 300 of it; 20 % of that is 60.00.
    await pay(boris_invoice, "800", 1)

    period = {
        "starts": (datetime.now(UTC) - timedelta(days=45)).isoformat(),
        "ends": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }
    everyone = (await shop.panel.data(ACCRUED, **period))["accruedCommission"]
    assert everyone == [
        {
            "memberId": anna,
            "payments": 2,
            "paid": "2000.00",
            "margin": "0.00",
            "commission": "150.00",
        },
        {
            "memberId": boris,
            "payments": 1,
            "paid": "800.00",
            "margin": "300.00",
            "commission": "60.00",
        },
    ]
    # A manager sees their own commission, and only theirs.
    own = (await boris_panel.data(ACCRUED, **period))["accruedCommission"]
    assert own == [everyone[1]]
    naming_another = await boris_panel(ACCRUED, **period, member=anna)
    assert [e["extensions"]["code"] for e in naming_another["errors"]] == ["forbidden"]
    as_viewer = await viewer(ACCRUED, **period)
    assert [e["extensions"]["code"] for e in as_viewer["errors"]] == ["forbidden"]
    rules_seen = await anna_panel.data("{ commissionRules { percent } }")
    assert [r["percent"] for r in rules_seen["commissionRules"]] == ["10.00", "5.00"]

    recent = {
        "starts": (datetime.now(UTC) - timedelta(days=20)).isoformat(),
        "ends": period["ends"],
    }
    assert [
        (r["memberId"], r["commission"])
        for r in (await shop.panel.data(ACCRUED, **recent))["accruedCommission"]
    ] == [
        (boris, "60.00"),
        (anna, "50.00"),
    ]
    exported = (
        await shop.panel.data(
            "query($s: DateTime!, $e: DateTime!) { accruedCommissionCsv(starts: $s, ends: $e) { csv rowCount } }",
            s=period["starts"],
            e=period["ends"],
        )
    )["accruedCommissionCsv"]
    assert exported["rowCount"] == 2
    assert exported["csv"].splitlines()[0] == "member_id,name,payments,paid,margin,commission"


async def test_workload_counts_open_leads_and_tasks_per_member(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    shop = await make_tenant(platform)
    _, anna = await panel_as(platform, shop, "MANAGER")
    _, boris = await panel_as(platform, shop, "MANAGER")
    for member in (anna, anna, boris):
        lead = await new_lead(client, shop)
        await shop.panel.data(ASSIGN, lead=lead["id"], member=member)
    now = datetime.now(UTC)
    for due in (now - timedelta(hours=2), now + timedelta(days=1)):
        created = await shop.panel.data(
            CREATE_TASK, input={"title": "Позвонить", "dueAt": due.isoformat(), "assigneeId": anna}
        )
        assert created["createTask"]["userErrors"] == []
    rows = (await shop.panel.data(WORKLOAD))["workload"]
    # Busiest first; the leads' first-response tasks belong to nobody yet.
    assert rows == [
        {"memberId": anna, "openLeads": 2, "openTasks": 2, "overdueTasks": 1},
        {"memberId": None, "openLeads": 0, "openTasks": 3, "overdueTasks": 0},
        {"memberId": boris, "openLeads": 1, "openTasks": 0, "overdueTasks": 0},
    ]
