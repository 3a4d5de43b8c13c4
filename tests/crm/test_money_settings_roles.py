"""The money side's settings are the owner's, refused on the GraphQL field itself: a MANAGER
or a VIEWER gets `forbidden` in the payload, and nothing changes behind it."""

from __future__ import annotations

from typing import Any

import pytest
from crm_support import errors_of, panel_as
from money_support import CREATE_PRODUCT, UPDATE_PRODUCT, create_product

from conftest import GraphQL
from factories import make_tenant

SETTINGS = {
    "createProduct": CREATE_PRODUCT,
    "updateProduct": UPDATE_PRODUCT,
    "importProducts": """mutation($input: ImportProductsInput!) { importProducts(input: $input) {
  userErrors { field message code } } }""",
    "setRequisites": """mutation($input: SetRequisitesInput!) { setRequisites(input: $input) {
  userErrors { field message code } } }""",
    "setPaymentProvider": """mutation($input: SetPaymentProviderInput!) {
  setPaymentProvider(input: $input) { userErrors { field message code } } }""",
    "setOneCExchange": """mutation($input: SetOneCExchangeInput!) {
  setOneCExchange(input: $input) { userErrors { field message code } } }""",
    "setCommissionRules": """mutation($input: SetCommissionRulesInput!) {
  setCommissionRules(input: $input) { userErrors { field message code } } }""",
}
STATE = """query($member: ID!) {
  products { totalCount edges { node { name } } }
  requisites { inn } paymentProviders { account } oneCExchange { login }
  commissionRules(memberId: $member) { percent } }"""


@pytest.mark.parametrize("role", ["MANAGER", "VIEWER"])
async def test_only_an_owner_changes_the_money_settings(platform: GraphQL, role: str) -> None:
    shop = await make_tenant(platform)
    member_panel, member = await panel_as(platform, shop, role)
    product = await create_product(shop.panel, sku="ROSE", name="Роза", price="150")
    before = await shop.panel.data(STATE, member=member)
    inputs: dict[str, dict[str, Any]] = {
        "createProduct": {"sku": "LILY", "name": "Лилия", "price": "90", "vatRate": "VAT_20"},
        "updateProduct": {"id": product["id"], "name": "Не роза"},
        "importProducts": {"csv": "sku,name,price\nTULIP,Тюльпан,50\n"},
        "setRequisites": {"legalName": "ООО «Ромашка»", "inn": "7707083893"},
        "setPaymentProvider": {"provider": "YOOKASSA", "account": "100500", "secret": "live_x"},
        "setOneCExchange": {"login": "exchange", "password": "long-enough"},
        "setCommissionRules": {
            "memberId": member,
            "rules": [{"basis": "MARGIN", "percent": "50", "startsOn": "2026-01-01"}],
        },
    }
    for name, mutation in SETTINGS.items():
        refused = await member_panel.data(mutation, input=inputs[name])
        assert errors_of(refused[name]) == ["forbidden"], name
    assert await shop.panel.data(STATE, member=member) == before
    assert before["products"]["edges"] == [{"node": {"name": "Роза"}}]
    assert (before["requisites"], before["oneCExchange"]) == (None, None)

    # The same inputs from the owner go through: the refusal was the role's, not the input's.
    for name, mutation in SETTINGS.items():
        done = await shop.panel.data(mutation, input=inputs[name])
        assert done[name]["userErrors"] == [], (name, done)
    after = await shop.panel.data(STATE, member=member)
    assert after["products"]["totalCount"] == 3
    assert after["requisites"] == {"inn": "7707083893"}
    assert after["commissionRules"] == [{"percent": "50.00"}]
