"""What an operator sees: /metrics, the X-Request-ID contract, and JSON logs from `serve`."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from test_cli import free_port, fresh_env

from conftest import GraphQL
from embedcrm.app import create_app
from embedcrm.config import Settings
from embedcrm.services import Services
from factories import form_token, make_tenant, submission


@pytest.fixture
async def operator(settings: Settings, services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The app with metrics on, reached from 127.0.0.1 like a Prometheus on the same box."""
    app = create_app(dataclasses.replace(settings, metrics=True), services=services)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
        yield client


def sample(exposition: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` with these labels, in the text format (0 if none)."""
    total = 0.0
    for line in exposition.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.rsplit(" ", 1)[0]))
        if all(found.get(key) == value for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_metrics_count_submissions_by_outcome_and_time_routes_by_template(
    operator: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    before = (await operator.get("/metrics")).text
    url = f"/v1/sites/{tenant.site_key}/submissions"
    headers = {"Origin": f"https://{tenant.domain}"}
    token = form_token(operator, tenant)
    body = {**submission(), "form_token": token}
    assert (await operator.post(url, json=body, headers=headers)).status_code == 202
    assert (await operator.post(url, json=body, headers=headers)).status_code == 200  # repeat
    bot = {**submission(), "form_token": token, "honeypot": "http://spam.example"}
    assert (await operator.post(url, json=bot, headers=headers)).status_code == 202
    broken = {**headers, "Content-Type": "application/json"}
    assert (await operator.post(url, content=b"{", headers=broken)).status_code == 400

    answer = await operator.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    after = answer.text

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("embedcrm_submissions_total", outcome="accepted") == 1
    assert grew("embedcrm_submissions_total", outcome="repeat") == 1
    assert grew("embedcrm_submissions_total", outcome="quarantined") == 1
    assert grew("embedcrm_submissions_total", outcome="refused", code="bad_request") == 1
    # The route's template, never the site's key in the path.
    template = "/v1/sites/{site_key}/submissions"
    assert grew("embedcrm_http_request_duration_seconds_count", route=template, method="POST") >= 4
    assert tenant.site_key not in after
    # Nothing dispatches in this process: the submission's events wait, and the lag shows it.
    assert sample(after, "embedcrm_outbox_lag_seconds") > 0
    assert sample(after, "embedcrm_db_pool_size") >= 1
    assert "embedcrm_db_pool_checked_out" in after
    assert "embedcrm_submissions_quarantined" in after


async def test_metrics_are_for_operators_only(
    settings: Settings, services: Services, client: httpx.AsyncClient
) -> None:
    # Off by default: the route is not there.
    assert (await client.get("/metrics")).status_code == 404
    # On, but asked from an address outside EMBEDCRM_METRICS_ALLOW_IPS: not there either.
    app = create_app(dataclasses.replace(settings, metrics=True), services=services)
    outsider = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=outsider, base_url="http://crm.test") as visitor:
        assert (await visitor.get("/metrics")).status_code == 404
    insider = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=insider, base_url="http://crm.test") as operator:
        assert (await operator.get("/metrics")).status_code == 200


async def test_every_answer_carries_a_request_id_and_a_sane_one_is_kept(
    client: httpx.AsyncClient,
) -> None:
    fresh = await client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["x-request-id"])
    kept = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42:1"})
    assert kept.headers["x-request-id"] == "lb-7f3a.42:1"
    for insane in ["a b", "x" * 200, "id\twith\ttabs", "<script>"]:
        answer = await client.get("/healthz", headers={"X-Request-ID": insane})
        assert answer.headers["x-request-id"] != insane
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"])
    error = await client.post("/v1/sites/pk_nosuchsite/submissions", content=b"{}")
    assert error.status_code == 404 and error.headers["x-request-id"]


def test_serve_logs_one_json_object_per_line_with_the_request_id(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    env.update(EMBEDCRM_SECRET_KEYS="k", EMBEDCRM_LOG_FORMAT="json")
    port = free_port()
    log_path = tmp_path / "serve.log"
    request_id = f"probe-{uuid.uuid4().hex[:12]}"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "embedcrm", "serve", "--port", str(port), "--access-log"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/readyz",
                    headers={"X-Request-ID": request_id},
                    timeout=1,
                )
                if answer.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert answer.headers["x-request-id"] == request_id
    finally:
        server.terminate()
        server.wait(20)
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message", "request_id"} <= set(records[0])
    access = [r for r in records if r["request_id"] == request_id]
    assert access and any("/readyz" in r["message"] for r in access), records
    # uvicorn's own lines (start-up, shutdown) come in the same format.
    assert any(r["logger"].startswith("uvicorn") for r in records)


def test_a_metrics_children_are_remembered_up_to_a_bound() -> None:
    """Label values may come from clients (any HTTP method): past the bound a child is looked
    up again instead of remembered, and every value is still counted."""
    from prometheus_client import CollectorRegistry, Counter, generate_latest

    from embedcrm.metrics import Series

    registry = CollectorRegistry()
    counter = Counter("bounded_total", "test", ["method"], registry=registry)
    series = Series(counter, remembered=3)
    for n in range(10):
        series(f"M{n}").inc()
        series(f"M{n}").inc()
    assert series("M0") is series("M0")
    assert len(series._children) == 3
    text = generate_latest(registry).decode()
    assert all(f'bounded_total{{method="M{n}"}} 2.0' in text for n in range(10))
