"""The 1C exchange, replayed as 1C:Управление торговлей sends it («обмен с сайтом», CommerceML
2): checkauth, init, query, success and file for orders; file and import for the catalogue.
The XML answered is parsed and read back."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from typing import Any

import httpx
from crm_support import errors_of, panel_as
from money_support import ISSUE, create_product

from conftest import GraphQL
from embedcrm.graphql.ids import parse_global_id
from factories import Tenant, make_tenant

SET_EXCHANGE = """mutation($input: SetOneCExchangeInput!) { setOneCExchange(input: $input) {
  exchange { login exchangeUrl lastQueryAt } userErrors { field message code } } }"""
CREATE = """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) {
  invoice { id } userErrors { field message code } } }"""
INVOICE = """query($id: ID!) { node(id: $id) { ... on Invoice { status paid
  payments { amount provider } } } }"""
PRODUCTS = "{ products(first: 50) { edges { node { sku name unit price vatRate kind } } } }"

CATALOG = """<?xml version="1.0" encoding="windows-1251"?>
<КоммерческаяИнформация ВерсияСхемы="2.08" ДатаФормирования="2026-11-30T10:00:00">
  <Каталог СодержитТолькоИзменения="false">
    <Ид>catalog-1</Ид>
    <Наименование>Основной каталог товаров</Наименование>
    <Товары>
      <Товар>
        <Ид>5f1c0a2e-0001</Ид>
        <Артикул>ROSE-RED</Артикул>
        <Наименование>Роза красная</Наименование>
        <БазоваяЕдиница Код="796" НаименованиеПолное="Штука">шт</БазоваяЕдиница>
        <СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>20</Ставка></СтавкаНалога></СтавкиНалогов>
      </Товар>
      <Товар>
        <Ид>5f1c0a2e-0002</Ид>
        <Наименование>Доставка по городу</Наименование>
        <БазоваяЕдиница>усл</БазоваяЕдиница>
        <ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ВидНоменклатуры</Наименование><Значение>Услуга</Значение></ЗначениеРеквизита></ЗначенияРеквизитов>
        <СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>Без налога</Ставка></СтавкаНалога></СтавкиНалогов>
      </Товар>
    </Товары>
  </Каталог>
</КоммерческаяИнформация>
"""
OFFERS = """<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация ВерсияСхемы="2.08">
  <ПакетПредложений>
    <Предложения>
      <Предложение><Ид>5f1c0a2e-0001</Ид><Наименование>Роза красная</Наименование>
        <Цены><Цена><ИдТипаЦены>retail</ИдТипаЦены><ЦенаЗаЕдиницу>155.50</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена></Цены>
      </Предложение>
      <Предложение><Ид>5f1c0a2e-0002#fast</Ид>
        <Цены><Цена><ЦенаЗаЕдиницу>400</ЦенаЗаЕдиницу></Цена></Цены>
      </Предложение>
      <Предложение><Ид>unknown</Ид><Цены><Цена><ЦенаЗаЕдиницу>1</ЦенаЗаЕдиницу></Цена></Цены></Предложение>
    </Предложения>
  </ПакетПредложений>
</КоммерческаяИнформация>
"""


def basic(login: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{login}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class OneC:
    """What 1C does: basic auth at checkauth, then the cookie it was given on every call."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client, self.url, self.cookie = client, url, ""

    async def call(
        self, exchange_type: str, mode: str, *, body: bytes | None = None, **params: str
    ) -> httpx.Response:
        query = {"type": exchange_type, "mode": mode, **params}
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is None:
            return await self.client.get(self.url, params=query, headers=headers)
        return await self.client.post(self.url, params=query, headers=headers, content=body)

    async def login(self, exchange_type: str, login: str, password: str) -> None:
        answer = await self.client.get(
            self.url,
            params={"type": exchange_type, "mode": "checkauth"},
            headers=basic(login, password),
        )
        assert answer.status_code == 200, answer.text
        status, name, value = answer.text.splitlines()
        assert status == "success"
        self.cookie = f"{name}={value}"
        init = await self.call(exchange_type, "init")
        assert init.text.splitlines() == ["zip=no", "file_limit=8388608"]


