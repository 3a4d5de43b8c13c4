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
