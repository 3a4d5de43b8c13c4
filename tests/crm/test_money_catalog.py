"""The catalogue: SKUs unique per workspace, owners edit it, a CSV import all or nothing, cart
lines that snapshot the product they pick, and sales by product."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from crm_support import new_lead, panel_as
from money_support import CREATE_PRODUCT, SET_ITEMS, UPDATE_PRODUCT, create_product, win

from conftest import GraphQL
from factories import make_tenant

PRODUCTS = """query($filter: ProductFilter, $after: String, $first: Int) {
  products(filter: $filter, after: $after, first: $first) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { sku name price active } } } }"""
IMPORT = """mutation($csv: String!) { importProducts(input: {csv: $csv}) {
  created updated userErrors { field message code } } }"""
EXPORT = "{ productsCsv { csv rowCount } }"
SALES = """query($starts: DateTime!, $ends: DateTime!) { salesByProduct(starts: $starts, ends: $ends) {
  rows { productId name sku currency quantity revenue cost margin leads } } }"""


async def test_a_sku_is_unique_within_a_workspace_only(platform: GraphQL) -> None:
    shop, other = await make_tenant(platform), await make_tenant(platform)
    rose = await create_product(
        shop.panel, sku="ROSE-1", name="Роза", price="150,50", cost="70", unit="шт"
    )
    assert (rose["price"], rose["cost"], rose["vatRate"], rose["active"]) == (
        "150.50",
        "70.00",
        "VAT_20",
        True,
    )
    again = await shop.panel.data(
        CREATE_PRODUCT, input={"sku": "ROSE-1", "name": "x", "price": "1", "vatRate": "NONE"}
    )
    assert [(e["field"], e["code"]) for e in again["createProduct"]["userErrors"]] == [
        ("sku", "conflict")
    ]
    # The same SKU in another workspace is another product.
    await create_product(other.panel, sku="ROSE-1", name="Rose", price="2")
    assert (await other.panel.data(PRODUCTS))["products"]["totalCount"] == 1

    bad = await shop.panel.data(
        CREATE_PRODUCT, input={"sku": "B", "name": "Bad", "price": "NaN", "vatRate": "VAT_10"}
    )
    assert bad["createProduct"]["userErrors"][0]["field"] == "price"
    negative = await shop.panel.data(
        CREATE_PRODUCT, input={"sku": "B", "name": "Bad", "price": "-1", "vatRate": "VAT_10"}
    )
    assert negative["createProduct"]["userErrors"][0]["field"] == "price"
    # NUL cannot be stored: refused by name, and nothing is written.
    nul = await shop.panel.client.post(
        "/graphql",
        json={
            "query": CREATE_PRODUCT,
            "variables": {
                "input": {"sku": "B\u0000", "name": "Bad", "price": "1", "vatRate": "VAT_10"}
            },
        },
        headers={"Authorization": f"Bearer {shop.panel.bearer}"},
    )
    assert nul.status_code == 400
    assert "variables.input.sku" in nul.text
    assert (await shop.panel.data(PRODUCTS))["products"]["totalCount"] == 1


async def test_only_an_owner_changes_the_catalogue_and_every_member_reads_it(
    platform: GraphQL,
) -> None:
    shop = await make_tenant(platform)
    rose = await create_product(shop.panel, sku="ROSE", name="Роза", price="150")
    manager, _ = await panel_as(platform, shop, "MANAGER")
    viewer, _ = await panel_as(platform, shop, "VIEWER")
    refused = await manager.data(
        CREATE_PRODUCT, input={"sku": "T", "name": "Тюльпан", "price": "90", "vatRate": "VAT_20"}
    )
    assert [e["code"] for e in refused["createProduct"]["userErrors"]] == ["forbidden"]
    changed = await viewer.data(UPDATE_PRODUCT, input={"id": rose["id"], "price": "1"})
    assert [e["code"] for e in changed["updateProduct"]["userErrors"]] == ["forbidden"]
    for reader in (manager, viewer):
        listed = (await reader.data(PRODUCTS))["products"]
        assert [e["node"]["sku"] for e in listed["edges"]] == ["ROSE"]

    # Made inactive, never deleted; the active-only filter leaves it out.
    off = await shop.panel.data(
        UPDATE_PRODUCT, input={"id": rose["id"], "active": False, "cost": None}
    )
    assert off["updateProduct"]["product"]["active"] is False
    active = await shop.panel.data(PRODUCTS, filter={"activeOnly": True})
    assert active["products"]["totalCount"] == 0
    cleared = await shop.panel.data(UPDATE_PRODUCT, input={"id": rose["id"], "price": None})
    assert cleared["updateProduct"]["userErrors"][0]["field"] == "price"


async def test_the_list_pages_by_keyset_and_searches(platform: GraphQL) -> None:
    shop = await make_tenant(platform)
    for n in range(5):
        await create_product(shop.panel, sku=f"SKU-{n}", name=f"Букет №{n}", price="10")
    seen: list[str] = []
    after = None
    while True:
        page = (await shop.panel.data(PRODUCTS, first=2, after=after))["products"]
        seen += [e["node"]["sku"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"SKU-{n}" for n in reversed(range(5))]
    found = await shop.panel.data(PRODUCTS, filter={"search": "sku-3"})
    assert [e["node"]["sku"] for e in found["products"]["edges"]] == ["SKU-3"]
    by_name = await shop.panel.data(PRODUCTS, filter={"search": "№4"})
    assert [e["node"]["sku"] for e in by_name["products"]["edges"]] == ["SKU-4"]


async def test_a_csv_import_updates_by_sku_and_refuses_a_bad_file_whole(
    platform: GraphQL,
) -> None:
    shop = await make_tenant(platform)
    await create_product(shop.panel, sku="ROSE", name="Роза", price="150")
    # What a Russian Excel saves: semicolons, a decimal comma, «без НДС», a BOM.
    first = (
        "\ufeffsku;name;kind;unit;price;cost;vat;active\r\n"
        "ROSE;Роза красная;PRODUCT;шт;1 200,50;700;20%;да\r\n"
        "DELIVERY;Доставка;SERVICE;усл;300;;без НДС;\r\n"
    )
    result = (await shop.panel.data(IMPORT, csv=first))["importProducts"]
    assert (result["created"], result["updated"], result["userErrors"]) == (1, 1, [])
    listed = (await shop.panel.data(PRODUCTS))["products"]["edges"]
    assert sorted((e["node"]["sku"], e["node"]["name"], e["node"]["price"]) for e in listed) == [
        ("DELIVERY", "Доставка", "300.00"),
        ("ROSE", "Роза красная", "1200.50"),
    ]

    bad = "sku,name,price,vat\nTULIP,Тюльпан,90,10\nLILY,Лилия,дёшево,10\n"
    refused = (await shop.panel.data(IMPORT, csv=bad))["importProducts"]
    assert refused["userErrors"][0]["field"] == "csv"
    assert refused["userErrors"][0]["message"].startswith("Row 3:")
    assert (await shop.panel.data(PRODUCTS))["products"]["totalCount"] == 2
    twice = "sku,name,price\nA,a,1\nA,b,2\n"
    dup = (await shop.panel.data(IMPORT, csv=twice))["importProducts"]["userErrors"]
    assert "Row 3" in dup[0]["message"]
    no_header = (await shop.panel.data(IMPORT, csv="a,b\n1,2\n"))["importProducts"]
    assert no_header["userErrors"][0]["field"] == "csv"

    # The export reads back in as the same catalogue.
    exported = (await shop.panel.data(EXPORT))["productsCsv"]
    assert exported["rowCount"] == 2
    assert exported["csv"].splitlines()[0] == "sku,name,kind,unit,price,cost,vat,active"
    again = (await shop.panel.data(IMPORT, csv=exported["csv"]))["importProducts"]
    assert (again["created"], again["updated"]) == (0, 2)
    assert (await shop.panel.data(EXPORT))["productsCsv"]["csv"] == exported["csv"]


async def test_a_cart_line_keeps_a_snapshot_of_the_product_it_picks(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    shop, other = await make_tenant(platform), await make_tenant(platform)
    rose = await create_product(shop.panel, sku="ROSE", name="Роза", price="150", cost="70")
    lead = await new_lead(client, shop)
    cart = [
        {"productId": rose["id"], "quantity": "3"},
        {"productId": rose["id"], "quantity": "1", "unitPrice": "100", "product": "Роза (уценка)"},
        {"product": "Открытка", "unitPrice": "50"},
    ]
    result = (await shop.panel.data(SET_ITEMS, lead=lead["id"], items=cart))["setLeadItems"]
    assert result["userErrors"] == []
    assert result["lead"]["value"] == "600.00"
    assert result["lead"]["items"][0] == {
        "product": "Роза",
        "productId": rose["id"],
        "sku": "ROSE",
        "quantity": "3",
        "unitPrice": "150.00",
        "unitCost": "70.00",
        "lineTotal": "450.00",
    }
    assert result["lead"]["items"][1]["product"] == "Роза (уценка)"
    assert result["lead"]["items"][2]["productId"] is None

    # A later price change leaves the cart as it was.
    await shop.panel.data(UPDATE_PRODUCT, input={"id": rose["id"], "price": "990"})
    query = "query($id: ID!) { node(id: $id) { ... on Lead { items { unitPrice } } } }"
    kept = (await shop.panel.data(query, id=lead["id"]))["node"]["items"]
    assert [i["unitPrice"] for i in kept] == ["150.00", "100.00", "50.00"]

    # Another workspace's product, and an inactive one, are refused, and the cart stays.
    foreign = await create_product(other.panel, sku="X", name="Чужой", price="1")
    refused = await shop.panel.data(
        SET_ITEMS, lead=lead["id"], items=[{"productId": foreign["id"]}]
    )
    assert [(e["field"], e["code"]) for e in refused["setLeadItems"]["userErrors"]] == [
        ("items[0].productId", "not_found")
    ]
    await shop.panel.data(UPDATE_PRODUCT, input={"id": rose["id"], "active": False})
    inactive = await shop.panel.data(SET_ITEMS, lead=lead["id"], items=[{"productId": rose["id"]}])
    assert inactive["setLeadItems"]["userErrors"][0]["field"] == "items[0].productId"
    assert len((await shop.panel.data(query, id=lead["id"]))["node"]["items"]) == 3
    nameless = await shop.panel.data(SET_ITEMS, lead=lead["id"], items=[{"unitPrice": "1"}])
    assert nameless["setLeadItems"]["userErrors"][0]["field"] == "items[0].product"


async def test_sales_by_product_sums_the_carts_of_the_leads_won_in_the_period(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    shop = await make_tenant(platform)
    rose = await create_product(shop.panel, sku="ROSE", name="Роза", price="150", cost="70")
    card = await create_product(shop.panel, sku="CARD", name="Открытка", price="50")
    first, second, still_open = (
        await new_lead(client, shop),
        await new_lead(client, shop),
        await new_lead(client, shop),
    )
    await shop.panel.data(
        SET_ITEMS,
        lead=first["id"],
        items=[{"productId": rose["id"], "quantity": "2"}, {"productId": card["id"]}],
    )
    await shop.panel.data(
        SET_ITEMS,
        lead=second["id"],
        items=[
            {"productId": rose["id"], "quantity": "1.5", "unitPrice": "140"},
            {"product": "Упаковка", "unitPrice": "30.10"},
        ],
    )
    await shop.panel.data(SET_ITEMS, lead=still_open["id"], items=[{"productId": rose["id"]}])
    await win(shop.panel, first["id"])
    await win(shop.panel, second["id"])
    # The report names the product as the catalogue has it now.
    await shop.panel.data(UPDATE_PRODUCT, input={"id": rose["id"], "name": "Роза алая"})

    now = datetime.now(UTC)
    period = {
        "starts": (now - timedelta(hours=1)).isoformat(),
        "ends": (now + timedelta(hours=1)).isoformat(),
    }
    rows = (await shop.panel.data(SALES, **period))["salesByProduct"]["rows"]
    assert rows == [
        {
            "productId": rose["id"],
            "name": "Роза алая",
            "sku": "ROSE",
            "currency": "RUB",
            "quantity": "3.5",
            # 2 × 150 + 1.5 × 140
            "revenue": "510.00",
            # 3.5 × 70
            "cost": "245.00",
            "margin": "265.00",
            "leads": 2,
        },
        {
            "productId": card["id"],
            "name": "Открытка",
            "sku": "CARD",
            "currency": "RUB",
            "quantity": "1",
            "revenue": "50.00",
            "cost": "0.00",
            "margin": None,
            "leads": 1,
        },
        {
            "productId": None,
            "name": "Упаковка",
            "sku": None,
            "currency": "RUB",
            "quantity": "1",
            "revenue": "30.10",
            "cost": "0.00",
            "margin": None,
            "leads": 1,
        },
    ]
    earlier = {
        "starts": (now - timedelta(days=2)).isoformat(),
        "ends": (now - timedelta(days=1)).isoformat(),
    }
    assert (await shop.panel.data(SALES, **earlier))["salesByProduct"]["rows"] == []
    backwards = await shop.panel(SALES, starts=period["ends"], ends=period["starts"])
    assert [e["extensions"]["code"] for e in backwards["errors"]] == ["invalid"]
