"""Relay connections both ways: `first`/`after` forward, `last`/`before` backward, by keyset,
with a complete PageInfo; and graphql-schema-linter's Relay rules on the exported SDL."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
from graphql import parse
from node_tools import node_binary, require_package

from conftest import GraphQL
from embedcrm.config import Settings
from embedcrm.graphql.limits import query_cost
from embedcrm.graphql.schema import build_schema
from factories import make_tenant, submission, submit

ROOT = Path(__file__).resolve().parents[1]
RELAY_RULES = "relay-connection-types-spec,relay-connection-arguments-spec,relay-page-info-spec"

LEADS = """query($first: Int, $after: String, $last: Int, $before: String) {
  leads(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
    edges { cursor node { id title } } } }"""

TASKS = """query($first: Int, $after: String, $last: Int, $before: String) {
  tasks(first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
    edges { cursor node { id title } } } }"""


def ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def walk_both_ways(panel: GraphQL, query: str, field: str, total: int) -> list[str]:
    """Every row read forward two at a time, then backward two at a time: the same rows in the
    same order, each page's PageInfo exact about the side it read."""
    forward: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await panel.data(query, first=2, after=after))[field]
        info = page["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]
        forward += ids(page)
        pages += 1
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert len(forward) == total == len(set(forward)) and pages == (total + 1) // 2

    backward: list[str] = []
    before = None
    while True:
        page = (await panel.data(query, last=2, before=before))[field]
        info = page["pageInfo"]
        assert info["hasNextPage"] is (before is not None)
        backward = ids(page) + backward
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    assert backward == forward
    return forward


async def test_leads_page_forward_and_backward(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    beside = await make_tenant(platform, domain="other.example.com")
    for i in range(5):
        body = submission(email=f"page{i}@example.com", phone=f"+7912555{i:04d}")
        assert (await submit(client, tenant, body)).status_code == 202
    assert (await submit(client, beside, submission())).status_code == 202
    order = await walk_both_ways(tenant.panel, LEADS, "leads", 5)
    # Newest first either way; the tenant beside never shows up.
    everything = (await tenant.panel.data(LEADS, first=10))["leads"]
    assert ids(everything) == order and everything["totalCount"] == 5
    # `last` alone is the oldest rows; a page between two cursors is what lies between them.
    oldest = (await tenant.panel.data(LEADS, last=2))["leads"]
    assert ids(oldest) == order[-2:]
    assert oldest["pageInfo"]["hasPreviousPage"] is True
    cursors = [edge["cursor"] for edge in everything["edges"]]
    between = (await tenant.panel.data(LEADS, after=cursors[0], before=cursors[4]))["leads"]
    assert ids(between) == order[1:4]


async def test_tasks_page_by_due_time_both_ways(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    for day in (5, 1, 3, 2, 4):
        created = await tenant.panel.data(
            """mutation($title: String!, $due: DateTime!) {
              createTask(input: {title: $title, dueAt: $due}) { userErrors { message } } }""",
            title=f"day {day}",
            due=f"2031-01-0{day}T10:00:00Z",
        )
        assert created["createTask"]["userErrors"] == []
    order = await walk_both_ways(tenant.panel, TASKS, "tasks", 5)
    titles = [
        e["node"]["title"] for e in (await tenant.panel.data(TASKS, first=5))["tasks"]["edges"]
    ]
    assert titles == [f"day {d}" for d in range(1, 6)] and len(order) == 5


async def test_bad_backward_arguments_are_named(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    negative = await tenant.panel(LEADS, last=-1)
    assert negative["errors"][0]["extensions"]["fields"] == {"last": "last is 0 or more."}
    garbage = await tenant.panel(LEADS, last=2, before="not-a-cursor")
    assert garbage["errors"][0]["extensions"]["fields"] == {"before": "The cursor is not valid."}


def lint(sdl: Path) -> dict[str, Any]:
    node = node_binary()
    linter = require_package("graphql-schema-linter")
    done = subprocess.run(
        [
            node,
            str(linter / "lib" / "cli.js"),
            "--rules",
            RELAY_RULES,
            "--format",
            "json",
            str(sdl),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    result["exit"] = done.returncode
    return result


def test_the_exported_schema_passes_the_relay_lint_rules() -> None:
    result = lint(ROOT / "schema" / "schema.graphql")
    assert result["errors"] == [] and result["exit"] == 0


def test_the_relay_lint_catches_a_page_info_without_its_backward_half(tmp_path: Path) -> None:
    sdl = (ROOT / "schema" / "schema.graphql").read_text()
    stripped = tmp_path / "schema.graphql"
    stripped.write_text(sdl.replace("  hasPreviousPage: Boolean!\n", "", 1))
    result = lint(stripped)
    assert result["exit"] != 0
    assert [e["rule"] for e in result["errors"]] == ["relay-page-info-spec"]


def test_the_cost_limit_reads_pages_as_the_server_does() -> None:
    schema = build_schema(Settings(secret_keys=("k",)))._schema

    def cost(document: str, **variables: Any) -> int:
        return query_cost(schema, parse(document), variables)

    assert cost("{ leads { totalCount } }") == 50  # the default page
    assert cost("{ leads(last: 7) { totalCount } }") == 7
    assert cost("{ leads(first: 3, last: 7) { totalCount } }") == 7  # `last` wins
    assert cost("{ leads(first: null) { totalCount } }") == 100  # the most a page holds
    nested = (
        "query($n: Int) { leads(last: $n) { edges { node { timeline(last: 4) { totalCount } } } } }"
    )
    assert cost(nested, n=10) == 10 + 10 * 4
