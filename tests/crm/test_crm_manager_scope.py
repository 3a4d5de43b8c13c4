"""A MANAGER reads and works only what is theirs, on every path: lists, node(id:), exports,
reports, the live stream and mutations. Two managers share a workspace and a second workspace
stands beside it; the owner and the platform key still see everything."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from crm_support import errors_of, new_lead, panel_as
from sqlalchemy import func, select
from strawberry.utils.str_converters import to_camel_case

from conftest import GraphQL
from embedcrm.auth import PanelUser
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.schema import Mutation
from embedcrm.panel import PanelFeed, event_stream
from embedcrm.services import Services
from embedcrm.webhooks.dispatcher import Dispatcher
from embedcrm.webhooks.models import OutboxEvent
from embedcrm.webhooks.repository import encode_position
from factories import Tenant, make_tenant, submission, submit

ASSIGN = """mutation($lead: ID!, $who: ID) { assignLead(input: {leadId: $lead, assigneeId: $who}) {
  lead { id } userErrors { code } } }"""
CREATE_TASK = """mutation($input: CreateTaskInput!) { createTask(input: $input) {
  task { id } userErrors { code message } } }"""
UPDATE_TASK = """mutation($input: UpdateTaskInput!) { updateTask(input: $input) {
  task { id done } userErrors { code message } } }"""
DELETE_TASK = """mutation($id: ID!) { deleteTask(input: {id: $id}) {
  deletedId userErrors { code message } } }"""
TASKS = """query($ws: ID) { tasks(first: 100, filter: {includeDone: true}, workspaceId: $ws) {
  totalCount edges { node { id leadId } } } }"""
LEAD_CARD = """query($id: ID!) { node(id: $id) { ... on Lead {
  contact { id } tasks { totalCount edges { node { id } } } } } }"""
CONTACT_CARD = """query($id: ID!) { node(id: $id) { ... on Contact {
  id timeline { totalCount } leads { totalCount } tasks { totalCount } } } }"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
CONTACTS = """query($ws: ID) { contacts(first: 100, workspaceId: $ws) {
  totalCount edges { node { id } } } }"""
CONTACTS_CSV = "{ contactsCsv { csv rowCount } }"
LEADS_CSV = "{ leadsCsv { csv rowCount } }"
SUBMISSIONS = "{ submissions { totalCount } }"
SUBMISSION_IDS = "{ submissions { edges { node { id leadId } } } }"
ANALYTICS = """query($filter: AnalyticsFilter!) { analytics(filter: $filter) {
  funnel { leads } managers { memberId leads } } }"""
BOARD = """query($p: ID!) { boardTotals(pipelineId: $p) { count } }"""
PIPELINES = "{ pipelines { id } }"
EXPECTED_CLOSE = """mutation($lead: ID!) { setLeadExpectedClose(input: {leadId: $lead,
  expectedCloseAt: "2030-01-01T00:00:00Z"}) { leadId userErrors { code } } }"""
SETTINGS = """mutation($v: Boolean!) { updateCrmSettings(input: {managersCanEditAll: $v}) {
  managersCanEditAll userErrors { code } } }"""
DUE = (datetime.now(UTC) + timedelta(days=1)).isoformat()


@dataclass
class Office:
    """Anna and Boris, managers of one workspace, each with a lead of their own; a lead, a task
    and a contact in a second workspace beside it."""

    tenant: Tenant
    anna: GraphQL
    anna_id: str
    boris: GraphQL
    boris_id: str
    annas: dict[str, Any]
    boriss: dict[str, Any]
    boris_task: str
    elsewhere: dict[str, Any]
    elsewhere_task: str


