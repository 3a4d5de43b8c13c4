"""node(id:) resolves every type that implements Node: each is registered by its domain, and one
instance of each a shop's day makes is read back by its id, by the owner and the platform key,
never by another workspace."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import strawberry
from graphql import GraphQLObjectType
from money_support import ISSUE, create, create_product, line
from sqlalchemy import delete, select

from conftest import GraphQL
from embedcrm.analytics.models import AdSpend
from embedcrm.capture.models import Submission
from embedcrm.catalog.models import Product
from embedcrm.contacts.models import Contact, ContactMerge, MergeProposal
from embedcrm.feedback.models import FeedbackAnswer
from embedcrm.fields.models import CustomFieldDefinition, Segment, Tag
from embedcrm.graphql.ids import parse_global_id, to_global_id
from embedcrm.graphql.nodes import registered
from embedcrm.graphql.schema import TYPES, Mutation, Query
from embedcrm.invoices.models import Invoice, Payment
from embedcrm.leads.models import Activity, Lead
from embedcrm.messages.models import Message, MessageTemplate
from embedcrm.pipelines.models import Pipeline, Stage
from embedcrm.privacy.models import Erasure
from embedcrm.services import Services
from embedcrm.tasks.models import Task
from embedcrm.webhooks.models import (
    DeliveryStatus,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from embedcrm.workspaces.models import Member, Site
from factories import make_tenant, submission, submit

MODELS: dict[str, Any] = {
    "Site": Site,
    "Member": Member,
    "Pipeline": Pipeline,
    "Stage": Stage,
    "Contact": Contact,
    "Lead": Lead,
    "Submission": Submission,
    "Activity": Activity,
    "Task": Task,
    "Tag": Tag,
    "CustomField": CustomFieldDefinition,
    "Segment": Segment,
    "MergeProposal": MergeProposal,
    "ContactMerge": ContactMerge,
    "Erasure": Erasure,
    "AdSpend": AdSpend,
    "Product": Product,
    "Invoice": Invoice,
    "Payment": Payment,
    "Message": Message,
    "MessageTemplate": MessageTemplate,
    "FeedbackAnswer": FeedbackAnswer,
    "WebhookEvent": OutboxEvent,
    "WebhookDelivery": WebhookDelivery,
    "WebhookAttempt": WebhookAttempt,
}
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
SEND = """mutation($contact: ID!) { sendMessage(input: {contactId: $contact, channel: SMS,
  subject: "", body: "Заказ готов"}) { userErrors { code } } }"""
TEMPLATE = """mutation { createMessageTemplate(input: {name: "Привет", channel: SMS,
  language: "ru", subject: "", body: "Здравствуйте"}) { userErrors { code } } }"""
TAG = """mutation($id: ID!) { tagRecords(input: {ids: [$id], add: ["vip"]}) {
  userErrors { code } } }"""
FIELD = """mutation { createCustomField(input: {entity: CONTACT, key: "birthday",
  label: "День рождения", type: DATE}) { userErrors { code } } }"""
SPEND = """mutation { recordAdSpend(input: {source: "yandex", startsOn: "2026-11-01",
  endsOn: "2026-11-02", amount: "1000.00"}) { userErrors { code } } }"""
PAY = """mutation($id: ID!) { recordPayment(input: {invoiceId: $id, amount: "100.00"}) {
  userErrors { code } } }"""
MERGE = """mutation($keep: ID!, $gone: ID!) { mergeContacts(input: {keepId: $keep,
  mergeId: $gone}) { userErrors { code } } }"""
ERASE = """mutation($id: ID!) { erasePerson(input: {contactId: $id}) { userErrors { code } } }"""
# For an event type nothing here emits: no dispatcher of a run beside this one delivers to it.
ENDPOINT = """mutation { createWebhookEndpoint(input: {url: "http://127.0.0.1:9/crm",
  eventTypes: ["invoice.overdue"]}) { endpoint { id } userErrors { code } } }"""
CONTACTS = "{ contacts(first: 10) { edges { node { id } } } }"
SEGMENT = """mutation { createSegment(input: {name: "Ромашки", contactFilter: {company: "Ромашка"}}) {
  userErrors { code } } }"""
DISABLE_ENDPOINT = """mutation($id: ID!) { disableWebhookEndpoint(input: {id: $id}) {
  userErrors { code } } }"""


def node_types() -> set[str]:
    schema = strawberry.Schema(query=Query, mutation=Mutation, types=TYPES)._schema
    return {
        name
        for name, kind in schema.type_map.items()
        if isinstance(kind, GraphQLObjectType)
        and any(interface.name == "Node" for interface in kind.interfaces)
    }


def test_every_node_type_has_a_loader_and_a_model_here() -> None:
    types = node_types()
    assert types == registered()
    # A new Node type must be made below, or said why not.
    assert types - {"WebhookEndpoint", "Workspace"} == set(MODELS)


async def ok(gql: GraphQL, query: str, **variables: Any) -> None:
    (payload,) = (await gql.data(query, **variables)).values()
    assert payload["userErrors"] == [], payload


async def test_node_resolves_one_of_each_type_by_its_id(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    other = await make_tenant(platform)
    people = [
        (f"n{n}-{uuid.uuid4().hex[:8]}@example.com", f"+7 912 555-00-{n:02}") for n in range(5)
    ]
    for email, phone in people:
        await submit(client, tenant, submission(email=email, phone=phone))
    # One person's e-mail with another's phone: a merge proposal between the two.
    await submit(client, tenant, submission(email=people[3][0], phone=people[4][1]))
    contacts = [e["node"]["id"] for e in (await tenant.panel.data(CONTACTS))["contacts"]["edges"]]
    assert len(contacts) == 5
    await ok(tenant.panel, SEND, contact=contacts[0])
    await ok(tenant.panel, TEMPLATE)
    await ok(tenant.panel, TAG, id=contacts[0])
    await ok(tenant.panel, FIELD)
    await ok(tenant.panel, SPEND)
    await ok(tenant.panel, SEGMENT)
    product = await create_product(tenant.panel, sku="KETTLE", name="Чайник", price="100.00")
    invoice = await create(
        tenant.panel,
        buyerName="Покупатель",
        lines=[{**line("Чайник", "1", "100.00", "VAT_20"), "productId": product["id"]}],
    )
    assert (await tenant.panel.data(ISSUE, id=invoice["id"]))["issueInvoice"]["userErrors"] == []
    await ok(tenant.panel, PAY, id=invoice["id"])
    # Newest first: the last two are the first two people, whom no proposal names.
    await ok(tenant.panel, MERGE, keep=contacts[3], gone=contacts[4])
    await ok(tenant.panel, ERASE, id=contacts[2])
    endpoint = (await tenant.panel.data(ENDPOINT))["createWebhookEndpoint"]["endpoint"]["id"]
    workspace = parse_global_id(tenant.workspace_id).workspace_id
    gid = parse_global_id(contacts[0])
    feedback_path = services.feedback.links.url(gid.workspace_id, gid.row_id, None, "NPS")
    answered = await client.post(feedback_path.removeprefix("http://crm.test"), data={"score": "9"})
    assert answered.status_code == 200

    # Disabled at once: the dispatchers of other runs on a shared database leave it alone.
    await ok(tenant.panel, DISABLE_ENDPOINT, id=endpoint)
    endpoint_id = parse_global_id(endpoint).row_id
    ids = {"WebhookEndpoint": endpoint, "Workspace": tenant.workspace_id}
    async with services.db.transaction() as session:
        # A delivery and its attempt, as a dispatcher records them (none runs here).
        event = await session.scalar(
            select(OutboxEvent).where(OutboxEvent.workspace_id == workspace).limit(1)
        )
        assert event is not None
        delivery = WebhookDelivery(
            workspace_id=workspace,
            id=uuid.uuid4(),
            event_id=event.id,
            endpoint_id=endpoint_id,
            endpoint_key=endpoint_id,
            event_type=event.type,
            status=DeliveryStatus.FAILED,
            attempt_count=1,
        )
        session.add(delivery)
        await session.flush()
        session.add(
            WebhookAttempt(
                workspace_id=workspace,
                delivery_id=delivery.id,
                endpoint_key=endpoint_id,
                attempt_number=1,
                error="connection refused",
            )
        )
        await session.flush()
        for type_name, model in MODELS.items():
            key = model.id
            row_id = await session.scalar(
                select(key).where(model.workspace_id == workspace).limit(1)
            )
            assert row_id is not None, type_name
            ids[type_name] = to_global_id(type_name, workspace, row_id)
    assert set(ids) == node_types()
    for type_name, value in ids.items():
        for reader in (tenant.panel, platform):
            node = (await reader.data(NODE, id=value))["node"]
            assert node == {"__typename": type_name, "id": value}, (type_name, reader)
        assert (await other.panel.data(NODE, id=value))["node"] is None, type_name
    # A workspace's id names it twice: one naming another row is nothing.
    forged = to_global_id("Workspace", workspace, uuid.uuid4())
    assert (await tenant.panel.data(NODE, id=forged))["node"] is None
    async with services.db.transaction() as session:
        for model in (WebhookAttempt, WebhookDelivery, WebhookEndpoint):
            key = model.id if model is WebhookEndpoint else model.endpoint_key
            await session.execute(
                delete(model).where(model.workspace_id == workspace, key == endpoint_id)
            )
