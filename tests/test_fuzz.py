"""Property-based checks by schemathesis against the app under uvicorn: the GraphQL schema with
an OWNER panel token, and the plain HTTP routes against /openapi.json. Both are bounded in
examples and time so that they fit in CI."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from browser_support import LiveServer
from starlette.routing import Route

from conftest import GraphQL
from embedcrm.app import create_app
from embedcrm.config import Settings
from embedcrm.openapi import openapi_document
from embedcrm.services import Services
from factories import make_tenant

ROOT = Path(__file__).resolve().parents[1]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[str]:
    # A fuzzer hits a panel token harder than the panel ever does: room for its bursts.
    changed = dataclasses.replace(settings, graphql_concurrency_per_panel_token=64)
    services = Services.create(changed)
    live = LiveServer(lambda: create_app(changed, services=services))
    await live.start()
    try:
        yield live.url
    finally:
        await live.stop()
        await services.capture.close()
        await services.webhook_client.aclose()
        await services.db.dispose()


async def schemathesis(*arguments: str, budget: float, workdir: Path) -> tuple[int, str]:
    """Run the schemathesis CLI; it keeps a cache of crashes in its working directory, so that
    is a temporary one, never the repository."""
    assert SCHEMATHESIS.exists(), f"{SCHEMATHESIS} is missing: run scripts/bootstrap"
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "run",
        *arguments,
        "--seed=20261130",
        "--workers=1",
        f"--max-time={int(budget)}",
        "--request-timeout=10",
        "--generation-database=none",
        # NUL is refused at the edge by design (400, tests/test_bad_input.py); a fuzzer that
        # sends it learns nothing more about the resolvers.
        "--generation-allow-x00=false",
        cwd=workdir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT / "tests"),
            "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
            "SCHEMATHESIS_TELEMETRY": "false",
            "NO_COLOR": "1",
        },
    )
    out, _ = await asyncio.wait_for(process.communicate(), budget + 60)
    return process.returncode or 0, out.decode(errors="replace")


async def test_graphql_schema_fuzzed_with_an_owner_token_finds_no_server_error(
    server: str, platform: GraphQL, tmp_path: Path
) -> None:
    owner = await make_tenant(platform)
    code, output = await schemathesis(
        f"{server}/graphql",
        f"--header=Authorization: Bearer {owner.panel.bearer}",
        # Both would count deliberate answers as failures: not_a_server_error a missing id's
        # GraphQL error, positive_data_acceptance a valid query over the cost or depth limit.
        # A 5xx is what no input may cause (schemathesis_hooks.no_server_error_status).
        "--exclude-checks=not_a_server_error,positive_data_acceptance",
        "--max-examples=8",
        budget=45,
        workdir=tmp_path,
    )
    assert code == 0, output
    assert_every_operation_tested(output, at_least=50)


def assert_every_operation_tested(output: str, *, at_least: int) -> None:
    """The run reached every operation it selected: none was skipped for want of data."""
    assert "Selected: " in output and "Tested: " in output, output
    selected = output.split("Selected: ")[1].split("/")[0]
    assert int(selected) >= at_least and f"Tested: {selected}" in output, output


def test_openapi_names_exactly_the_plain_http_routes() -> None:
    """The spec is kept by hand: a route added or dropped without it fails here."""
    app = create_app(Settings(secret_keys=("k",)))
    served: dict[str, set[str]] = {}
    for route in app.routes:
        assert isinstance(route, Route)
        if route.path == "/graphql":
            continue  # GraphQL is described by schema/schema.graphql
        # Starlette answers HEAD wherever GET is: the spec need not repeat it.
        methods = {m.lower() for m in route.methods or ()} - {"head"}
        served.setdefault(route.path, set()).update(methods)
    document = openapi_document("http://127.0.0.1:8000")
    described = {
        path: {m for m in item if m in HTTP_METHODS} - {"head"}
        for path, item in document["paths"].items()
    }
    assert described == served


HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


async def test_openapi_routes_fuzzed_answer_as_described(server: str, tmp_path: Path) -> None:
    code, output = await schemathesis(
        f"{server}/openapi.json",
        "--checks=not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_schema_conformance",
        "--max-examples=15",
        budget=40,
        workdir=tmp_path,
    )
    assert code == 0, output
    assert_every_operation_tested(output, at_least=15)
