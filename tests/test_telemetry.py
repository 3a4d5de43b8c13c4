"""OpenTelemetry is optional: off and never imported unless OTEL_EXPORTER_OTLP_ENDPOINT is set,
harmless when asked for without `embedcrm[otel]` installed, and producing spans when it is."""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import sys

import httpx
import pytest

from embedcrm.app import create_app
from embedcrm.config import Settings
from embedcrm.services import Services
from embedcrm.telemetry import instrument


def _otel_installed() -> bool:
    # find_spec of a submodule fails when its package is missing: look at the package first.
    if importlib.util.find_spec("opentelemetry") is None:
        return False
    return importlib.util.find_spec("opentelemetry.sdk") is not None


OTEL_INSTALLED = _otel_installed()


async def test_without_the_endpoint_nothing_is_traced_or_imported(
    settings: Settings, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    app = create_app(settings, services=services)
    assert [m.cls.__name__ for m in app.user_middleware if "OpenTelemetry" in m.cls.__name__] == []
    assert not [name for name in sys.modules if name.startswith("opentelemetry.instrumentation")]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
        assert (await client.get("/healthz")).status_code == 200


@pytest.mark.skipif(OTEL_INSTALLED, reason="embedcrm[otel] is installed here")
async def test_asked_for_without_the_packages_it_serves_untraced_and_says_so(
    settings: Settings,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    with caplog.at_level(logging.WARNING, logger="embedcrm.telemetry"):
        app = create_app(dataclasses.replace(settings), services=services)
    assert "pip install 'embedcrm[otel]'" in caplog.text
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
        assert (await client.get("/readyz")).status_code == 200


@pytest.mark.skipif(not OTEL_INSTALLED, reason="embedcrm[otel] is not installed")
async def test_with_the_packages_requests_and_statements_become_spans(
    settings: Settings, services: Services
) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    app = create_app(settings, services=services)
    assert instrument(app, services.db.engine, exporter=exporter)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
        assert (await client.get("/readyz")).status_code == 200
    names = [span.name for span in exporter.get_finished_spans()]
    assert any("GET" in name for name in names), names
    assert any("SELECT" in name for name in names), names
