"""The panel's lists cost the same number of SQL statements for 5 rows as for 50.

A related object read row by row (N+1) makes the 50-row page cost more than the 5-row one,
which these tests refuse. They run on both databases, with leads that have a stage, an
assignee, a contact, a source and tags, and a second workspace beside them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import httpx
import pytest
from crm_support import panel_as
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import GraphQL, counting_queries
from embedcrm.contacts.models import Contact
from embedcrm.contacts.service import Person
from embedcrm.fields.filters import FieldCondition, FieldOp, LeadSpec
from embedcrm.fields.models import FieldType
from embedcrm.graphql.ids import parse_global_id
from embedcrm.kit.repository import Window
from embedcrm.leads.assignment import RuleSpec
from embedcrm.leads.models import AssignmentRuleKind, Lead, LeadStatus, PageRelations
from embedcrm.leads.repository import LeadRepository
from embedcrm.leads.service import Attribution, NewLead, create_lead
from embedcrm.pipelines.models import Stage
from embedcrm.services import Services
from embedcrm.workspaces.models import Member
from factories import Tenant, make_tenant

ROWS = 50
SMALL = 5

LEADS_PAGE = """
query Leads($first: Int!, $filter: LeadFilter) {
  leads(first: $first, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id title status value currency createdAt channel
      stage { id name kind } assignee { id name }
      contact { id name email phone emails { value primary } phones { value label } }
      source { utmSource utmMedium utmCampaign }
      tags { name } } }
  }
}
"""

# What LEADS_PAGE asks of each lead, of one lead.
ONE_LEAD = """
query One($id: ID!) {
  node(id: $id) { ... on Lead { id title status value currency createdAt channel
    stage { id name kind } assignee { id name }
    contact { id name email phone emails { value primary } phones { value label } }
    source { utmSource utmMedium utmCampaign }
    tags { name } } }
}
"""

CONTACTS_PAGE = """
query Contacts($first: Int!) {
  contacts(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name email phone company createdAt manager { name } tags { name }
      emails { value primary } phones { value label } } }
  }
}
"""

# The panel's contact list asks each contact for its newest leads (schema/operations/panel.graphql).
CONTACTS_WITH_LEADS = """
query Contacts($first: Int!) {
  contacts(first: $first) {
    edges { node { id name manager { name }
      leads(first: 3) { totalCount edges { node { id title stage { name } } } } } }
  }
}
"""

TASKS_PAGE = """
query Tasks($first: Int!) {
  tasks(first: $first) { edges { node { id title kind dueAt done overdue leadId
    assignee { id name } contact { id name } } } }
}
"""

BOARD = """
query Board($pipelineId: ID!, $first: Int!, $stageId: ID!) {
  boardTotals(pipelineId: $pipelineId) { stageId count sums { currency amount } }
  leads(first: $first, filter: {stageId: $stageId, status: null}) {
    edges { node { id title value currency stage { id name } assignee { name }
      contact { name } source { utmSource } } }
  }
}
"""

BOOT = "{ pipelines { id isDefault stages { id name kind } } }"
BULK_MOVE = """
mutation Move($ids: [ID!]!, $stage: ID!) {
  bulkMoveLeads(input: {leadIds: $ids, stageId: $stage}) { userErrors { message } }
}
"""
TAG = """
mutation Tag($ids: [ID!]!, $add: [String!]!) {
  tagRecords(input: {ids: $ids, add: $add}) { userErrors { message } }
}
"""


async def _filled_workspace(
    platform: GraphQL, services: Services, domain: str
) -> tuple[Tenant, str]:
    """A workspace with ROWS leads, each with its own contact, a source and tags, given in
    turn to two managers (with their contacts and first-response tasks) and moved onto the
    second stage. Answers the tenant and its default pipeline's id."""
    tenant = await make_tenant(platform, domain=domain)
    workspace = parse_global_id(tenant.workspace_id, expected="Workspace", field="ws").row_id
    site = parse_global_id(tenant.site_id, expected="Site", field="site").row_id
    for _ in range(2):
        await panel_as(platform, tenant, "MANAGER")
    await services.assignment.set_rules(workspace, [RuleSpec(AssignmentRuleKind.ROUND_ROBIN)])
    async with services.db.transaction() as session:
        for i in range(ROWS):
            email = f"n{i}-{uuid.uuid4().hex[:6]}@example.com"
            await create_lead(
                session,
                workspace,
                NewLead(
                    person=Person(name=f"Клиент {i}", email=email, email_normalized=email),
                    attribution=Attribution(
                        utm_source=f"source-{i % 7}", utm_medium="cpc", utm_campaign="spring"
                    ),
                    title=f"Заявка {i}",
                    site_id=site,
                ),
            )
    listed = await tenant.panel.data(LEADS_PAGE, first=ROWS)
    ids = [edge["node"]["id"] for edge in listed["leads"]["edges"]]
    assert len(ids) == ROWS
    boot = await tenant.panel.data(BOOT)
    pipeline = next(p for p in boot["pipelines"] if p["isDefault"])
    moved = await tenant.panel.data(BULK_MOVE, ids=ids, stage=pipeline["stages"][1]["id"])
    assert moved["bulkMoveLeads"]["userErrors"] == []
    tagged = await tenant.panel.data(TAG, ids=ids, add=["опт", "повторный"])
    assert tagged["tagRecords"]["userErrors"] == []
    return tenant, pipeline["id"]