async def office(client: httpx.AsyncClient, platform: GraphQL) -> Office:
    tenant = await make_tenant(platform)
    anna, anna_id = await panel_as(platform, tenant, "MANAGER")
    boris, boris_id = await panel_as(platform, tenant, "MANAGER")
    annas = await new_lead(client, tenant, email="anna-client@example.com")
    boriss = await new_lead(client, tenant, email="boris-client@example.com")
    assert (
        errors_of((await tenant.panel.data(ASSIGN, lead=annas["id"], who=anna_id))["assignLead"])
        == []
    )
    assert (
        errors_of((await tenant.panel.data(ASSIGN, lead=boriss["id"], who=boris_id))["assignLead"])
        == []
    )
    # A task of Boris's own, about nothing Anna sees.
    mine = await boris.data(CREATE_TASK, input={"title": "Позвонить", "dueAt": DUE})
    assert mine["createTask"]["userErrors"] == []
    other = await make_tenant(platform, domain="other.example.com")
    elsewhere = await new_lead(client, other, email="elsewhere@example.com")
    other_task = await other.panel.data(
        CREATE_TASK, input={"title": "Чужая", "dueAt": DUE, "leadId": elsewhere["id"]}
    )
    return Office(
        tenant=tenant,
        anna=anna,
        anna_id=anna_id,
        boris=boris,
        boris_id=boris_id,
        annas=annas,
        boriss=boriss,
        boris_task=mine["createTask"]["task"]["id"],
        elsewhere=elsewhere,
        elsewhere_task=other_task["createTask"]["task"]["id"],
    )


async def tasks_of_lead(panel: GraphQL, lead_id: str) -> set[str]:
    card = await panel.data(LEAD_CARD, id=lead_id)
    return {edge["node"]["id"] for edge in card["node"]["tasks"]["edges"]}


