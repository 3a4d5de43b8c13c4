"""The client card (K3), tasks and reminders (K4), and who may change what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from crm_support import errors_of, events, new_lead, panel_as
from sqlalchemy import select

from conftest import GraphQL
from embedcrm.graphql.ids import parse_global_id
from embedcrm.leads.models import Lead
from embedcrm.services import Services
from factories import Tenant, make_tenant

CARD = """query($id: ID!) { node(id: $id) { ... on Lead { id value currency channel
  order { paymentMethod deliveryMethod deliveryAddress deliveryFrom deliveryTo orderedAt }
  items { product sku quantity unitPrice unitCost lineTotal } itemsTotal tags { name }
  contact { id manager { id } tags { name } timeline { edges { node { kind body author { id } } } } }
  tasks { totalCount edges { node { title } } } } } }"""
UPDATE_LEAD = """mutation($input: UpdateLeadInput!) { updateLead(input: $input) {
  lead { id value currency customFields } userErrors { field message code } } }"""
ITEMS = """mutation($lead: ID!, $items: [LeadItemInput!]!) { setLeadItems(input: {leadId: $lead, items: $items}) {
  lead { itemsTotal items { lineTotal } } userErrors { field code } } }"""
CREATE_TASK = """mutation($input: CreateTaskInput!) { createTask(input: $input) {
  task { id title dueAt done overdue assignee { id } } userErrors { field code } } }"""
TASKS = """query($filter: TaskFilter) { tasks(filter: $filter) { totalCount edges { node { title overdue } } } }"""
ASSIGN = """mutation($lead: ID!, $who: ID) { assignLead(input: {leadId: $lead, assigneeId: $who}) {
  lead { assignee { id } } userErrors { code } } }"""


async def test_the_card_holds_value_order_cart_timeline_and_manager(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(client, tenant)
    _, member = await panel_as(platform, tenant, "MANAGER")
    updated = await tenant.panel.data(
        UPDATE_LEAD,
        input={
            "id": lead["id"],
            "value": "18 800,50",
            "currency": "rub",
            "paymentMethod": "карта",
            "deliveryMethod": "курьер",
            "deliveryAddress": "Москва, Тверская 1",
            "deliveryFrom": "2026-12-01T10:00:00Z",
            "deliveryTo": "2026-12-01T14:00:00Z",
            "orderedAt": "2026-11-30T09:00:00Z",
        },
    )
    assert updated["updateLead"]["lead"]["value"] == "18800.50"
    assert updated["updateLead"]["lead"]["currency"] == "RUB"
    backwards = await tenant.panel.data(
        UPDATE_LEAD, input={"id": lead["id"], "deliveryTo": "2026-11-01T00:00:00Z"}
    )
    assert backwards["updateLead"]["userErrors"][0]["field"] == "deliveryTo"
    cart = await tenant.panel.data(
        ITEMS,
        lead=lead["id"],
        items=[
            {
                "product": "Букет",
                "sku": "B-1",
                "quantity": "2",
                "unitPrice": "1500",
                "unitCost": "700",
            },
            {"product": "Открытка", "quantity": "1", "unitPrice": "150.5"},
        ],
    )
    assert cart["setLeadItems"]["lead"]["itemsTotal"] == "3150.50"
    bad_cart = await tenant.panel.data(
        ITEMS, lead=lead["id"], items=[{"product": "", "quantity": "0"}]
    )
    assert {e["field"] for e in bad_cart["setLeadItems"]["userErrors"]} <= {
        "items[0].product",
        "items[0].quantity",
    }
    contact_id = lead["contact"]["id"]
    await tenant.panel.data(
        'mutation($id: ID!, $m: ID) { updateContact(input: {id: $id, managerId: $m, company: "ООО Ромашка"}) { userErrors { code } } }',
        id=contact_id,
        m=member,
    )
    await tenant.panel.data(
        'mutation($id: ID!) { addActivity(input: {leadId: $id, kind: CALL, body: "Перезвонил, ждёт счёт"}) { activity { id kind } userErrors { code } } }',
        id=lead["id"],
    )
    refused = await tenant.panel.data(
        'mutation($id: ID!) { addActivity(input: {leadId: $id, kind: STAGE_CHANGE, body: "x"}) { userErrors { field } } }',
        id=lead["id"],
    )
    assert refused["addActivity"]["userErrors"][0]["field"] == "kind"
    card = (await tenant.panel.data(CARD, id=lead["id"]))["node"]
    assert card["order"]["paymentMethod"] == "карта"
    assert card["order"]["deliveryFrom"].startswith("2026-12-01T10:00:00")
    assert [i["lineTotal"] for i in card["items"]] == ["3000.00", "150.50"]
    assert card["items"][0]["unitCost"] == "700.00"
    assert card["contact"]["manager"]["id"] == member
    timeline = [e["node"]["kind"] for e in card["contact"]["timeline"]["edges"]]
    assert timeline[0] == "CALL" and "SUBMISSION" in timeline
    assert [e["type"] for e in await events(services, tenant, "contact.updated")] == [
        "contact.updated"
    ]
    assert len(await events(services, tenant, "lead.updated")) >= 2


async def test_tasks_mine_overdue_and_the_overdue_event_once(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(client, tenant)
    manager, member = await panel_as(platform, tenant, "MANAGER")
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    late = await tenant.panel.data(
        CREATE_TASK,
        input={
            "title": "Перезвонить",
            "dueAt": past,
            "leadId": lead["id"],
            "assigneeId": member,
            "kind": "CALL",
        },
    )
    assert late["createTask"]["task"]["overdue"] is True
    await tenant.panel.data(
        CREATE_TASK, input={"title": "Отправить КП", "dueAt": future, "assigneeId": member}
    )
    mine = (await manager.data(TASKS, filter={"mine": True}))["tasks"]
    assert [e["node"]["title"] for e in mine["edges"]] == ["Перезвонить", "Отправить КП"]
    overdue = (await tenant.panel.data(TASKS, filter={"overdue": True}))["tasks"]
    assert overdue["totalCount"] == 1
    assert await services.tasks.emit_overdue() >= 1
    await services.tasks.emit_overdue()
    (event,) = await events(services, tenant, "task.overdue")
    assert event["data"]["task"]["title"] == "Перезвонить"
    done = await manager.data(
        "mutation($id: ID!) { updateTask(input: {id: $id, done: true}) { task { done } userErrors { code } } }",
        id=late["createTask"]["task"]["id"],
    )
    assert done["updateTask"]["task"]["done"] is True
    assert len(await events(services, tenant, "task.completed")) == 1
    assert (await manager.data(TASKS, filter={"overdue": True}))["tasks"]["totalCount"] == 0
    card = (await tenant.panel.data(CARD, id=lead["id"]))["node"]
    # The lead's own tasks: ours, beside the first-response task capture made.
    assert "Перезвонить" in [e["node"]["title"] for e in card["tasks"]["edges"]]


async def test_managers_change_what_is_theirs_unless_allowed_more(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(client, tenant)
    manager, member = await panel_as(platform, tenant, "MANAGER")
    viewer, _ = await panel_as(platform, tenant, "VIEWER")
    update = {"id": lead["id"], "value": "100", "currency": "RUB"}
    assert errors_of((await manager.data(UPDATE_LEAD, input=update))["updateLead"]) == ["forbidden"]
    assert errors_of((await viewer.data(UPDATE_LEAD, input=update))["updateLead"]) == ["forbidden"]
    # An unassigned lead is the manager's to take (test_crm_roles.py has the rest).
    taken = await manager.data(ASSIGN, lead=lead["id"], who=member)
    assert taken["assignLead"]["lead"]["assignee"]["id"] == member
    (event,) = await events(services, tenant, "lead.assigned")
    assert event["data"]["assignee"]["name"] == "Иван"
    assert (await manager.data(UPDATE_LEAD, input=update))["updateLead"]["userErrors"] == []
    other = await new_lead(client, tenant)
    assert errors_of(
        (await manager.data(UPDATE_LEAD, input={**update, "id": other["id"]}))["updateLead"]
    ) == ["forbidden"]
    settings = "mutation($v: Boolean!) { updateCrmSettings(input: {managersCanEditAll: $v}) { managersCanEditAll userErrors { code } } }"
    assert errors_of((await manager.data(settings, v=True))["updateCrmSettings"]) == ["forbidden"]
    assert (await tenant.panel.data(settings, v=True))["updateCrmSettings"][
        "managersCanEditAll"
    ] is True
    assert (await manager.data(UPDATE_LEAD, input={**update, "id": other["id"]}))["updateLead"][
        "userErrors"
    ] == []
    assert errors_of(
        (await viewer.data(UPDATE_LEAD, input={**update, "id": other["id"]}))["updateLead"]
    ) == ["forbidden"]
    task = await viewer.data(CREATE_TASK, input={"title": "x", "dueAt": "2030-01-01T00:00:00Z"})
    assert errors_of(task["createTask"]) == ["forbidden"]


async def test_cards_and_tasks_of_another_workspace_answer_like_unknown_ones(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    a, b = await make_tenant(platform), await make_tenant(platform)
    lead = await new_lead(client, a)
    task = await a.panel.data(
        CREATE_TASK,
        input={"title": "Позвонить", "dueAt": "2030-01-01T00:00:00Z", "leadId": lead["id"]},
    )
    task_id = task["createTask"]["task"]["id"]
    for query, variables in (
        (UPDATE_LEAD, {"input": {"id": lead["id"], "title": "x"}}),
        (ITEMS, {"lead": lead["id"], "items": []}),
        (
            'mutation($id: ID!) { updateContact(input: {id: $id, name: "x"}) { userErrors { code } } }',
            {"id": lead["contact"]["id"]},
        ),
        (
            "mutation($id: ID!) { updateTask(input: {id: $id, done: true}) { userErrors { code } } }",
            {"id": task_id},
        ),
        (
            'mutation($id: ID!) { addActivity(input: {leadId: $id, kind: NOTE, body: "x"}) { userErrors { code } } }',
            {"id": lead["id"]},
        ),
        (
            CREATE_TASK,
            {"input": {"title": "x", "dueAt": "2030-01-01T00:00:00Z", "leadId": lead["id"]}},
        ),
    ):
        data = await b.panel.data(query, **variables)
        (payload,) = data.values()
        assert errors_of(payload) == ["not_found"], query
    assert (await b.panel.data(CARD, id=lead["id"]))["node"] is None
    assert (await b.panel.data(TASKS))["tasks"]["totalCount"] == 0


LEAD_TASKS = """query($id: ID!) { node(id: $id) { ... on Lead {
  tasks { edges { node { kind done doneAt } } } } } }"""
ACTIVITY = (
    """mutation($input: AddActivityInput!) { addActivity(input: $input) { userErrors { code } } }"""
)
MOVE = """mutation($lead: ID!, $stage: ID!) { moveLead(input: {leadId: $lead, stageId: $stage}) {
  lead { status } userErrors { code } } }"""


async def first_response_done(tenant: Tenant, lead_id: str) -> bool:
    node = (await tenant.panel.data(LEAD_TASKS, id=lead_id))["node"]
    (task,) = [e["node"] for e in node["tasks"]["edges"] if e["node"]["kind"] == "FIRST_RESPONSE"]
    done: bool = task["done"]
    return done


async def test_the_first_response_task_closes_when_the_lead_is_answered_won_or_lost(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    stages = (await tenant.panel.data("{ pipelines { stages { id kind } } }"))["pipelines"][0][
        "stages"
    ]
    open_stage = stages[0]["id"]
    won, lost = (next(s["id"] for s in stages if s["kind"] == kind) for kind in ("WON", "LOST"))
    called = await new_lead(client, tenant, email="called@example.com")
    noted_then_won = await new_lead(client, tenant, email="won@example.com")
    lost_lead = await new_lead(client, tenant, email="lost@example.com")
    # One person, two open leads: a meeting logged on the contact answers both.
    met = [await new_lead(client, tenant, email="met@example.com") for _ in range(2)]
    untouched = await new_lead(client, tenant, email="waiting@example.com")

    for input_ in (
        {"leadId": called["id"], "kind": "CALL", "body": "Перезвонил, обсудили доставку"},
        {"leadId": noted_then_won["id"], "kind": "NOTE", "body": "Похоже на постоянного"},
        {"contactId": met[0]["contact"]["id"], "kind": "MEETING", "body": "Встреча в офисе"},
    ):
        assert (await tenant.panel.data(ACTIVITY, input=input_))["addActivity"]["userErrors"] == []
    assert await first_response_done(tenant, called["id"])
    assert all([await first_response_done(tenant, lead["id"]) for lead in met])
    # A note is internal: nobody was answered yet.
    assert not await first_response_done(tenant, noted_then_won["id"])
    for lead, stage in ((noted_then_won, won), (lost_lead, lost)):
        assert (await tenant.panel.data(MOVE, lead=lead["id"], stage=stage))["moveLead"][
            "userErrors"
        ] == []
        assert await first_response_done(tenant, lead["id"])
    assert not await first_response_done(tenant, untouched["id"])
    assert len(await events(services, tenant, "task.completed")) == 5

    # Past every due time only the unanswered open lead's task is overdue.
    # The scan takes the oldest first, across every workspace of the test database.
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    for _ in range(1000):
        if not await services.tasks.emit_overdue(now=tomorrow):
            break
    overdue = await events(services, tenant, "task.overdue")
    assert [e["data"]["task"]["lead_id"] for e in overdue] == [untouched["id"]]

    # Won or lost without an answer is not an answer: the report's first response stays empty.
    workspace = parse_global_id(tenant.workspace_id).row_id
    async with services.db.transaction() as session:
        answered_at = dict(
            (
                await session.execute(
                    select(Lead.id, Lead.first_response_at).where(Lead.workspace_id == workspace)
                )
            ).all()
        )
    assert answered_at[parse_global_id(called["id"]).row_id] is not None
    assert answered_at[parse_global_id(met[1]["id"]).row_id] is not None
    assert answered_at[parse_global_id(lost_lead["id"]).row_id] is None

    # Reopened before anyone answered: its task is open again.
    assert (await tenant.panel.data(MOVE, lead=lost_lead["id"], stage=open_stage))["moveLead"][
        "lead"
    ]["status"] == "OPEN"
    assert not await first_response_done(tenant, lost_lead["id"])
