"""Pipelines (K2): several per workspace, ordered stages; moving leads records history and events."""

from __future__ import annotations

import httpx
from crm_support import errors_of, events, new_lead, panel_as

from conftest import GraphQL
from embedcrm.services import Services
from factories import make_tenant

PIPELINES = "{ pipelines { id name isDefault stages { id name kind probability position } } }"
CREATE = """mutation($name: String!, $stages: [StageInput!]) {
  createPipeline(input: {name: $name, stages: $stages}) {
    pipeline { id name stages { id name kind probability } } userErrors { field message code } } }"""
MOVE = """mutation($lead: ID!, $stage: ID!, $reason: String) {
  moveLead(input: {leadId: $lead, stageId: $stage, reason: $reason}) {
    lead { id status stage { id name } stageHistory { fromStage { name } toStage { name } changedBy { id } }
           timeline { edges { node { kind body author { id } } } } }
    userErrors { field message code } } }"""


async def test_pipelines_are_created_renamed_reordered_and_deleted(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    made = await tenant.panel.data(
        CREATE,
        name="Опт",
        stages=[
            {"name": "Запрос", "probability": 10, "kind": "OPEN"},
            {"name": "Счёт", "probability": 50, "kind": "OPEN"},
            {"name": "Оплачен", "probability": 100, "kind": "WON"},
        ],
    )
    pipeline = made["createPipeline"]["pipeline"]
    assert [s["name"] for s in pipeline["stages"]] == ["Запрос", "Счёт", "Оплачен"]
    renamed = await tenant.panel.data(
        'mutation($id: ID!) { updatePipeline(input: {id: $id, name: "Оптовые"}) { pipeline { name } userErrors { code } } }',
        id=pipeline["id"],
    )
    assert renamed["updatePipeline"]["pipeline"]["name"] == "Оптовые"
    ids = [s["id"] for s in pipeline["stages"]]
    reordered = await tenant.panel.data(
        "mutation($p: ID!, $ids: [ID!]!) { reorderStages(input: {pipelineId: $p, stageIds: $ids}) { pipeline { stages { name position } } userErrors { code } } }",
        p=pipeline["id"],
        ids=[ids[1], ids[0], ids[2]],
    )
    assert [s["name"] for s in reordered["reorderStages"]["pipeline"]["stages"]] == [
        "Счёт",
        "Запрос",
        "Оплачен",
    ]
    partial = await tenant.panel.data(
        "mutation($p: ID!, $ids: [ID!]!) { reorderStages(input: {pipelineId: $p, stageIds: $ids}) { userErrors { field code } } }",
        p=pipeline["id"],
        ids=ids[:2],
    )
    assert partial["reorderStages"]["userErrors"][0]["field"] == "stageIds"
    added = await tenant.panel.data(
        'mutation($p: ID!) { createStage(input: {pipelineId: $p, name: "Доставка", probability: 80, position: 2}) { stage { id position probability kind } userErrors { code } } }',
        p=pipeline["id"],
    )
    assert added["createStage"]["stage"]["position"] == 2
    bad = await tenant.panel.data(
        'mutation($p: ID!) { createStage(input: {pipelineId: $p, name: "X", probability: 150}) { stage { id } userErrors { field code } } }',
        p=pipeline["id"],
    )
    assert bad["createStage"]["userErrors"] == [{"field": "probability", "code": "invalid"}]
    default = (await tenant.panel.data(PIPELINES))["pipelines"][0]
    deleted = await tenant.panel.data(
        "mutation($id: ID!, $t: ID!) { deletePipeline(input: {id: $id, targetStageId: $t}) { deletedId userErrors { code } } }",
        id=pipeline["id"],
        t=default["stages"][0]["id"],
    )
    assert deleted["deletePipeline"]["deletedId"] == pipeline["id"]
    assert len((await tenant.panel.data(PIPELINES))["pipelines"]) == 1
    refuse = await tenant.panel.data(
        "mutation($id: ID!, $t: ID!) { deletePipeline(input: {id: $id, targetStageId: $t}) { userErrors { code } } }",
        id=default["id"],
        t=default["stages"][1]["id"],
    )
    assert errors_of(refuse["deletePipeline"]) == ["conflict"]


async def test_moving_a_lead_records_history_timeline_and_events(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(client, tenant)
    stages = (await tenant.panel.data(PIPELINES))["pipelines"][0]["stages"]
    moved = await tenant.panel.data(MOVE, lead=lead["id"], stage=stages[1]["id"])
    assert moved["moveLead"]["userErrors"] == []
    won = await tenant.panel.data(
        MOVE, lead=lead["id"], stage=stages[3]["id"], reason="Оплатил счёт"
    )
    result = won["moveLead"]["lead"]
    assert result["status"] == "WON"
    assert [(h["fromStage"]["name"], h["toStage"]["name"]) for h in result["stageHistory"]] == [
        ("Новый", "В работе"),
        ("В работе", "Успешно"),
    ]
    kinds = [e["node"]["kind"] for e in result["timeline"]["edges"]]
    assert kinds[:2] == ["STAGE_CHANGE", "STAGE_CHANGE"] and "SUBMISSION" in kinds
    assert result["timeline"]["edges"][0]["node"]["body"] == "Оплатил счёт"
    changed = await events(services, tenant, "lead.stage_changed")
    assert [(e["data"]["from_stage"]["name"], e["data"]["to_stage"]["name"]) for e in changed] == [
        ("Новый", "В работе"),
        ("В работе", "Успешно"),
    ]
    (won_event,) = await events(services, tenant, "lead.won")
    assert won_event["data"]["reason"] == "Оплатил счёт"
    sequences = [
        e["data"]["sequence"] for e in await events(services, tenant) if "sequence" in e["data"]
    ]
    # One number per event of the lead, none skipped; the win comes after the move behind it.
    assert sorted(sequences) == list(range(1, len(sequences) + 1))
    assert won_event["data"]["sequence"] > changed[-1]["data"]["sequence"]
    lost = await tenant.panel.data(MOVE, lead=lead["id"], stage=stages[4]["id"], reason="Дорого")
    assert lost["moveLead"]["lead"]["status"] == "LOST"
    (lost_event,) = await events(services, tenant, "lead.lost")
    assert lost_event["data"]["reason"] == "Дорого"


async def test_deleting_a_stage_moves_its_leads_to_the_target(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(client, tenant)
    stages = (await tenant.panel.data(PIPELINES))["pipelines"][0]["stages"]
    done = await tenant.panel.data(
        "mutation($id: ID!, $t: ID!) { deleteStage(input: {id: $id, targetStageId: $t}) { pipeline { stages { name } } userErrors { code } } }",
        id=stages[0]["id"],
        t=stages[1]["id"],
    )
    assert done["deleteStage"]["pipeline"]["stages"][0]["name"] == "В работе"
    node = await tenant.panel.data(
        "query($id: ID!) { node(id: $id) { ... on Lead { stage { name } } } }", id=lead["id"]
    )
    assert node["node"]["stage"]["name"] == "В работе"


async def test_only_owners_change_pipelines_and_viewers_move_nothing(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(client, tenant)
    stages = (await tenant.panel.data(PIPELINES))["pipelines"][0]["stages"]
    manager, _ = await panel_as(platform, tenant, "MANAGER")
    viewer, _ = await panel_as(platform, tenant, "VIEWER")
    for panel in (manager, viewer):
        refused = await panel.data(CREATE, name="Мой", stages=None)
        assert errors_of(refused["createPipeline"]) == ["forbidden"]
    moved = await viewer.data(MOVE, lead=lead["id"], stage=stages[1]["id"])
    assert errors_of(moved["moveLead"]) == ["forbidden"]
    # Unassigned: not the manager's to move.
    moved = await manager.data(MOVE, lead=lead["id"], stage=stages[1]["id"])
    assert errors_of(moved["moveLead"]) == ["forbidden"]
    seen = await viewer.data("query($id: ID!) { node(id: $id) { id } }", id=lead["id"])
    assert seen["node"]["id"] == lead["id"]


async def test_another_workspace_never_sees_or_moves_pipelines_and_leads(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    a, b = await make_tenant(platform), await make_tenant(platform)
    lead_a = await new_lead(client, a)
    stages_a = (await a.panel.data(PIPELINES))["pipelines"][0]["stages"]
    stages_b = (await b.panel.data(PIPELINES))["pipelines"][0]["stages"]
    pipeline_a = (await a.panel.data(PIPELINES))["pipelines"][0]["id"]
    foreign = await b.panel.data(MOVE, lead=lead_a["id"], stage=stages_b[1]["id"])
    unknown = await b.panel.data(MOVE, lead=lead_a["id"][:-4] + "AAAA", stage=stages_b[1]["id"])
    assert foreign["moveLead"]["userErrors"] == unknown["moveLead"]["userErrors"]
    assert errors_of(foreign["moveLead"]) == ["not_found"]
    cross = await a.panel.data(MOVE, lead=lead_a["id"], stage=stages_b[1]["id"])
    assert errors_of(cross["moveLead"]) == ["not_found"]
    renamed = await b.panel.data(
        'mutation($id: ID!) { updatePipeline(input: {id: $id, name: "x"}) { userErrors { code } } }',
        id=pipeline_a,
    )
    assert errors_of(renamed["updatePipeline"]) == ["not_found"]
    stage = await b.panel.data(
        'mutation($id: ID!) { updateStage(input: {id: $id, name: "x"}) { userErrors { code } } }',
        id=stages_a[0]["id"],
    )
    assert errors_of(stage["updateStage"]) == ["not_found"]
    assert (await b.panel.data("query($id: ID!) { node(id: $id) { id } }", id=pipeline_a))[
        "node"
    ] is None
