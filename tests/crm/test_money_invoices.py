"""Invoices: VAT per line rounded to the kopeck with totals that reconcile (against examples
computed by hand), drafts from a cart or by hand, numbers without gaps under concurrency, and
the printable page behind its signed link."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from crm_support import errors_of, events, new_lead, panel_as
from money_support import (
    CANCEL,
    CREATE,
    INVOICE_FIELDS,
    ISSUE,
    SET_ITEMS,
    create,
    create_product,
    line,
)

from conftest import GraphQL
from embedcrm.catalog.models import VatRate
from embedcrm.invoices.amounts import line_amounts
from embedcrm.invoices.models import VatMode
from embedcrm.services import Services
from factories import Tenant, make_tenant

UPDATE = f"""mutation($input: UpdateInvoiceInput!) {{ updateInvoice(input: $input) {{
  invoice {{ {INVOICE_FIELDS} }} userErrors {{ field message code }} }} }}"""
INVOICES = f"""query($filter: InvoiceFilter) {{ invoices(filter: $filter) {{
  totalCount edges {{ node {{ {INVOICE_FIELDS} }} }} }} }}"""
SET_REQUISITES = """mutation($input: SetRequisitesInput!) { setRequisites(input: $input) {
  requisites { legalName inn kpp bik bankAccount } userErrors { field message code } } }"""
REQUISITES = {
    "legalName": "ООО «Ромашка»",
    "inn": "7707 083 893",
    "kpp": "773601001",
    "address": "Москва, ул. Цветочная, 1",
    "bankName": "ПАО Сбербанк",
    "bik": "044525225",
    "bankAccount": "40702810938000000001",
    "correspondentAccount": "30101810400000000225",
}


@pytest.mark.parametrize(
    ("quantity", "price", "rate", "mode", "expected"),
    [
        # 99.99 × 20 / 120 = 16.665 → 16.67 (half up); net = 99.99 − 16.67
        ("3", "33.33", VatRate.VAT_20, VatMode.INCLUDED, ("83.32", "16.67", "99.99")),
        # 1000 × 10 / 110 = 90.909… → 90.91
        ("1", "1000", VatRate.VAT_10, VatMode.INCLUDED, ("909.09", "90.91", "1000.00")),
        # 2.5 × 19.99 = 49.975 → 49.98; × 20 % = 9.996 → 10.00
        ("2.5", "19.99", VatRate.VAT_20, VatMode.ON_TOP, ("49.98", "10.00", "59.98")),
        # 0.05 × 10 % = 0.005 → 0.01
        ("1", "0.05", VatRate.VAT_10, VatMode.ON_TOP, ("0.05", "0.01", "0.06")),
        ("1", "100", VatRate.VAT_0, VatMode.ON_TOP, ("100.00", "0.00", "100.00")),
        ("0.333", "10", VatRate.NONE, VatMode.INCLUDED, ("3.33", "0.00", "3.33")),
    ],
)
def test_a_line_is_rounded_to_the_kopeck_as_computed_by_hand(
    quantity: str, price: str, rate: VatRate, mode: VatMode, expected: tuple[str, str, str]
) -> None:
    amounts = line_amounts(Decimal(quantity), Decimal(price), rate, mode)
    assert (str(amounts.net), str(amounts.vat), str(amounts.total)) == expected


async def test_totals_are_the_sums_of_the_rounded_lines(platform: GraphQL) -> None:
    shop = await make_tenant(platform)
    included = await create(
        shop.panel,
        buyerName="ИП Петров",
        vatMode="INCLUDED",
        lines=[
            line("Букет", "3", "33.33", "VAT_20"),
            line("Доставка", "1", "1000", "VAT_10"),
            line("Открытка", "1", "500", "NONE"),
        ],
    )
    assert (included["subtotal"], included["vatTotal"], included["total"]) == (
        "1492.41",
        "107.58",
        "1599.99",
    )
    assert [(ln["net"], ln["vat"], ln["total"]) for ln in included["lines"]] == [
        ("83.32", "16.67", "99.99"),
        ("909.09", "90.91", "1000.00"),
        ("500.00", "0.00", "500.00"),
    ]
    on_top = await create(
        shop.panel,
        buyerName="ИП Петров",
        vatMode="ON_TOP",
        lines=[
            line("Букет", "2.5", "19,99", "VAT_20"),
            line("Лента", "1", "0.05", "VAT_10"),
            line("Ваза", "1", "100", "VAT_0"),
        ],
    )
    assert (on_top["subtotal"], on_top["vatTotal"], on_top["total"]) == (
        "150.03",
        "10.01",
        "160.04",
    )

    # The same draft switched to prices that include VAT is computed again from its lines.
    switched = (await shop.panel.data(UPDATE, input={"id": on_top["id"], "vatMode": "INCLUDED"}))[
        "updateInvoice"
    ]["invoice"]
    # 49.98 × 20/120 = 8.33; 0.05 × 10/110 = 0.0045… → 0.00
    assert (switched["subtotal"], switched["vatTotal"], switched["total"]) == (
        "141.70",
        "8.33",
        "150.03",
    )


async def test_an_invoice_from_a_cart_takes_its_lines_rates_and_buyer(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    shop = await make_tenant(platform)
    rose = await create_product(
        shop.panel, sku="ROSE", name="Роза", price="150", unit="шт", vatRate="VAT_10"
    )
    lead = await new_lead(client, shop, name="Анна Петрова")
    await shop.panel.data(
        SET_ITEMS,
        lead=lead["id"],
        items=[
            {"productId": rose["id"], "quantity": "2"},
            {"product": "Упаковка", "unitPrice": "60"},
        ],
    )
    invoice = await create(
        shop.panel, leadId=lead["id"], defaultVatRate="VAT_20", dueOn="2026-12-31"
    )
    assert invoice["status"] == "DRAFT" and invoice["number"] is None
    assert (invoice["buyerName"], invoice["leadId"], invoice["contactId"]) == (
        "Анна Петрова",
        lead["id"],
        lead["contact"]["id"],
    )
    assert [(ln["name"], ln["vatRate"], ln["total"], ln["vat"]) for ln in invoice["lines"]] == [
        ("Роза", "VAT_10", "300.00", "27.27"),
        ("Упаковка", "VAT_20", "60.00", "10.00"),
    ]
    assert (invoice["total"], invoice["currency"], invoice["dueOn"]) == (
        "360.00",
        "RUB",
        "2026-12-31",
    )
    listed = await shop.panel.data(INVOICES, filter={"leadId": lead["id"]})
    assert [e["node"]["id"] for e in listed["invoices"]["edges"]] == [invoice["id"]]

    empty = await new_lead(client, shop)
    refused = await shop.panel.data(CREATE, input={"leadId": empty["id"]})
    assert refused["createInvoice"]["userErrors"][0]["field"] == "lines"
    nobody = await shop.panel.data(CREATE, input={"lines": [line("x", "1", "1", "NONE")]})
    assert nobody["createInvoice"]["userErrors"][0]["field"] == "buyerName"
    foreign = await create_product(
        (await make_tenant(platform)).panel, sku="X", name="Чужой", price="1"
    )
    theirs = await shop.panel.data(
        CREATE,
        input={
            "buyerName": "A",
            "lines": [{**line("x", "1", "1", "NONE"), "productId": foreign["id"]}],
        },
    )
    assert [(e["field"], e["code"]) for e in theirs["createInvoice"]["userErrors"]] == [
        ("lines[0].productId", "not_found")
    ]
    bad = await shop.panel.data(
        CREATE, input={"buyerName": "A", "lines": [line("x", "0", "1", "NONE")]}
    )
    assert bad["createInvoice"]["userErrors"][0]["field"] == "lines[0].quantity"


async def test_issuing_numbers_each_workspace_from_one_and_fixes_the_invoice(
    services: Services, platform: GraphQL
) -> None:
    shop, other = await make_tenant(platform), await make_tenant(platform)
    drafts = [
        await create(shop.panel, buyerName=f"Клиент {n}", lines=[line("Букет", "1", "100", "NONE")])
        for n in range(3)
    ]
    numbers = []
    for draft in drafts:
        issued = (await shop.panel.data(ISSUE, id=draft["id"]))["issueInvoice"]
        numbers.append(issued["invoice"]["number"])
        assert issued["invoice"]["status"] == "ISSUED"
    assert numbers == [1, 2, 3]
    # A cancelled invoice keeps its number: the numbering stays without gaps.
    cancelled = (await shop.panel.data(CANCEL, id=drafts[1]["id"]))["cancelInvoice"]["invoice"]
    assert (cancelled["number"], cancelled["status"]) == (2, "CANCELLED")
    again = await shop.panel.data(ISSUE, id=drafts[0]["id"])
    assert errors_of(again["issueInvoice"]) == ["conflict"]
    frozen = await shop.panel.data(UPDATE, input={"id": drafts[0]["id"], "note": "x"})
    assert errors_of(frozen["updateInvoice"]) == ["conflict"]
    fourth = await create(shop.panel, buyerName="К", lines=[line("Букет", "1", "1", "NONE")])
    assert (await shop.panel.data(ISSUE, id=fourth["id"]))["issueInvoice"]["invoice"]["number"] == 4

    theirs = await create(other.panel, buyerName="К", lines=[line("Букет", "1", "1", "NONE")])
    assert (await other.panel.data(ISSUE, id=theirs["id"]))["issueInvoice"]["invoice"][
        "number"
    ] == 1
    # Another workspace's invoice is not found.
    foreign = await shop.panel.data(ISSUE, id=theirs["id"])
    assert errors_of(foreign["issueInvoice"]) == ["not_found"]

    issued_events = await events(services, shop, "invoice.issued")
    assert [e["data"]["invoice"]["number"] for e in issued_events] == [1, 2, 3, 4]
    assert issued_events[0]["data"]["invoice"]["total"] == "100.00"


async def test_parallel_issuing_gives_consecutive_numbers_without_gaps(platform: GraphQL) -> None:
    shop = await make_tenant(platform)
    drafts = [
        await create(shop.panel, buyerName=f"Клиент {n}", lines=[line("Букет", "1", "10", "NONE")])
        for n in range(8)
    ]
    first = (await shop.panel.data(ISSUE, id=drafts[0]["id"]))["issueInvoice"]["invoice"]
    assert first["number"] == 1
    # The rest at once, with the one already issued among them: its refusal rolls back the
    # number it took, so no gap appears. Three owners share the calls, since one credential
    # may run only a few requests at a time.
    owners = [shop.panel, *[(await panel_as(platform, shop, "OWNER"))[0] for _ in range(2)]]
    answers = await asyncio.gather(
        *(
            owners[n % len(owners)].data(ISSUE, id=d["id"])
            for n, d in enumerate([*drafts[1:], drafts[0]])
        )
    )
    numbers = sorted(a["issueInvoice"]["invoice"]["number"] for a in answers[:-1])
    assert numbers == list(range(2, 9))
    assert errors_of(answers[-1]["issueInvoice"]) == ["conflict"]
    ninth = await create(shop.panel, buyerName="К", lines=[line("Букет", "1", "1", "NONE")])
    assert (await shop.panel.data(ISSUE, id=ninth["id"]))["issueInvoice"]["invoice"]["number"] == 9


async def test_roles_decide_who_invoices_what(client: httpx.AsyncClient, platform: GraphQL) -> None:
    shop = await make_tenant(platform)
    manager, _ = await panel_as(platform, shop, "MANAGER")
    viewer, _ = await panel_as(platform, shop, "VIEWER")
    lines = [line("Букет", "1", "10", "NONE")]
    refused = await viewer.data(CREATE, input={"buyerName": "К", "lines": lines})
    assert errors_of(refused["createInvoice"]) == ["forbidden"]
    by_hand = await create(manager, buyerName="К", lines=lines)
    assert by_hand["status"] == "DRAFT"
    lead = await new_lead(client, shop)
    # Nobody's lead: the manager must take it first.
    theirs = await manager.data(CREATE, input={"leadId": lead["id"], "lines": lines})
    assert errors_of(theirs["createInvoice"]) == ["forbidden"]
    owner_made = await create(shop.panel, leadId=lead["id"], lines=lines)
    issued = await manager.data(ISSUE, id=owner_made["id"])
    assert errors_of(issued["issueInvoice"]) == ["forbidden"]
    assert (await viewer.data(INVOICES))["invoices"]["totalCount"] == 2
    requisites = await manager.data(SET_REQUISITES, input=REQUISITES)
    assert errors_of(requisites["setRequisites"]) == ["forbidden"]


async def requisites_set(tenant: Tenant) -> None:
    answer = (await tenant.panel.data(SET_REQUISITES, input=REQUISITES))["setRequisites"]
    assert answer["userErrors"] == []
    assert answer["requisites"]["inn"] == "7707083893"


async def test_requisites_are_checked(platform: GraphQL) -> None:
    shop = await make_tenant(platform)
    for field, value in (
        ("inn", "7707083894"),
        ("inn", "12345"),
        ("kpp", "12"),
        ("bik", "04452522"),
        ("bankAccount", "4070281093800000000"),
    ):
        wrong = await shop.panel.data(SET_REQUISITES, input={**REQUISITES, field: value})
        assert [e["field"] for e in wrong["setRequisites"]["userErrors"]] == [field], field
    person = await shop.panel.data(
        SET_REQUISITES, input={"legalName": "ИП Иванов И. И.", "inn": "500100732259"}
    )
    assert person["setRequisites"]["userErrors"] == []
    await requisites_set(shop)


async def test_the_printable_page_behind_its_signed_link(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    shop = await make_tenant(platform)
    await requisites_set(shop)
    draft = await create(
        shop.panel,
        buyerName="ООО «Клиент» <b>",
        vatMode="INCLUDED",
        dueOn="2026-12-10",
        lines=[line("Букет", "3", "33.33", "VAT_20"), line("Доставка", "1", "1500", "VAT_20")],
    )
    await shop.panel.data(ISSUE, id=draft["id"])
    url = (await shop.panel.data(INVOICES))["invoices"]["edges"][0]["node"]["printUrl"]
    assert url.startswith("http://crm.test/v1/invoices/")
    page = await client.get(url.removeprefix("http://crm.test"))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert '<html lang="ru">' in html
    assert "Счёт № 1 от" in html
    assert "ИНН 7707083893, КПП 773601001" in html
    assert "044525225" in html and "40702810938000000001" in html
    # Escaped, never markup.
    assert "ООО «Клиент» &lt;b&gt;" in html
    # 99.99 + 1500.00; VAT 16.67 + 250.00
    assert "1\u00a0599,99 RUB" in html
    assert "В том числе НДС 20\u00a0%:" in html and "266,67 RUB" in html
    assert "Оплатить до 2026-12-10" in html

    english = await client.get(url.removeprefix("http://crm.test"), params={"lang": "en"})
    assert '<html lang="en">' in english.text and "Invoice No. 1 of" in english.text
    assert "1,599.99 RUB" in english.text

    token = url.rsplit("/", 1)[1]
    forged = await client.get(f"/v1/invoices/{token[:-2]}xx")
    assert forged.status_code == 404
    assert (await client.get("/v1/invoices/not-a-token")).status_code == 404

    exported = (await shop.panel.data("{ invoicesCsv { csv rowCount } }"))["invoicesCsv"]
    assert exported["rowCount"] == 1
    assert (
        exported["csv"]
        .splitlines()[1]
        .startswith("1,ISSUED,ООО «Клиент» <b>,RUB,1333.32,266.67,1599.99")
    )


ASSIGN = """mutation($lead: ID!, $member: ID) { assignLead(input: {leadId: $lead, assigneeId: $member}) {
  userErrors { code } } }"""
PAY = """mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {
  userErrors { code } } }"""
INVOICE_NODE = """query($id: ID!) { node(id: $id) { ... on Invoice { id payments { amount } } } }"""
BALANCE = """query($contact: ID!) { clientBalance(contactId: $contact) { currency paid } }"""
MONEY_REPORTS = """query($starts: DateTime!, $ends: DateTime!) { receivables { rows { outstanding } }
  revenue(starts: $starts, ends: $ends) { byPaidDate { amount } } }"""


async def test_a_manager_reads_only_the_invoices_and_payments_of_what_they_see(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    shop, other = await make_tenant(platform), await make_tenant(platform)
    anna_panel, anna = await panel_as(platform, shop, "MANAGER")
    boris_panel, boris = await panel_as(platform, shop, "MANAGER")
    lines = [line("Букет", "1", "10", "NONE")]
    invoices: dict[str, dict[str, str]] = {}
    for name, member in (("anna", anna), ("boris", boris)):
        lead = await new_lead(client, shop)
        assigned = await shop.panel.data(ASSIGN, lead=lead["id"], member=member)
        assert assigned["assignLead"]["userErrors"] == []
        invoice = await create(shop.panel, leadId=lead["id"], lines=lines)
        assert (await shop.panel.data(ISSUE, id=invoice["id"]))["issueInvoice"]["userErrors"] == []
        paid = await shop.panel.data(PAY, input={"invoiceId": invoice["id"], "amount": "4"})
        assert paid["recordPayment"]["userErrors"] == []
        invoices[name] = {"id": invoice["id"], "contact": lead["contact"]["id"]}
    walk_in = await create(shop.panel, buyerName="Прохожий", lines=lines)
    await create(other.panel, buyerName="Другой магазин", lines=lines)

    def ids(data: dict[str, Any]) -> set[str]:
        return {edge["node"]["id"] for edge in data["invoices"]["edges"]}

    everything = await shop.panel.data(INVOICES)
    assert ids(everything) == {invoices["anna"]["id"], invoices["boris"]["id"], walk_in["id"]}
    seen = await anna_panel.data(INVOICES)
    # An invoice tied to no lead and no contact is the owner's alone.
    assert ids(seen) == {invoices["anna"]["id"]}
    assert seen["invoices"]["totalCount"] == 1
    exported = (await anna_panel.data("{ invoicesCsv { rowCount } }"))["invoicesCsv"]
    assert exported["rowCount"] == 1
    assert (await anna_panel.data(INVOICE_NODE, id=walk_in["id"]))["node"] is None
    assert (await shop.panel.data(INVOICE_NODE, id=walk_in["id"]))["node"] is not None
    # The reports count, for each manager, what they see.
    assert (await shop.panel.data(ISSUE, id=walk_in["id"]))["issueInvoice"]["userErrors"] == []
    assert (await shop.panel.data(PAY, input={"invoiceId": walk_in["id"], "amount": "1"}))[
        "recordPayment"
    ]["userErrors"] == []
    now = datetime.now(UTC)
    period = {
        "starts": (now - timedelta(hours=1)).isoformat(),
        "ends": (now + timedelta(hours=1)).isoformat(),
    }
    figures = {}
    for who, gql in (("owner", shop.panel), ("anna", anna_panel), ("boris", boris_panel)):
        data = await gql.data(MONEY_REPORTS, **period)
        figures[who] = (
            sorted(row["outstanding"] for row in data["receivables"]["rows"]),
            [a["amount"] for a in data["revenue"]["byPaidDate"]],
        )
    assert figures == {
        "owner": (["6.00", "6.00", "9.00"], ["9.00"]),
        "anna": (["6.00"], ["4.00"]),
        "boris": (["6.00"], ["4.00"]),
    }
    by_contact = await anna_panel.data(INVOICES, filter={"contactId": invoices["boris"]["contact"]})
    assert by_contact["invoices"]["totalCount"] == 0

    own = (await anna_panel.data(INVOICE_NODE, id=invoices["anna"]["id"]))["node"]
    assert own["payments"] == [{"amount": "4.00"}]
    assert (await anna_panel.data(INVOICE_NODE, id=invoices["boris"]["id"]))["node"] is None
    balance = await anna_panel.data(BALANCE, contact=invoices["anna"]["contact"])
    assert balance["clientBalance"] == [{"currency": "RUB", "paid": "4.00"}]
    hidden = await anna_panel(BALANCE, contact=invoices["boris"]["contact"])
    assert [e["extensions"]["code"] for e in hidden["errors"]] == ["not_found"]
