"""Helpers for the money tests: products, carts and moves to a WON stage through GraphQL."""

from __future__ import annotations

from typing import Any

from conftest import GraphQL

CREATE_PRODUCT = """mutation($input: CreateProductInput!) { createProduct(input: $input) {
  product { id sku name kind unit price cost vatRate active } userErrors { field message code } } }"""
UPDATE_PRODUCT = """mutation($input: UpdateProductInput!) { updateProduct(input: $input) {
  product { id sku name price cost vatRate active } userErrors { field message code } } }"""
SET_ITEMS = """mutation($lead: ID!, $items: [LeadItemInput!]!) {
  setLeadItems(input: {leadId: $lead, items: $items}) {
    lead { id value items { product productId sku quantity unitPrice unitCost lineTotal } }
    userErrors { field message code } } }"""
PIPELINES = "{ pipelines { stages { id kind } } }"
MOVE = """mutation($lead: ID!, $stage: ID!) { moveLead(input: {leadId: $lead, stageId: $stage}) {
  lead { status } userErrors { code } } }"""


INVOICE_FIELDS = """id number status buyerName currency vatMode subtotal vatTotal total dueOn
  leadId contactId printUrl lines { productId name unit quantity unitPrice vatRate net vat total }"""
CREATE = f"""mutation($input: CreateInvoiceInput!) {{ createInvoice(input: $input) {{
  invoice {{ {INVOICE_FIELDS} }} userErrors {{ field message code }} }} }}"""
ISSUE = """mutation($id: ID!) { issueInvoice(input: {id: $id}) {
  invoice { id number status } userErrors { field message code } } }"""
CANCEL = """mutation($id: ID!) { cancelInvoice(input: {id: $id}) {
  invoice { id number status } userErrors { field message code } } }"""


def line(name: str, quantity: str, price: str, rate: str) -> dict[str, str]:
    return {"name": name, "quantity": quantity, "unitPrice": price, "vatRate": rate}


async def create(panel: GraphQL, **fields: Any) -> dict[str, Any]:
    payload = (await panel.data(CREATE, input=fields))["createInvoice"]
    assert payload["userErrors"] == [], payload
    invoice: dict[str, Any] = payload["invoice"]
    return invoice


async def create_product(panel: GraphQL, **fields: Any) -> dict[str, Any]:
    fields.setdefault("vatRate", "VAT_20")
    payload = (await panel.data(CREATE_PRODUCT, input=fields))["createProduct"]
    assert payload["userErrors"] == [], payload
    product: dict[str, Any] = payload["product"]
    return product


async def stage_of(panel: GraphQL, kind: str) -> str:
    stages = (await panel.data(PIPELINES))["pipelines"][0]["stages"]
    return str(next(s["id"] for s in stages if s["kind"] == kind))


async def win(panel: GraphQL, lead_id: str) -> None:
    moved = (await panel.data(MOVE, lead=lead_id, stage=await stage_of(panel, "WON")))["moveLead"]
    assert moved["lead"]["status"] == "WON", moved
