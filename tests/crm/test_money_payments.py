"""Payments: partial and full, applied to one invoice, adding up under concurrency; a client's
balance, the receivables, revenue by paid date beside won date, and `invoice.overdue` once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from crm_support import errors_of, events, new_lead, panel_as
from money_support import CANCEL, ISSUE, SET_ITEMS, create, line, win

from conftest import GraphQL
from embedcrm.services import Services
from factories import Tenant, make_tenant

PAY = """mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {
  payment { id amount currency source paidAt note }
  invoice { id status total paid outstanding paidAt payments { amount } }
  userErrors { field message code } } }"""
RECEIVABLES = """{ receivables { today rows { contactId buyerName currency invoices outstanding
  overdue oldestDueOn daysLate } } }"""
BALANCE = """query($contact: ID!) { clientBalance(contactId: $contact) {
  currency invoiced paid outstanding overdue } }"""
REVENUE = """query($starts: DateTime!, $ends: DateTime!) { revenue(starts: $starts, ends: $ends) {
  byPaidDate { currency amount } byWonDate { currency amount } } }"""


async def issued(tenant: Tenant, price: str, **fields: Any) -> dict[str, Any]:
    if "contactId" not in fields and "leadId" not in fields:
        fields.setdefault("buyerName", "ИП Петров")
    invoice = await create(tenant.panel, lines=[line("Букет", "1", price, "NONE")], **fields)
    answer = (await tenant.panel.data(ISSUE, id=invoice["id"]))["issueInvoice"]
    assert answer["userErrors"] == []
    return invoice


async def pay(panel: GraphQL, invoice_id: str, amount: str, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (
        await panel.data(PAY, input={"invoiceId": invoice_id, "amount": amount, **fields})
    )["recordPayment"]
    return payload


async def test_partial_and_full_payments_move_the_status_and_emit_once(
    services: Services, platform: GraphQL
) -> None:
    shop, other = await make_tenant(platform), await make_tenant(platform)
    invoice = await issued(shop, "1000")
    part = await pay(shop.panel, invoice["id"], "300,50", note="наличные")
    assert part["userErrors"] == []
    assert part["invoice"]["status"] == "PARTLY_PAID"
    assert (part["invoice"]["paid"], part["invoice"]["outstanding"]) == ("300.50", "699.50")
    assert (part["payment"]["source"], part["payment"]["note"]) == ("MANUAL", "наличные")

    too_much = await pay(shop.panel, invoice["id"], "699.51")
    assert [(e["field"], e["code"]) for e in too_much["userErrors"]] == [("amount", "invalid")]
    for bad in ("0", "-5", "NaN", "много"):
        assert (await pay(shop.panel, invoice["id"], bad))["userErrors"][0]["field"] == "amount"
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert (await pay(shop.panel, invoice["id"], "1", paidAt=future))["userErrors"][0][
        "field"
    ] == "paidAt"

    rest = await pay(shop.panel, invoice["id"], "699.50")
    assert rest["invoice"]["status"] == "PAID"
    assert rest["invoice"]["outstanding"] == "0.00"
    assert [p["amount"] for p in rest["invoice"]["payments"]] == ["300.50", "699.50"]
    assert rest["invoice"]["paidAt"] is not None
    after = await pay(shop.panel, invoice["id"], "1")
    assert errors_of(after) == ["conflict"]
    assert errors_of((await shop.panel.data(CANCEL, id=invoice["id"]))["cancelInvoice"]) == [
        "conflict"
    ]

    draft = await create(shop.panel, buyerName="К", lines=[line("Букет", "1", "10", "NONE")])
    assert errors_of(await pay(shop.panel, draft["id"], "10")) == ["conflict"]
    assert errors_of(await pay(other.panel, invoice["id"], "10")) == ["not_found"]
    viewer, _ = await panel_as(platform, shop, "VIEWER")
    second = await issued(shop, "10")
    assert errors_of(await pay(viewer, second["id"], "10")) == ["forbidden"]

    received = await events(services, shop, "payment.received")
    assert [e["data"]["payment"]["amount"] for e in received] == ["300.50", "699.50"]
    assert [e["data"]["invoice"]["status"] for e in received] == ["PARTLY_PAID", "PAID"]
    paid = await events(services, shop, "invoice.paid")
    assert [(e["data"]["invoice"]["id"], e["data"]["invoice"]["paid"]) for e in paid] == [
        (received[0]["data"]["invoice"]["id"], "1000.00")
    ]


async def test_concurrent_payments_add_up_and_never_overpay(
    services: Services, platform: GraphQL
) -> None:
    shop = await make_tenant(platform)
    invoice = await issued(shop, "100")
    owners = [shop.panel, *[(await panel_as(platform, shop, "OWNER"))[0] for _ in range(2)]]
    answers = await asyncio.gather(
        *(pay(owners[n % len(owners)], invoice["id"], "25") for n in range(6))
    )
    accepted = [a for a in answers if not a["userErrors"]]
    assert len(accepted) == 4
    assert sorted(errors_of(a) for a in answers if a["userErrors"]) == [
        ["conflict"],
        ["conflict"],
    ]
    final = max(accepted, key=lambda a: Decimal(a["invoice"]["paid"]))["invoice"]
    assert (final["status"], final["paid"]) == ("PAID", "100.00")
    assert len(await events(services, shop, "invoice.paid")) == 1
    assert len(await events(services, shop, "payment.received")) == 4


async def test_balance_and_receivables_say_who_owes_what_and_how_late(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    shop = await make_tenant(platform)
    lead = await new_lead(client, shop, name="Анна Петрова")
    contact = lead["contact"]["id"]
    today = datetime.now(UTC).date()
    late = await issued(
        shop, "1000", contactId=contact, dueOn=(today - timedelta(days=12)).isoformat()
    )
    await pay(shop.panel, late["id"], "400")
    await issued(shop, "250", contactId=contact, dueOn=(today + timedelta(days=5)).isoformat())
    paid = await issued(shop, "70", contactId=contact)
    await pay(shop.panel, paid["id"], "70")
    cancelled = await issued(shop, "999", contactId=contact)
    await shop.panel.data(CANCEL, id=cancelled["id"])
    await issued(
        shop, "80", buyerName="ООО «Ландыш»", dueOn=(today - timedelta(days=40)).isoformat()
    )
    await create(shop.panel, buyerName="Черновик", lines=[line("Букет", "1", "5", "NONE")])

    balance = (await shop.panel.data(BALANCE, contact=contact))["clientBalance"]
    assert balance == [
        {
            "currency": "RUB",
            "invoiced": "1320.00",
            "paid": "470.00",
            "outstanding": "850.00",
            "overdue": "600.00",
        }
    ]
    report = (await shop.panel.data(RECEIVABLES))["receivables"]
    assert report["today"] == today.isoformat()
    assert report["rows"] == [
        {
            "contactId": None,
            "buyerName": "ООО «Ландыш»",
            "currency": "RUB",
            "invoices": 1,
            "outstanding": "80.00",
            "overdue": "80.00",
            "oldestDueOn": (today - timedelta(days=40)).isoformat(),
            "daysLate": 40,
        },
        {
            "contactId": contact,
            "buyerName": "Анна Петрова",
            "currency": "RUB",
            "invoices": 2,
            "outstanding": "850.00",
            "overdue": "600.00",
            "oldestDueOn": (today - timedelta(days=12)).isoformat(),
            "daysLate": 12,
        },
    ]
    exported = (await shop.panel.data("{ receivablesCsv { csv rowCount } }"))["receivablesCsv"]
    assert exported["rowCount"] == 2
    assert exported["csv"].splitlines()[2].startswith("Анна Петрова,RUB,2,850.00,600.00,")
    other = await make_tenant(platform)
    hidden = await other.panel(BALANCE, contact=contact)
    assert [e["extensions"]["code"] for e in hidden["errors"]] == ["not_found"]


async def test_revenue_by_paid_date_beside_revenue_by_won_date(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    shop = await make_tenant(platform)
    lead = await new_lead(client, shop)
    await shop.panel.data(
        SET_ITEMS, lead=lead["id"], items=[{"product": "Букет", "unitPrice": "5000"}]
    )
    await win(shop.panel, lead["id"])
    invoice = await issued(shop, "5000", leadId=lead["id"])
    now = datetime.now(UTC)
    await pay(shop.panel, invoice["id"], "2000", paidAt=(now - timedelta(days=40)).isoformat())
    await pay(shop.panel, invoice["id"], "1500")

    def period(days_back: int, days_to: int) -> dict[str, str]:
        return {
            "starts": (now - timedelta(days=days_back)).isoformat(),
            "ends": (now + timedelta(days=days_to)).isoformat(),
        }

    this_month = (await shop.panel.data(REVENUE, **period(7, 1)))["revenue"]
    assert this_month == {
        "byPaidDate": [{"currency": "RUB", "amount": "1500.00"}],
        "byWonDate": [{"currency": "RUB", "amount": "5000.00"}],
    }
    earlier = (await shop.panel.data(REVENUE, **period(45, -30)))["revenue"]
    assert earlier == {"byPaidDate": [{"currency": "RUB", "amount": "2000.00"}], "byWonDate": []}


async def test_the_overdue_scan_emits_once_per_invoice(
    services: Services, platform: GraphQL
) -> None:
    shop = await make_tenant(platform)
    today = date.today()
    overdue = await issued(shop, "100", dueOn=(today - timedelta(days=1)).isoformat())
    await issued(shop, "100", dueOn=(today + timedelta(days=3)).isoformat())
    settled = await issued(shop, "100", dueOn=(today - timedelta(days=2)).isoformat())
    await pay(shop.panel, settled["id"], "100")
    await issued(shop, "100")

    assert await services.invoices.emit_overdue() >= 1
    await services.invoices.emit_overdue()
    emitted = await events(services, shop, "invoice.overdue")
    assert [e["data"]["invoice"]["id"] for e in emitted] == [overdue["id"]]
    # Days later the invoice due in three days is overdue too, and the first is not repeated.
    await services.invoices.emit_overdue(now=datetime.now(UTC) + timedelta(days=5))
    later = await events(services, shop, "invoice.overdue")
    assert len(later) == 2 and later[0] == emitted[0]


MERGE = """mutation($keep: ID!, $merge: ID!) { mergeContacts(input: {keepId: $keep, mergeId: $merge}) {
  merge { id } userErrors { code } } }"""
UNDO = """mutation($id: ID!) { undoContactMerge(input: {id: $id}) { userErrors { code } } }"""
ERASE = """mutation($id: ID!) { erasePerson(input: {contactId: $id}) {
  erasure { counts } userErrors { code } } }"""
PERSONAL = "query($id: ID!) { personalData(contactId: $id) }"
INVOICE_OF = """query($id: ID!) { node(id: $id) { ... on Invoice { contactId leadId buyerName
  total paid } } }"""


async def test_invoices_follow_a_merge_and_outlive_an_erasure(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    shop = await make_tenant(platform)
    keep = await new_lead(client, shop, email="anna@example.com", phone="")
    dup = await new_lead(client, shop, email="", phone="+79120000077", name="Анна П.")
    invoice = await issued(shop, "500", contactId=dup["contact"]["id"], leadId=dup["id"])
    await pay(shop.panel, invoice["id"], "200")

    merged = (await shop.panel.data(MERGE, keep=keep["contact"]["id"], merge=dup["contact"]["id"]))[
        "mergeContacts"
    ]
    assert merged["userErrors"] == []
    moved = (await shop.panel.data(INVOICE_OF, id=invoice["id"]))["node"]
    assert moved["contactId"] == keep["contact"]["id"]
    undone = await shop.panel.data(UNDO, id=merged["merge"]["id"])
    assert undone["undoContactMerge"]["userErrors"] == []
    back = (await shop.panel.data(INVOICE_OF, id=invoice["id"]))["node"]
    assert back["contactId"] == dup["contact"]["id"]

    exported = (await shop.panel.data(PERSONAL, id=dup["contact"]["id"]))["personalData"]
    assert [i["total"] for i in exported["invoices"]] == ["500.00"]
    erased = (await shop.panel.data(ERASE, id=dup["contact"]["id"]))["erasePerson"]
    assert erased["userErrors"] == [] and erased["erasure"]["counts"]["invoices"] == 1
    kept = (await shop.panel.data(INVOICE_OF, id=invoice["id"]))["node"]
    assert kept == {
        "contactId": None,
        "leadId": None,
        "buyerName": "—",
        "total": "500.00",
        "paid": "200.00",
    }