async def test_a_manager_reads_only_their_tasks_and_changes_only_those(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    o = await office(client, platform)
    owner = o.tenant.panel
    (annas_task,) = await tasks_of_lead(owner, o.annas["id"])
    (boriss_lead_task,) = await tasks_of_lead(owner, o.boriss["id"])

    seen = (await o.anna.data(TASKS))["tasks"]
    assert {edge["node"]["id"] for edge in seen["edges"]} == {annas_task}
    assert seen["totalCount"] == 1
    everything = (await owner.data(TASKS))["tasks"]
    assert {edge["node"]["id"] for edge in everything["edges"]} == {
        annas_task,
        boriss_lead_task,
        o.boris_task,
    }
    platform_view = await platform.data(TASKS, ws=o.tenant.workspace_id)
    assert platform_view["tasks"]["totalCount"] == 3

    for hidden in (boriss_lead_task, o.boris_task, o.elsewhere_task):
        assert (await o.anna.data(NODE, id=hidden))["node"] is None
        done = await o.anna.data(UPDATE_TASK, input={"id": hidden, "done": True})
        assert errors_of(done["updateTask"]) == ["not_found"]
        renamed = await o.anna.data(UPDATE_TASK, input={"id": hidden, "title": "Моя"})
        assert errors_of(renamed["updateTask"]) == ["not_found"]
        assert errors_of((await o.anna.data(DELETE_TASK, id=hidden))["deleteTask"]) == ["not_found"]
    assert (await o.anna.data(NODE, id=annas_task))["node"] == {"id": annas_task}
    assert (await owner.data(NODE, id=o.boris_task))["node"] == {"id": o.boris_task}
    # Nothing of Boris's changed.
    assert (await owner.data(TASKS))["tasks"]["totalCount"] == 3
    assert await tasks_of_lead(owner, o.boriss["id"]) == {boriss_lead_task}

    # The task of her lead is hers to complete, though nobody was given it.
    done = await o.anna.data(UPDATE_TASK, input={"id": annas_task, "done": True})
    assert done["updateTask"] == {"task": {"id": annas_task, "done": True}, "userErrors": []}
    # Boris's lead is not there for her to hang a task on.
    hung = await o.anna.data(
        CREATE_TASK, input={"title": "x", "dueAt": DUE, "leadId": o.boriss["id"]}
    )
    assert errors_of(hung["createTask"]) == ["forbidden"]

    assert (await owner.data(SETTINGS, v=True))["updateCrmSettings"]["userErrors"] == []
    assert (await o.anna.data(TASKS))["tasks"]["totalCount"] == 3
    assert (await o.anna.data(NODE, id=o.boris_task))["node"] == {"id": o.boris_task}
    assert (await o.anna.data(NODE, id=o.elsewhere_task))["node"] is None


async def test_a_manager_reads_the_contacts_of_their_leads_and_their_own(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    o = await office(client, platform)
    owner = o.tenant.panel
    annas_contact = (await owner.data(LEAD_CARD, id=o.annas["id"]))["node"]["contact"]["id"]
    boriss_contact = (await owner.data(LEAD_CARD, id=o.boriss["id"]))["node"]["contact"]["id"]
    elsewhere_contact = o.elsewhere["contact"]["id"]

    listed = (await o.anna.data(CONTACTS))["contacts"]
    assert {edge["node"]["id"] for edge in listed["edges"]} == {annas_contact}
    assert listed["totalCount"] == 1
    assert (await owner.data(CONTACTS))["contacts"]["totalCount"] == 2
    assert (await platform.data(CONTACTS, ws=o.tenant.workspace_id))["contacts"]["totalCount"] == 2
    for hidden in (boriss_contact, elsewhere_contact):
        assert (await o.anna.data(NODE, id=hidden))["node"] is None
    card = (await o.anna.data(CONTACT_CARD, id=annas_contact))["node"]
    assert card["leads"]["totalCount"] == 1
    assert card["timeline"]["totalCount"] >= 1

    exported = (await o.anna.data(CONTACTS_CSV))["contactsCsv"]
    assert exported["rowCount"] == 1
    assert "anna-client@example.com" in exported["csv"]
    assert "boris-client@example.com" not in exported["csv"]
    leads_csv = (await o.anna.data(LEADS_CSV))["leadsCsv"]
    assert leads_csv["rowCount"] == 1
    assert "boris-client@example.com" not in leads_csv["csv"]
    assert (await owner.data(LEADS_CSV))["leadsCsv"]["rowCount"] == 2

    # Made her personal manager, Boris's client is hers to read, without his lead.
    update = """mutation($id: ID!, $m: ID) { updateContact(input: {id: $id, managerId: $m}) {
      contact { id } userErrors { code } } }"""
    assert (
        errors_of((await owner.data(update, id=boriss_contact, m=o.anna_id))["updateContact"]) == []
    )
    card = (await o.anna.data(CONTACT_CARD, id=boriss_contact))["node"]
    assert card["id"] == boriss_contact
    assert card["leads"]["totalCount"] == 0
    assert card["tasks"]["totalCount"] == 0


async def test_a_managers_reports_board_and_submissions_count_their_leads_only(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    o = await office(client, platform)
    owner = o.tenant.panel
    period = {
        "from": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "to": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }
    theirs = (await o.anna.data(ANALYTICS, filter=period))["analytics"]
    assert theirs["funnel"]["leads"] == 1
    assert theirs["managers"] == [{"memberId": o.anna_id, "leads": 1}]
    asking_for_boris = (await o.anna.data(ANALYTICS, filter={**period, "managerId": o.boris_id}))[
        "analytics"
    ]
    assert asking_for_boris["funnel"]["leads"] == 0
    assert asking_for_boris["managers"] == []
    everything = (await owner.data(ANALYTICS, filter=period))["analytics"]
    assert everything["funnel"]["leads"] == 2
    assert {row["memberId"] for row in everything["managers"]} == {o.anna_id, o.boris_id}

    (pipeline,) = (await owner.data(PIPELINES))["pipelines"]
    board = await o.anna.data(BOARD, p=pipeline["id"])
    assert sum(stage["count"] for stage in board["boardTotals"]) == 1
    owners_board = await owner.data(BOARD, p=pipeline["id"])
    assert sum(stage["count"] for stage in owners_board["boardTotals"]) == 2

    assert (await o.anna.data(SUBMISSIONS))["submissions"]["totalCount"] == 1
    assert (await owner.data(SUBMISSIONS))["submissions"]["totalCount"] == 2
    # node(id:) answers a submission as the list does: Boris's is null for Anna.
    listed = (await owner.data(SUBMISSION_IDS))["submissions"]["edges"]
    by_lead = {edge["node"]["leadId"]: edge["node"]["id"] for edge in listed}
    assert (await o.anna.data(NODE, id=by_lead[o.annas["id"]]))["node"] is not None
    assert (await o.anna.data(NODE, id=by_lead[o.boriss["id"]]))["node"] is None
    assert (await owner.data(NODE, id=by_lead[o.boriss["id"]]))["node"] is not None

    refused = await o.anna.data(EXPECTED_CLOSE, lead=o.boriss["id"])
    assert errors_of(refused["setLeadExpectedClose"]) == ["forbidden"]
    allowed = await o.anna.data(EXPECTED_CLOSE, lead=o.annas["id"])
    assert allowed["setLeadExpectedClose"]["userErrors"] == []

    assert (await owner.data(SETTINGS, v=True))["updateCrmSettings"]["userErrors"] == []
    assert (await o.anna.data(ANALYTICS, filter=period))["analytics"]["funnel"]["leads"] == 2


async def position_events(services: Services) -> None:
    """The feed orders events once the dispatcher has given them their positions."""
    async with httpx.AsyncClient() as http:
        dispatcher = Dispatcher(services.db, http, box=services.secret_box)
        while await dispatcher.fan_out():
            pass


async def test_a_managers_stream_carries_the_events_of_their_leads_only(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    o = await office(client, platform)
    anna = await services.workspaces.authenticate(o.anna.bearer)
    boris = await services.workspaces.authenticate(o.boris.bearer)
    assert isinstance(anna, PanelUser) and isinstance(boris, PanelUser)
    await position_events(services)
    async with services.db.transaction() as session:
        start = encode_position(await session.scalar(select(func.max(OutboxEvent.position))) or 0)
    rename = """mutation($id: ID!, $t: String!) { updateLead(input: {id: $id, title: $t}) {
      userErrors { code } } }"""
    assert errors_of((await o.anna.data(rename, id=o.annas["id"], t="Анна"))["updateLead"]) == []
    assert errors_of((await o.boris.data(rename, id=o.boriss["id"], t="Борис"))["updateLead"]) == []
    await o.boris.data(CREATE_TASK, input={"title": "Ещё", "dueAt": DUE})
    await position_events(services)

    async def heard(principal: PanelUser) -> list[str | None]:
        lead_ids = []
        feed = PanelFeed(services.db, poll_seconds=0.1)
        async for chunk in event_stream(
            feed, services.db, principal, after=start, expires_at=time.time() + 0.5
        ):
            for line in chunk.decode().splitlines():
                if line.startswith("data: "):
                    lead_ids.append(line.split('"leadId": ')[1].split(",")[0].strip('"'))
        await feed.close()
        return lead_ids

    owner = await services.workspaces.authenticate(o.tenant.panel.bearer)
    assert isinstance(owner, PanelUser)
    annas_lead = str(parse_global_id(o.annas["id"]).row_id)
    boriss_lead = str(parse_global_id(o.boriss["id"]).row_id)
    assert await heard(anna) == [annas_lead]
    assert await heard(boris) == [boriss_lead]
    everything = await heard(owner)
    assert annas_lead in everything and boriss_lead in everything and "null" in everything


PERSONAL_DATA = "query($id: ID!) { personalData(contactId: $id) }"
CREATE_PIPELINE = """mutation { createPipeline(input: {name: "Опт"}) {
  pipeline { id } userErrors { code message } } }"""


async def test_roles_are_declared_on_the_fields_and_answer_as_before(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    """The permission classes refuse by role before anything runs: a mutation's refusal is
    data in its payload, a query's is the error itself; the platform acts as an owner."""
    o = await office(client, platform)
    viewer, _ = await panel_as(platform, o.tenant, "VIEWER")
    refused = (await viewer.data(CREATE_TASK, input={"title": "x", "dueAt": DUE}))["createTask"]
    assert refused == {
        "task": None,
        "userErrors": [{"code": "forbidden", "message": "A viewer can only read."}],
    }
    as_manager = (await o.anna.data(CREATE_PIPELINE))["createPipeline"]
    assert as_manager["userErrors"] == [
        {"code": "forbidden", "message": "Only an owner can change this."}
    ]
    assert len((await o.tenant.panel.data(PIPELINES))["pipelines"]) == 1
    assert (await o.tenant.panel.data(CREATE_PIPELINE))["createPipeline"]["userErrors"] == []

    contact = o.annas["contact"]["id"]
    body = await o.anna(PERSONAL_DATA, id=contact)
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["forbidden"]
    assert (await o.tenant.panel.data(PERSONAL_DATA, id=contact))["personalData"]
    assert (await platform.data(PERSONAL_DATA, id=contact))["personalData"]


PROPOSALS = "{ mergeProposals { edges { node { id } } } }"
DISMISS = """mutation($id: ID!) { dismissMergeProposal(input: {id: $id}) {
  userErrors { code } } }"""


async def test_a_manager_sees_and_dismisses_only_proposals_between_their_contacts(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    anna, _ = await panel_as(platform, tenant, "MANAGER")
    _, boris_id = await panel_as(platform, tenant, "MANAGER")
    for email, phone in (
        ("vera@example.com", ""),
        ("vera.work@example.com", "+79990001133"),
        ("vera@example.com", "+79990001133"),
    ):
        await submit(client, tenant, submission(email=email, phone=phone))
    (proposal,) = (await tenant.panel.data(PROPOSALS))["mergeProposals"]["edges"]
    # Unassigned, the leads and so their people are Anna's to see.
    assert (await anna.data(PROPOSALS))["mergeProposals"]["edges"] == [proposal]
    leads = (await tenant.panel.data("{ leads { edges { node { id } } } }"))["leads"]["edges"]
    for lead in leads:
        given = await tenant.panel.data(ASSIGN, lead=lead["node"]["id"], who=boris_id)
        assert errors_of(given["assignLead"]) == []

    assert (await anna.data(PROPOSALS))["mergeProposals"]["edges"] == []
    refused = await anna.data(DISMISS, id=proposal["node"]["id"])
    assert errors_of(refused["dismissMergeProposal"]) == ["not_found"]
    assert (await tenant.panel.data(PROPOSALS))["mergeProposals"]["edges"] == [proposal]


# Mutations whose callers the workspace and webhook services check themselves: provisioning is
# the platform's (and deactivating a member an owner's), webhooks an owner's; a message's status
# the host's gateway's alone, and a member's alert settings their own (or an owner's).
CHECKED_BY_THEIR_SERVICE = {
    "createWorkspace",
    "createSite",
    "issuePanelToken",
    "deactivateMember",
    "reactivateMember",
    "createWebhookEndpoint",
    "updateWebhookEndpoint",
    "rotateWebhookSecret",
    "enableWebhookEndpoint",
    "disableWebhookEndpoint",
    "sendTestWebhook",
    "resendWebhookDelivery",
    "replayFailedWebhooks",
    "reportMessageStatus",
    "updateAlertSettings",
}


def test_every_other_mutation_declares_who_may_call_it() -> None:
    undeclared = {
        field.graphql_name or to_camel_case(field.python_name)
        for field in Mutation.__strawberry_definition__.fields
        if not field.permission_classes
    }
    assert undeclared == CHECKED_BY_THEIR_SERVICE


CONTACTS_WITH_LEADS = """query($first: Int!) { contacts(first: 10) { edges { node { id
  batched: leads(first: $first) { totalCount pageInfo { hasNextPage } edges { node { id } } }
  keyset: leads(last: 10) { totalCount edges { node { id } } } } } } }"""


async def test_the_leads_a_contacts_list_shows_are_those_the_caller_sees(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    # The contacts list reads every contact's first page of leads in one statement; it must
    # answer what the contact's own keyset page answers, for the owner and for a MANAGER.
    o = await office(client, platform)
    owner = o.tenant.panel
    again = await new_lead(client, o.tenant, email="anna-client@example.com")
    assert again["id"] != o.annas["id"]
    assert (
        errors_of((await owner.data(ASSIGN, lead=again["id"], who=o.boris_id))["assignLead"]) == []
    )
    for panel, wanted in ((owner, {2, 1}), (o.anna, {1})):
        for first in (1, 10):
            nodes = [
                edge["node"]
                for edge in (await panel.data(CONTACTS_WITH_LEADS, first=first))["contacts"][
                    "edges"
                ]
            ]
            assert {node["batched"]["totalCount"] for node in nodes} == wanted
            for node in nodes:
                batched, keyset = node["batched"], node["keyset"]
                assert batched["totalCount"] == keyset["totalCount"]
                ids = [edge["node"]["id"] for edge in batched["edges"]]
                assert ids == [edge["node"]["id"] for edge in keyset["edges"]][:first]
                assert batched["pageInfo"]["hasNextPage"] == (keyset["totalCount"] > first)
    # Anna's client has two leads, and she sees hers alone.
    annas = [
        edge["node"]
        for edge in (await o.anna.data(CONTACTS_WITH_LEADS, first=10))["contacts"]["edges"]
    ]
    assert [[e["node"]["id"] for e in n["batched"]["edges"]] for n in annas] == [[o.annas["id"]]]