async def set_up(tenant: Tenant) -> str:
    answer = (
        await tenant.panel.data(
            SET_EXCHANGE, input={"login": "1c-exchange", "password": "p@ss-1c-2026"}
        )
    )["setOneCExchange"]
    assert answer["userErrors"] == []
    url: str = answer["exchange"]["exchangeUrl"]
    assert (
        url
        == f"http://crm.test/v1/workspaces/{parse_global_id(tenant.workspace_id).row_id}/1c/exchange"
    )
    return url.removeprefix("http://crm.test")


def documents(xml: bytes) -> list[Any]:
    root = ET.fromstring(xml)
    assert root.tag == "КоммерческаяИнформация" and root.get("ВерсияСхемы") == "2.08"
    return list(root.iter("Документ"))


def requisites(document: Any) -> dict[str, str]:
    return {
        item.findtext("Наименование"): item.findtext("Значение")
        for item in document.find("ЗначенияРеквизитов")
    }


async def test_1c_takes_the_orders_and_reports_them_paid(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    shop = await make_tenant(platform)
    path = await set_up(shop)
    rose = await create_product(shop.panel, sku="ROSE", name="Роза", price="150", vatRate="VAT_20")
    created = (
        await shop.panel.data(
            CREATE,
            input={
                "buyerName": "ООО «Клиент»",
                "vatMode": "INCLUDED",
                "lines": [
                    {
                        "name": "Роза",
                        "quantity": "3",
                        "unitPrice": "150",
                        "vatRate": "VAT_20",
                        "sku": "ROSE",
                        "productId": rose["id"],
                    }
                ],
            },
        )
    )["createInvoice"]["invoice"]
    await shop.panel.data(ISSUE, id=created["id"])
    await shop.panel.data(
        CREATE, input={"buyerName": "Черновик", "lines": [{"name": "x", "unitPrice": "1"}]}
    )
    invoice_uuid = str(parse_global_id(created["id"]).row_id)

    one_c = OneC(client, path)
    refused = await client.get(
        path, params={"type": "sale", "mode": "checkauth"}, headers=basic("1c-exchange", "wrong")
    )
    assert refused.status_code == 401
    assert (await one_c.call("sale", "query")).status_code == 401
    await one_c.login("sale", "1c-exchange", "p@ss-1c-2026")

    query = await one_c.call("sale", "query")
    assert query.headers["content-type"].startswith("application/xml")
    (order,) = documents(query.content)
    assert order.findtext("Ид") == invoice_uuid
    assert (order.findtext("Номер"), order.findtext("ХозОперация"), order.findtext("Сумма")) == (
        "1",
        "Заказ товара",
        "450.00",
    )
    assert order.findtext("Контрагенты/Контрагент/Наименование") == "ООО «Клиент»"
    assert order.findtext("Налоги/Налог/Сумма") == "75.00"
    (item,) = order.iter("Товар")
    assert (item.findtext("Артикул"), item.findtext("Количество"), item.findtext("Сумма")) == (
        "ROSE",
        "3",
        "450.00",
    )
    assert item.findtext("СтавкиНалогов/СтавкаНалога/Ставка") == "20"
    assert requisites(order)["Заказ оплачен"] == "false"

    assert (await one_c.call("sale", "success")).text == "success\n"
    assert documents((await one_c.call("sale", "query")).content) == []
    status = await shop.panel.data("{ oneCExchange { lastQueryAt } }")
    assert status["oneCExchange"]["lastQueryAt"] is not None

    # 1C sends the order back paid; sent twice, it is applied once.
    paid_back = f"""<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация ВерсияСхемы="2.08"><Документ><Ид>{invoice_uuid}</Ид><Номер>1</Номер>
<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>Дата оплаты по 1С</Наименование>
<Значение>2026-11-30T12:00:00</Значение></ЗначениеРеквизита></ЗначенияРеквизитов></Документ>
<Документ><Ид>not-ours</Ид></Документ></КоммерческаяИнформация>""".encode()
    for _ in range(2):
        answer = await one_c.call("sale", "file", body=paid_back, filename="to_site.xml")
        assert answer.text == "success\n"
    node = (await shop.panel.data(INVOICE, id=created["id"]))["node"]
    assert (node["status"], node["payments"]) == ("PAID", [{"amount": "450.00", "provider": "1c"}])
    # Changed since 1C took it: it is sent again, now paid.
    (again,) = documents((await one_c.call("sale", "query")).content)
    assert requisites(again)["Заказ оплачен"] == "true"

    broken = await one_c.call("sale", "file", body=b"<not xml", filename="x.xml")
    assert broken.status_code == 400
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    assert (await one_c.call("sale", "file", body=bomb, filename="x.xml")).status_code == 400

    # The cookie of one workspace opens no other.
    other = await make_tenant(platform)
    other_path = await set_up(other)
    assert (await OneC(client, other_path).call("sale", "query")).status_code == 401
    stolen = OneC(client, other_path)
    stolen.cookie = one_c.cookie
    assert (await stolen.call("sale", "query")).status_code == 401


async def test_1c_uploads_its_catalogue_and_offers(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    shop = await make_tenant(platform)
    path = await set_up(shop)
    await create_product(shop.panel, sku="ROSE-RED", name="Старое имя", price="1", vatRate="VAT_10")
    one_c = OneC(client, path)
    await one_c.login("catalog", "1c-exchange", "p@ss-1c-2026")

    catalog = CATALOG.encode("cp1251")
    half = len(catalog) // 2
    for part in (catalog[:half], catalog[half:]):
        answer = await one_c.call("catalog", "file", body=part, filename="import.xml")
        assert answer.text == "success\n"
    assert (await one_c.call("catalog", "import", filename="import.xml")).text == "success\n"
    await one_c.call("catalog", "file", body=OFFERS.encode(), filename="offers.xml")
    assert (await one_c.call("catalog", "import", filename="offers.xml")).text == "success\n"

    products = sorted(
        (e["node"] for e in (await shop.panel.data(PRODUCTS))["products"]["edges"]),
        key=lambda p: p["sku"],
    )
    assert products == [
        {
            "sku": "5f1c0a2e-0002",
            "name": "Доставка по городу",
            "unit": "усл",
            "price": "400.00",
            "vatRate": "NONE",
            "kind": "SERVICE",
        },
        {
            "sku": "ROSE-RED",
            "name": "Роза красная",
            "unit": "шт",
            "price": "155.50",
            "vatRate": "VAT_20",
            "kind": "PRODUCT",
        },
    ]
    # An import of a file never uploaded, or an unsafe name, is refused.
    assert (await one_c.call("catalog", "import", filename="import.xml")).status_code == 400
    assert (await one_c.call("catalog", "file", body=b"x", filename="../etc")).status_code == 400
    assert (await one_c.call("catalog", "nonsense")).status_code == 400


async def test_only_an_owner_sets_up_the_exchange(platform: GraphQL) -> None:
    shop = await make_tenant(platform)
    manager, _ = await panel_as(platform, shop, "MANAGER")
    refused = await manager.data(SET_EXCHANGE, input={"login": "a", "password": "long-enough"})
    assert errors_of(refused["setOneCExchange"]) == ["forbidden"]
    short = await shop.panel.data(SET_EXCHANGE, input={"login": "a", "password": "short"})
    assert short["setOneCExchange"]["userErrors"][0]["field"] == "password"
    assert (await shop.panel.data("{ oneCExchange { login } }"))["oneCExchange"] is None
    # The password is not a field at all: the query is refused before it runs.
    hidden = await shop.panel("{ oneCExchange { password } }")
    assert set(hidden) == {"errors"}
    assert [e["extensions"]["code"] for e in hidden["errors"]] == ["graphql_validation_failed"]