async def _statements(
    services: Services, panel: GraphQL, query: str, **variables: object
) -> tuple[int, dict[str, object]]:
    # Whether the token's member is still active is cached for a few seconds: read it first,
    # so that neither measurement pays for it.
    assert await panel.data("{ ping }") == {"ping": "pong"}
    with counting_queries(services) as statements:
        data = await panel.data(query, **variables)
    return len(statements), data


async def test_a_page_of_leads_with_its_relations_costs_the_same_for_5_and_50(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant, _ = await _filled_workspace(platform, services, "leads.example.com")
    await _filled_workspace(platform, services, "beside.example.com")
    small, few = await _statements(services, tenant.panel, LEADS_PAGE, first=SMALL)
    large, many = await _statements(services, tenant.panel, LEADS_PAGE, first=ROWS)
    edges = many["leads"]["edges"]  # type: ignore[index]
    assert len(few["leads"]["edges"]) == SMALL  # type: ignore[index]
    assert len(edges) == ROWS and many["leads"]["totalCount"] == ROWS  # type: ignore[index]
    nodes = [edge["node"] for edge in edges]
    assert all(n["stage"] and n["assignee"] and n["contact"]["email"] for n in nodes)
    assert all(n["source"]["utmSource"].startswith("source-") for n in nodes)
    assert all(sorted(t["name"] for t in n["tags"]) == ["опт", "повторный"] for n in nodes)
    assert large == small, f"{SMALL} leads cost {small} statements, {ROWS} cost {large}"


async def test_the_contacts_list_costs_the_same_for_5_and_50(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant, _ = await _filled_workspace(platform, services, "contacts.example.com")
    small, _ = await _statements(services, tenant.panel, CONTACTS_PAGE, first=SMALL)
    large, data = await _statements(services, tenant.panel, CONTACTS_PAGE, first=ROWS)
    nodes = [edge["node"] for edge in data["contacts"]["edges"]]  # type: ignore[index]
    assert len(nodes) == ROWS and all(n["email"] for n in nodes)
    # Each contact's manager is the assignee of its lead.
    assert all(n["manager"] and n["manager"]["name"] for n in nodes)
    assert large == small, f"{SMALL} contacts cost {small} statements, {ROWS} cost {large}"


async def test_the_contacts_list_with_their_leads_costs_the_same_for_5_and_50(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant, _ = await _filled_workspace(platform, services, "contact-leads.example.com")
    small, _ = await _statements(services, tenant.panel, CONTACTS_WITH_LEADS, first=SMALL)
    large, data = await _statements(services, tenant.panel, CONTACTS_WITH_LEADS, first=ROWS)
    nodes = [edge["node"] for edge in data["contacts"]["edges"]]  # type: ignore[index]
    assert len(nodes) == ROWS and all(n["leads"]["totalCount"] == 1 for n in nodes)
    assert large == small, f"{SMALL} contacts cost {small} statements, {ROWS} cost {large}"


async def test_the_board_costs_the_same_for_5_and_50_cards(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant, pipeline = await _filled_workspace(platform, services, "board.example.com")
    stages = (await tenant.panel.data(BOOT))["pipelines"]
    stage = next(p for p in stages if p["id"] == pipeline)["stages"][1]["id"]
    small, _ = await _statements(
        services, tenant.panel, BOARD, pipelineId=pipeline, first=SMALL, stageId=stage
    )
    large, data = await _statements(
        services, tenant.panel, BOARD, pipelineId=pipeline, first=ROWS, stageId=stage
    )
    column = data["leads"]["edges"]  # type: ignore[index]
    totals = {t["stageId"]: t["count"] for t in data["boardTotals"]}  # type: ignore[index]
    assert len(column) == ROWS and totals[stage] == ROWS
    assert all(edge["node"]["stage"]["id"] == stage for edge in column)
    assert large == small, f"{SMALL} cards cost {small} statements, {ROWS} cost {large}"


async def test_the_task_list_costs_the_same_for_5_and_50(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant, _ = await _filled_workspace(platform, services, "tasks.example.com")
    small, _ = await _statements(services, tenant.panel, TASKS_PAGE, first=SMALL)
    large, data = await _statements(services, tenant.panel, TASKS_PAGE, first=ROWS)
    nodes = [edge["node"] for edge in data["tasks"]["edges"]]  # type: ignore[index]
    # Every lead's first-response task, with the lead's assignee and contact.
    assert len(nodes) == ROWS
    assert all(n["kind"] == "FIRST_RESPONSE" and n["assignee"] and n["contact"] for n in nodes)
    assert large == small, f"{SMALL} tasks cost {small} statements, {ROWS} cost {large}"


LEADS_BACKWARD = """
query Leads($last: Int!) {
  leads(last: $last) {
    pageInfo { hasPreviousPage hasNextPage startCursor }
    edges { node { id stage { id name } assignee { id name } contact { id email }
      source { utmSource } tags { name } } }
  }
}
"""

TASKS_BACKWARD = """
query Tasks($last: Int!) {
  tasks(last: $last) { pageInfo { hasPreviousPage }
    edges { node { id dueAt assignee { id name } contact { id name } } } }
}
"""


async def test_a_page_read_backward_costs_the_same_for_5_and_50(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant, _ = await _filled_workspace(platform, services, "backward.example.com")
    await _filled_workspace(platform, services, "backward-beside.example.com")
    forward = await tenant.panel.data(LEADS_PAGE, first=ROWS)
    forward_ids = [edge["node"]["id"] for edge in forward["leads"]["edges"]]

    small, few = await _statements(services, tenant.panel, LEADS_BACKWARD, last=SMALL)
    large, many = await _statements(services, tenant.panel, LEADS_BACKWARD, last=ROWS)
    # The last rows of the list, in the list's own order, with their relations read in batches.
    assert [e["node"]["id"] for e in few["leads"]["edges"]] == forward_ids[-SMALL:]  # type: ignore[index]
    assert [e["node"]["id"] for e in many["leads"]["edges"]] == forward_ids  # type: ignore[index]
    assert few["leads"]["pageInfo"]["hasPreviousPage"] is True  # type: ignore[index]
    assert many["leads"]["pageInfo"]["hasPreviousPage"] is False  # type: ignore[index]
    nodes = [edge["node"] for edge in many["leads"]["edges"]]  # type: ignore[index]
    assert all(n["stage"] and n["assignee"] and n["contact"]["email"] for n in nodes)
    assert all(sorted(t["name"] for t in n["tags"]) == ["опт", "повторный"] for n in nodes)
    assert large == small, f"{SMALL} leads back cost {small} statements, {ROWS} cost {large}"

    small, few = await _statements(services, tenant.panel, TASKS_BACKWARD, last=SMALL)
    large, many = await _statements(services, tenant.panel, TASKS_BACKWARD, last=ROWS)
    due = [e["node"]["dueAt"] for e in many["tasks"]["edges"]]  # type: ignore[index]
    assert len(due) == ROWS and due == sorted(due)
    assert (
        [e["node"]["id"] for e in few["tasks"]["edges"]]
        == [  # type: ignore[index]
            e["node"]["id"]
            for e in many["tasks"]["edges"][-SMALL:]  # type: ignore[index]
        ]
    )
    assert all(e["node"]["assignee"] and e["node"]["contact"] for e in many["tasks"]["edges"])  # type: ignore[index]
    assert large == small, f"{SMALL} tasks back cost {small} statements, {ROWS} cost {large}"


# The inbox's query asked through a named fragment, an inline fragment and aliases, as a
# client's code generator may write it.
LEADS_THROUGH_FRAGMENTS = """
fragment Who on Lead { person: contact { name email } assignee { name } }
query Leads($first: Int!) {
  leads(first: $first) {
    edges { row: node { id ...Who ... on Lead { stage { name } labels: tags { name } } } }
  }
}
"""


@contextlib.contextmanager
def counting_tasks() -> Iterator[list[asyncio.Task[object]]]:
    """The asyncio tasks started inside the block, on this loop."""
    loop = asyncio.get_running_loop()
    started: list[asyncio.Task[object]] = []
    previous = loop.get_task_factory()

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        task = (
            previous(loop, coro, **kwargs)
            if previous is not None
            else asyncio.Task(coro, loop=loop, **kwargs)
        )
        started.append(task)
        return task

    loop.set_task_factory(factory)
    try:
        yield started
    finally:
        loop.set_task_factory(previous)


async def test_a_page_of_leads_awaits_nothing_per_lead(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    """The page loads its leads' contacts, stages, assignees and tags ahead, so those fields
    answer at once: graphql-core completes the list in place instead of starting a task for
    each lead that awaits. 50 leads start as many tasks as 5 (and cost as many statements),
    however the query is spelled."""
    tenant, _ = await _filled_workspace(platform, services, "no-tasks.example.com")
    for query in (LEADS_PAGE, LEADS_THROUGH_FRAGMENTS):
        counts = []
        for first in (SMALL, ROWS):
            assert await tenant.panel.data("{ ping }") == {"ping": "pong"}
            with counting_tasks() as tasks, counting_queries(services) as statements:
                data = await tenant.panel.data(query, first=first)
            counts.append((len(tasks), len(statements)))
            edges = data["leads"]["edges"]
            assert len(edges) == first
        (small_tasks, small_statements), (large_tasks, large_statements) = counts
        assert large_tasks == small_tasks, (
            f"{SMALL} leads: {small_tasks} tasks; {ROWS}: {large_tasks}"
        )
        assert large_statements == small_statements
    rows = [edge["row"] for edge in data["leads"]["edges"]]
    assert all(r["person"]["email"] and r["assignee"]["name"] and r["stage"]["name"] for r in rows)
    assert all(sorted(t["name"] for t in r["labels"]) == ["опт", "повторный"] for r in rows)


async def test_a_lead_read_on_its_own_still_gets_its_relations(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    """A lead that no list loaded ahead (node(id:), a mutation's answer) reads the same
    fields through the loaders."""
    tenant, _ = await _filled_workspace(platform, services, "one-lead.example.com")
    listed = await tenant.panel.data(LEADS_PAGE, first=1)
    lead = listed["leads"]["edges"][0]["node"]
    alone = await tenant.panel.data(
        "query($id: ID!) { node(id: $id) { ... on Lead { id stage { id name kind } "
        "assignee { id name } contact { id name email phone emails { value primary } "
        "phones { value label } } tags { name } } } }",
        id=lead["id"],
    )
    node = alone["node"]
    assert node["stage"] == lead["stage"] and node["assignee"] == lead["assignee"]
    assert node["contact"] == lead["contact"] and node["tags"] == lead["tags"]


# The panel's contact list as a client's code generator may spell it: aliases, a fragment, a
# literal and a variable page size side by side.
CONTACTS_THROUGH_FRAGMENTS = """
fragment Owner on Contact { owner: manager { name } }
query Contacts($first: Int!, $leads: Int) {
  contacts(first: $first) {
    edges { node { id ...Owner labels: tags { name }
      newest: leads(first: 3) { totalCount edges { node { id stage { name } tags { name } } } }
      ... on Contact { more: leads(first: $leads) { edges { node { assignee { name } } } } } } }
  }
}
"""


async def test_a_page_of_contacts_awaits_nothing_per_contact(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    """The contact list loads its contacts' managers, tags and first pages of leads (with
    their counts and the leads' own stages, assignees and tags) ahead: 50 contacts start as
    many tasks and cost as many statements as 5, however the query is spelled."""
    tenant, _ = await _filled_workspace(platform, services, "no-contact-tasks.example.com")
    for query, variables in (
        (CONTACTS_WITH_LEADS, {}),
        (CONTACTS_PAGE, {}),
        (CONTACTS_THROUGH_FRAGMENTS, {"leads": 2}),
    ):
        counts = []
        for first in (SMALL, ROWS):
            assert await tenant.panel.data("{ ping }") == {"ping": "pong"}
            with counting_tasks() as tasks, counting_queries(services) as statements:
                data = await tenant.panel.data(query, first=first, **variables)
            counts.append((len(tasks), len(statements)))
            assert len(data["contacts"]["edges"]) == first
        (small_tasks, small_statements), (large_tasks, large_statements) = counts
        assert large_tasks == small_tasks, (
            f"{SMALL} contacts: {small_tasks} tasks; {ROWS}: {large_tasks}"
        )
        assert large_statements == small_statements
    nodes = [edge["node"] for edge in data["contacts"]["edges"]]
    assert all(n["owner"]["name"] for n in nodes)
    assert all(sorted(t["name"] for t in n["labels"]) == [] for n in nodes)
    for n in nodes:
        [lead] = [e["node"] for e in n["newest"]["edges"]]
        assert n["newest"]["totalCount"] == 1 and lead["stage"]["name"]
        assert sorted(t["name"] for t in lead["tags"]) == ["опт", "повторный"]
        [more] = [e["node"] for e in n["more"]["edges"]]
        assert more["assignee"]["name"] == n["owner"]["name"]


async def test_a_contact_read_on_its_own_still_gets_its_relations(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    """A contact that no list loaded ahead (node(id:)), and a page of its leads past the
    first, read the same fields through the loaders and the list."""
    tenant, _ = await _filled_workspace(platform, services, "one-contact.example.com")
    listed = await tenant.panel.data(CONTACTS_WITH_LEADS, first=1)
    contact = listed["contacts"]["edges"][0]["node"]
    alone = await tenant.panel.data(
        "query($id: ID!) { node(id: $id) { ... on Contact { id name manager { name } "
        "leads(first: 3) { totalCount edges { node { id title stage { name } } } } "
        "later: leads(first: 1, after: null, last: 1) { edges { node { id } } } } } }",
        id=contact["id"],
    )
    node = alone["node"]
    assert node["manager"] == contact["manager"] and node["leads"] == contact["leads"]
    assert [e["node"]["id"] for e in node["later"]["edges"]] == [
        e["node"]["id"] for e in contact["leads"]["edges"]
    ]


LEADS_FOUND = """
query Found($first: Int!, $filter: LeadFilter, $sort: LeadSort) {
  leads(first: $first, filter: $filter, sort: $sort) {
    edges { node { id title stage { name } assignee { id name } contact { name email } } }
  }
}
"""
UNASSIGN = """
mutation Unassign($ids: [ID!]!) {
  bulkAssignLeads(input: {leadIds: $ids, assigneeId: null}) { userErrors { message } }
}
"""


async def test_a_page_of_leads_reads_its_contacts_stages_and_assignees_in_its_own_statement(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant, pipeline = await _filled_workspace(platform, services, "joined.example.com")
    await _filled_workspace(platform, services, "joined-beside.example.com")
    boot = await tenant.panel.data(BOOT)
    stages = next(p for p in boot["pipelines"] if p["id"] == pipeline)["stages"]
    listed = await tenant.panel.data(LEADS_FOUND, first=ROWS)
    lonely = listed["leads"]["edges"][3]["node"]["id"]
    cleared = await tenant.panel.data(UNASSIGN, ids=[lonely])
    assert cleared["bulkAssignLeads"]["userErrors"] == []

    assert await tenant.panel.data("{ ping }") == {"ping": "pong"}
    with counting_queries(services) as statements:
        data = await tenant.panel.data(LEADS_FOUND, first=ROWS)
    # The page, its three relations joined, and nothing read from those tables on its own.
    pages = [s for s in statements if "page_contact" in s]
    assert len(pages) == 1 and "page_stage" in pages[0] and "page_assignee" in pages[0]
    alone = [s for s in statements if re.search(r"\bFROM (contacts|stages|members)\b", s)]
    assert alone == [], alone
    nodes = [edge["node"] for edge in data["leads"]["edges"]]
    assert len(nodes) == ROWS
    for node in nodes:
        number = node["title"].removeprefix("Заявка ")
        assert node["contact"]["name"] == f"Клиент {number}"
        assert node["contact"]["email"].startswith(f"n{number}-")
        assert node["stage"] == {"name": stages[1]["name"]}
    assert [n["assignee"] is None for n in nodes] == [n["id"] == lonely for n in nodes]
    assert len({n["assignee"]["id"] for n in nodes if n["assignee"]}) == 2

    # A search of the contacts' names (a subquery on contacts beside the joined ones), newest
    # first and unanswered first: the same leads, each with its own contact.
    for sort in ("NEWEST", "UNANSWERED_FIRST"):
        found = await tenant.panel.data(
            LEADS_FOUND, first=ROWS, filter={"search": "Клиент 1"}, sort=sort
        )
        names = sorted(e["node"]["contact"]["name"] for e in found["leads"]["edges"])
        assert names == sorted(["Клиент 1", *(f"Клиент {i}" for i in range(10, 20))]), sort
        for edge in found["leads"]["edges"]:
            node = edge["node"]
            assert node["contact"]["name"] == "Клиент " + node["title"].removeprefix("Заявка ")


@contextlib.contextmanager
def orm_loads(*models: type[Any]) -> Iterator[list[str]]:
    """The names of ``models`` of which the ORM makes an object from a row, inside."""
    made: list[str] = []

    def note(target: Any, _context: Any) -> None:
        made.append(type(target).__name__)

    for model in models:
        event.listen(model, "load", note)
    try:
        yield made
    finally:
        for model in models:
            event.remove(model, "load", note)


async def test_a_page_of_leads_reads_rows_not_orm_objects(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    """The list reads its leads, contacts, stages and assignees as records (``LeadRecord``):
    the ORM's loading of a page of 50 cost a sixth of the request. A lead read on its own, by
    ``node``, still comes from the ORM, and both answer the same."""
    tenant, _ = await _filled_workspace(platform, services, "records.example.com")
    assert await tenant.panel.data("{ ping }") == {"ping": "pong"}
    with orm_loads(Lead, Contact, Stage, Member) as made:
        data = await tenant.panel.data(LEADS_PAGE, first=ROWS)
    assert len(data["leads"]["edges"]) == ROWS
    assert made == []
    listed = data["leads"]["edges"][0]["node"]
    with orm_loads(Lead) as made:
        alone = await tenant.panel.data(ONE_LEAD, id=listed["id"])
    assert made == ["Lead"]
    assert alone["node"] == listed


DOCUMENTS = """{ id customFields source { clickIds firstTouch }
  contact { customFields firstTouch lastTouch } }"""


async def test_a_page_of_leads_decodes_stored_documents_only_where_shown(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    """The list's records hold a lead's and its contact's stored documents as the database's
    text of them (``DocumentText``), and the API decodes them where a query shows them: the
    same documents as stored, and as a lead read on its own by ``node`` (the ORM) shows."""
    tenant = await make_tenant(platform, domain="documents.example.com")
    workspace = parse_global_id(tenant.workspace_id, expected="Workspace", field="ws").row_id
    custom = {
        "размер": 42,
        "big": 2**62,
        "ratio": 0.1,
        "none": None,
        "empty": {},
        "nested": {"list": [1, -2.5, True, False, None, '😀 «кавычки» \\ "q"']},
        "line": "a\u2028b\nc",
    }
    first_touch = {"utm_source": "google", "landing_page": "https://x.example/?a=1&b=«2»"}
    click_ids = {"yclid": "17", "gclid": "Cj0KCQ"}
    async with services.db.transaction() as session:
        await create_lead(
            session,
            workspace,
            NewLead(
                person=Person(name="Документ", email="doc@example.com"),
                attribution=Attribution(
                    utm_source="ya", click_ids=click_ids, first_touch=first_touch
                ),
                title="Заявка с документами",
                custom_fields=custom,
            ),
        )
    data = await tenant.panel.data(
        f"query {{ leads(first: 5) {{ edges {{ node {DOCUMENTS} }} }} }}"
    )
    [listed] = [edge["node"] for edge in data["leads"]["edges"]]
    assert listed["customFields"] == custom
    assert listed["source"] == {"clickIds": click_ids, "firstTouch": first_touch}
    assert listed["contact"]["customFields"] == {}
    # A contact's touches keep what was known of its lead's: its source and click ids.
    touch = {"utm_source": "ya", "click_ids": click_ids}
    assert listed["contact"]["firstTouch"] == listed["contact"]["lastTouch"] == touch
    alone = await tenant.panel.data(
        f"query($id: ID!) {{ node(id: $id) {{ ... on Lead {DOCUMENTS} }} }}", id=listed["id"]
    )
    assert alone["node"] == listed

    async with services.db.transaction() as session:
        repository = LeadRepository(
            session, workspace, relations=PageRelations(contact=True, stage=False, assignee=False)
        )
        page = await repository.newest_records(
            repository.select(), window=Window(5, None, None, None)
        )
        [record] = page.rows
        assert isinstance(record.custom_fields, str)
        assert json.loads(record.custom_fields) == custom
        [contact] = repository.relations.contacts.values()  # type: ignore[union-attr]
        assert isinstance(contact.first_touch, str)
        assert json.loads(contact.first_touch) == touch


@pytest.mark.parametrize(
    "search", [None, "Клиент 1", "client@example.com", "+7 912 000-00-00"], ids=str
)
@pytest.mark.parametrize("text_in", ["both", "lead", "contact"])
def test_every_filter_of_the_lead_list_narrows_it_by_where_alone(
    search: str | None, text_in: str
) -> None:
    """The list's read and its count take a filter's WHERE clause alone onto statements of
    their own (``LeadRepository.read_records`` and ``count``): a filter that joined another
    table would lose it."""
    workspace, member = uuid.uuid4(), uuid.uuid4()
    spec = LeadSpec(
        pipeline_id=uuid.uuid4(),
        stage_id=uuid.uuid4(),
        status=LeadStatus.OPEN,
        site_id=uuid.uuid4(),
        assignee_id=member,
        unassigned=True,
        contact_id=uuid.uuid4(),
        utm_source="ya",
        utm_medium="cpc",
        utm_campaign="spring",
        channel="web",
        close_reason="price",
        tags=("опт",),
        search=search,
        value_min=Decimal("1"),
        value_max=Decimal("9"),
        created_from=datetime(2026, 1, 1, tzinfo=UTC),
        created_to=datetime(2026, 2, 1, tzinfo=UTC),
        custom=(FieldCondition("size", FieldOp.GT, 3),),
    )
    repo = LeadRepository(cast(AsyncSession, None), workspace)
    stmt = repo.own_rows(repo.matching(spec, {"size": FieldType.NUMBER}, text_in=text_in), member)
    assert stmt.get_final_froms() == [Lead.__table__]
    assert stmt.whereclause is not None


@contextlib.contextmanager
def collector_paused() -> Iterator[list[int]]:
    """The objects the garbage collector finds unreachable, left by what runs inside."""
    found: list[int] = []
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        yield found
        found.append(gc.collect())
    finally:
        if was_enabled:
            gc.enable()


async def test_a_page_of_leads_leaves_its_rows_to_be_freed_at_once(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    """graphql-core's execution context refers to itself, so only the garbage collector frees
    it. The request's loaders let go of what they loaded once the answer is made, or every row
    of the page would wait for a collection with it (about twenty objects a lead): a page of
    50 leaves the collector hardly more than a page of 5: the statements' bound ids, two a
    lead, against about forty objects a lead when the rows waited too."""
    tenant, _ = await _filled_workspace(platform, services, "freed.example.com")
    left = []
    for first in (SMALL, ROWS, SMALL, ROWS):
        assert await tenant.panel.data("{ ping }") == {"ping": "pong"}
        with collector_paused() as found:
            data = await tenant.panel.data(LEADS_PAGE, first=first)
        assert len(data["leads"]["edges"]) == first
        left.append(found[0])
    small, large = min(left[0::2]), min(left[1::2])
    per_lead = (large - small) / (ROWS - SMALL)
    assert per_lead < 5, f"{SMALL} leads left {small} objects to the collector, {ROWS} {large}"
