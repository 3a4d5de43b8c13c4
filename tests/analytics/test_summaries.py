"""What the reports read of each lead's history is kept as the panel works, and filled by the
migration from a history made before it; the funnel reads the stage order as it is now."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import to_tuple
from sqlalchemy import MetaData, Table, inspect, select
from sqlalchemy.engine import make_url

from conftest import SECRET, GraphQL, run_admin_sql
from embedcrm.config import Settings
from embedcrm.contacts.models import Contact
from embedcrm.db import create_engine
from embedcrm.graphql.ids import parse_global_id
from embedcrm.leads.models import Activity, Lead, LeadStageChange, with_past_stage
from embedcrm.migrations import alembic_config
from embedcrm.pipelines.models import Pipeline, Stage
from embedcrm.services import Services
from embedcrm.tasks.models import Task
from embedcrm.workspaces.models import Member, Site, Workspace
from factories import LEADS, Tenant, make_tenant, submission, submit

STAGES = "{ pipelines { id stages { id name position } } }"
MOVE = """mutation($lead: ID!, $stage: ID!) {
  moveLead(input: {leadId: $lead, stageId: $stage}) { userErrors { code } } }"""
ADD_ACTIVITY = """mutation($lead: ID!, $kind: ActivityKind!, $at: DateTime) {
  addActivity(input: {leadId: $lead, kind: $kind, body: "—", occurredAt: $at}) {
    userErrors { code } } }"""
LEAD_TASKS = """query($id: ID!) { node(id: $id) { ... on Lead {
  tasks { edges { node { id kind } } } } } }"""
SET_DONE = """mutation($id: ID!, $done: Boolean!) {
  updateTask(input: {id: $id, done: $done}) { task { doneAt } userErrors { code } } }"""
DELETE_TASK = """mutation($id: ID!) { deleteTask(input: {id: $id}) { userErrors { code } } }"""
REPORTS = """query($filter: AnalyticsFilter!) { analytics(filter: $filter) {
  funnel { leads stages { name reached } }
  managers { leads answered medianFirstResponseSeconds } } }"""


def test_past_stages_hold_each_stage_once_in_the_order_left() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    past = with_past_stage(with_past_stage(with_past_stage(None, a), b), a)
    assert past == f"{a.hex},{b.hex}"


async def new_lead(client: httpx.AsyncClient, tenant: Tenant) -> str:
    sent = await submit(client, tenant, submission(email=f"{uuid.uuid4().hex[:10]}@example.com"))
    assert sent.status_code in (200, 202), sent.text
    data = await tenant.panel.data(LEADS, first=1)
    lead_id: str = data["leads"]["edges"][0]["node"]["id"]
    return lead_id


async def summary(services: Services, lead_id: str) -> tuple[Lead, list[LeadStageChange]]:
    lead_uuid = parse_global_id(lead_id).row_id
    async with services.db.transaction() as session:
        lead = await session.scalar(select(Lead).where(Lead.id == lead_uuid))
        changes = await session.scalars(
            select(LeadStageChange)
            .where(LeadStageChange.lead_id == lead_uuid)
            .order_by(LeadStageChange.changed_at, LeadStageChange.id)
        )
        assert lead is not None
        return lead, list(changes)


async def first_response_task(tenant: Tenant, lead_id: str) -> str:
    tasks = (await tenant.panel.data(LEAD_TASKS, id=lead_id))["node"]["tasks"]["edges"]
    (task_id,) = [t["node"]["id"] for t in tasks if t["node"]["kind"] == "FIRST_RESPONSE"]
    return task_id


async def test_moves_keep_where_the_lead_stood_and_since_when(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform, domain="moves.example.com")
    lead_id = await new_lead(client, tenant)
    stages = (await tenant.panel.data(STAGES))["pipelines"][0]["stages"]
    ids = [parse_global_id(s["id"]).row_id for s in stages]
    lead, _ = await summary(services, lead_id)
    assert (lead.past_stages, lead.stage_entered_at) == (None, None)
    # Новый → В работе → Предложение → back to В работе.
    for stage in (stages[1], stages[2], stages[1]):
        moved = await tenant.panel.data(MOVE, lead=lead_id, stage=stage["id"])
        assert moved["moveLead"]["userErrors"] == []
    lead, changes = await summary(services, lead_id)
    assert lead.past_stages == ",".join(i.hex for i in ids[:3])
    assert lead.stage_entered_at == changes[-1].changed_at
    # Each stay began at the move before it, the first at the lead's creation.
    assert [c.entered_at for c in changes] == [
        lead.created_at,
        changes[0].changed_at,
        changes[1].changed_at,
    ]
    assert {c.lead_created_at for c in changes} == {lead.created_at}
    # Moving stages is not answering the client.
    assert lead.first_response_at is None


async def test_answers_and_the_first_response_task_keep_the_first_response(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform, domain="answers.example.com")
    period = {
        "from": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "to": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }
    lead_id = await new_lead(client, tenant)
    task_id = await first_response_task(tenant, lead_id)
    created = (await summary(services, lead_id))[0].created_at

    done = await tenant.panel.data(SET_DONE, id=task_id, done=True)
    done_at = datetime.fromisoformat(done["updateTask"]["task"]["doneAt"])
    assert (await summary(services, lead_id))[0].first_response_at == done_at
    (row,) = (await tenant.panel.data(REPORTS, filter=period))["analytics"]["managers"]
    assert (row["leads"], row["answered"]) == (1, 1)

    # Reopened: not answered after all.
    await tenant.panel.data(SET_DONE, id=task_id, done=False)
    assert (await summary(services, lead_id))[0].first_response_at is None
    (row,) = (await tenant.panel.data(REPORTS, filter=period))["analytics"]["managers"]
    assert (row["answered"], row["medianFirstResponseSeconds"]) == (0, None)

    # A call entered afterwards as made a minute after the lead came answers it then; a note
    # later on changes nothing.
    call_at = created + timedelta(minutes=1)
    for kind, at in (("NOTE", created + timedelta(minutes=5)), ("CALL", call_at)):
        added = await tenant.panel.data(ADD_ACTIVITY, lead=lead_id, kind=kind, at=at.isoformat())
        assert added["addActivity"]["userErrors"] == []
    assert (await summary(services, lead_id))[0].first_response_at == call_at
    (row,) = (await tenant.panel.data(REPORTS, filter=period))["analytics"]["managers"]
    assert row["medianFirstResponseSeconds"] == pytest.approx(60)

    # A done task that is deleted stops counting.
    other = await new_lead(client, tenant)
    other_task = await first_response_task(tenant, other)
    await tenant.panel.data(SET_DONE, id=other_task, done=True)
    assert (await summary(services, other))[0].first_response_at is not None
    deleted = await tenant.panel.data(DELETE_TASK, id=other_task)
    assert deleted["deleteTask"]["userErrors"] == []
    assert (await summary(services, other))[0].first_response_at is None


async def test_the_funnel_reads_stage_order_as_it_is_now(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform, domain="order.example.com")
    period = {
        "from": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "to": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }
    pipeline = (await tenant.panel.data(STAGES))["pipelines"][0]
    new, working, offer = pipeline["stages"][:3]
    # One lead skips В работе for Предложение; another stays in Новый.
    skipper = await new_lead(client, tenant)
    await new_lead(client, tenant)
    await tenant.panel.data(MOVE, lead=skipper, stage=offer["id"])

    def reached(report: dict[str, Any]) -> dict[str, int]:
        return {s["name"]: s["reached"] for s in report["analytics"]["funnel"]["stages"]}

    before = reached(await tenant.panel.data(REPORTS, filter=period))
    assert (before["Новый"], before["В работе"], before["Предложение"]) == (2, 1, 1)
    # With В работе now after Предложение, the lead that went no further than Предложение
    # has not reached it.
    rest = [s["id"] for s in pipeline["stages"][3:]]
    order = [new["id"], offer["id"], working["id"], *rest]
    await tenant.panel.data(
        "mutation($p: ID!, $ids: [ID!]!) { reorderStages(input: {pipelineId: $p, stageIds: $ids}) { userErrors { code } } }",
        p=pipeline["id"],
        ids=order,
    )
    after = reached(await tenant.panel.data(REPORTS, filter=period))
    assert (after["Новый"], after["Предложение"], after["В работе"]) == (2, 1, 0)


# ---- the migration -------------------------------------------------------------------------

T = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def revisions_below(script: ScriptDirectory, revision: str) -> list[str]:
    """What to upgrade to for the schema just before ``revision``: the heads of every revision
    that is not ``revision`` or after it (its parents, and the branches that joined later)."""
    after = {
        r.revision
        for r in script.walk_revisions()
        if revision in {a.revision for a in script.iterate_revisions(r.revision, "base")}
    }
    before = {r.revision: r for r in script.walk_revisions() if r.revision not in after}
    parents = {p for r in before.values() for p in to_tuple(r.down_revision, default=())}
    return sorted(set(before) - parents)


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A database of its own, of the kind the suite runs on, with no revision applied."""
    server = os.environ.get("EMBEDCRM_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite+aiosqlite:///{tmp_path / 'before.db'}"
        return
    base = make_url(server)
    name = f"embedcrm_backfill_{uuid.uuid4().hex[:10]}"
    run_admin_sql(base, f'CREATE DATABASE "{name}"')
    yield base.set(database=name).render_as_string(hide_password=False)
    run_admin_sql(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_the_migration_fills_the_summaries_from_the_history(empty_database: str) -> None:
    settings = Settings(secret_keys=(SECRET,), database_url=empty_database)
    config = alembic_config(settings)
    for revision in revisions_below(ScriptDirectory.from_config(config), "0008"):
        command.upgrade(config, revision)

    ws, member, pipeline, contact = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    stages = [uuid.uuid4() for _ in range(3)]
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    minutes = [T + timedelta(minutes=m) for m in range(200)]
    # Only the columns the tables had before the migration.
    rows: list[tuple[Any, list[dict[str, Any]]]] = [
        (Workspace, [{"id": ws, "external_id": "x", "name": "W", "created_at": T}]),
        (Member, [{"workspace_id": ws, "id": member, "external_id": "m", "role": "MANAGER"}]),
        (Pipeline, [{"workspace_id": ws, "id": pipeline, "name": "P", "position": 0}]),
        (
            Stage,
            [
                {
                    "workspace_id": ws,
                    "id": s,
                    "pipeline_id": pipeline,
                    "name": f"S{i}",
                    "position": i,
                    "probability": 0,
                    "kind": "OPEN",
                }
                for i, s in enumerate(stages)
            ],
        ),
        (Contact, [{"workspace_id": ws, "id": contact, "created_at": T, "updated_at": T}]),
        (
            Lead,
            [
                {
                    "workspace_id": ws,
                    "id": lead,
                    "contact_id": contact,
                    "pipeline_id": pipeline,
                    "stage_id": stage,
                    "title": title,
                    "created_at": T,
                    "updated_at": T,
                }
                for title, lead, stage in (
                    ("A", a, stages[1]),
                    ("B", b, stages[0]),
                    ("C", c, stages[0]),
                )
            ],
        ),
        # A: S0 → S1 at +60, → S2 at +120, back to S1 at +180.
        (
            LeadStageChange,
            [
                {
                    "workspace_id": ws,
                    "lead_id": a,
                    "pipeline_id": pipeline,
                    "from_stage_id": stages[i],
                    "from_stage_name": "",
                    "to_stage_id": stages[j],
                    "to_stage_name": "",
                    "changed_at": minutes[m],
                    "created_at": minutes[m],
                }
                for i, j, m in ((0, 1, 60), (1, 2, 120), (2, 1, 180))
            ],
        ),
        # A: its task done at +40 and a call at +30 by a member; a note by nobody at +5 and a
        # stage change at +1 are no answers. B: its task done at +10. C: a to-do done at +1.
        (
            Task,
            [
                {"workspace_id": ws, "lead_id": lead, "kind": kind, "title": "t", "done_at": at}
                for lead, kind, at in (
                    (a, "FIRST_RESPONSE", minutes[40]),
                    (b, "FIRST_RESPONSE", minutes[10]),
                    (c, "TODO", minutes[1]),
                )
            ],
        ),
        (
            Activity,
            [
                {
                    "workspace_id": ws,
                    "contact_id": contact,
                    "lead_id": a,
                    "author_id": author,
                    "kind": kind,
                    "created_at": at,
                }
                for author, kind, at in (
                    (member, "CALL", minutes[30]),
                    (None, "NOTE", minutes[5]),
                    (member, "STAGE_CHANGE", minutes[1]),
                )
            ],
        ),
    ]
    await insert_rows(settings, rows)

    command.upgrade(config, "head")
    expected = await read_summaries(settings)
    a_values, b_values, c_values, moves = expected
    assert a_values[0] == minutes[30]
    assert a_values[1] == minutes[180]
    assert set(a_values[2].split(",")) == {s.hex for s in stages}
    assert b_values == (minutes[10], None, None)
    assert (c_values[0], c_values[2]) == (None, None)
    assert moves == [(T, T), (minutes[60], T), (minutes[120], T)]
    # Down and up again: the same.
    command.downgrade(config, "0007")
    command.upgrade(config, "head")
    assert await read_summaries(settings) == expected


async def insert_rows(settings: Settings, rows: list[tuple[Any, list[dict[str, Any]]]]) -> None:
    """Insert rows into a database migrated to an older revision: only the columns it has,
    with the models' defaults for those the rows leave out."""
    engine = create_engine(settings)
    try:
        async with engine.begin() as connection:
            for model, values in rows:
                table = model.__table__
                # Only the columns the database has now: later migrations add more.
                existing = {
                    c["name"]
                    for c in await connection.run_sync(
                        lambda sync, name=table.name: inspect(sync).get_columns(name)
                    )
                }
                old_table = Table(
                    table.name, MetaData(), *(c._copy() for c in table.c if c.name in existing)
                )
                for value in values:
                    present = {k: v for k, v in value.items() if k in existing}
                    await connection.execute(old_table.insert().values(present))
    finally:
        await engine.dispose()


async def read_summaries(settings: Settings) -> Any:
    """(first response, stage entered, past stages) of leads A, B and C, and A's moves'
    (entered, lead created), as the database has them."""
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            leads = (
                await connection.execute(
                    select(
                        Lead.first_response_at, Lead.stage_entered_at, Lead.past_stages
                    ).order_by(Lead.title)
                )
            ).all()
            moves = (
                await connection.execute(
                    select(LeadStageChange.entered_at, LeadStageChange.lead_created_at).order_by(
                        LeadStageChange.changed_at
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    return (*[tuple(r) for r in leads], [tuple(m) for m in moves])


async def test_migration_0011_fills_language_value_and_close_reason(empty_database: str) -> None:
    settings = Settings(secret_keys=(SECRET,), database_url=empty_database)
    config = alembic_config(settings)
    for revision in revisions_below(ScriptDirectory.from_config(config), "0011"):
        command.upgrade(config, revision)
    english, bare, pipeline, contact = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    won, lost, priced = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    stage = uuid.uuid4()
    lead = {"workspace_id": english, "contact_id": contact, "pipeline_id": pipeline}
    lead |= {"stage_id": stage, "title": "t", "created_at": T, "updated_at": T}
    rows: list[tuple[Any, list[dict[str, Any]]]] = [
        (Workspace, [{"id": english, "name": "E", "created_at": T}, {"id": bare, "name": "B"}]),
        (
            Site,
            [
                {
                    "workspace_id": english,
                    "name": "new",
                    "public_key": "pk_b",
                    "language": "ru",
                    "created_at": T + timedelta(days=1),
                },
                {
                    "workspace_id": english,
                    "name": "old",
                    "public_key": "pk_a",
                    "language": "en",
                    "created_at": T,
                },
            ],
        ),
        (Pipeline, [{"workspace_id": english, "id": pipeline, "name": "P", "position": 0}]),
        (
            Stage,
            [
                {
                    "workspace_id": english,
                    "id": stage,
                    "pipeline_id": pipeline,
                    "name": "S",
                    "position": 0,
                    "probability": 0,
                    "kind": "OPEN",
                }
            ],
        ),
        (Contact, [{"workspace_id": english, "id": contact, "created_at": T, "updated_at": T}]),
        (
            Lead,
            [
                {**lead, "id": won, "status": "WON"},
                {**lead, "id": lost, "status": "LOST"},
                {**lead, "id": priced, "status": "OPEN", "value": 100, "currency": "RUB"},
            ],
        ),
        (
            Activity,
            [
                {
                    "workspace_id": english,
                    "contact_id": contact,
                    "lead_id": lead_id,
                    "kind": "STAGE_CHANGE",
                    "body": body,
                    "created_at": T + timedelta(minutes=m),
                }
                for lead_id, body, m in ((lost, "сначала", 1), (lost, "Дорого", 2), (won, None, 3))
            ],
        ),
    ]
    await insert_rows(settings, rows)
    command.upgrade(config, "heads")
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            workspaces = dict(
                (await connection.execute(select(Workspace.id, Workspace.language))).all()
            )
            currencies = set((await connection.execute(select(Workspace.currency))).scalars())
            leads = {
                row[0]: tuple(row[1:])
                for row in await connection.execute(
                    select(Lead.id, Lead.close_reason, Lead.value_set_by_hand)
                )
            }
    finally:
        await engine.dispose()
    assert (workspaces[english], workspaces[bare]) == ("en", "ru")
    assert currencies == {"RUB"}
    assert leads == {won: (None, False), lost: ("Дорого", False), priced: (None, True)}
