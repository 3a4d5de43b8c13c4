"""OpenTelemetry traces, when asked for: ``pip install embedcrm[otel]`` and set
``OTEL_EXPORTER_OTLP_ENDPOINT``.

Then every HTTP request (ASGI), SQL statement (SQLAlchemy) and outgoing webhook (httpx) is a
span, exported over OTLP/HTTP to that endpoint; the standard ``OTEL_*`` variables (service name,
headers, sampler) apply. Without the variable, or without the packages, nothing here runs and
nothing is imported: tracing costs nothing unless it is on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("embedcrm.telemetry")

_tracer_provider: Any = None


def tracing_requested(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip())


def instrument(app: Any, engine: Any, *, exporter: Any = None) -> bool:
    """Trace ``app`` (a Starlette app: the tracing middleware goes outermost) and ``engine``
    (an AsyncEngine); returns whether tracing is on.

    ``exporter`` replaces the OTLP exporter (an in-memory one in tests).
    """
    if exporter is None and not tracing_requested():
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but the tracing packages are not installed: "
            "pip install 'embedcrm[otel]'. Serving without traces."
        )
        return False
    global _tracer_provider
    if _tracer_provider is None:
        provider = TracerProvider(
            resource=Resource.create(
                {"service.name": os.environ.get("OTEL_SERVICE_NAME", "embedcrm")}
            )
        )
        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        else:
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        HTTPXClientInstrumentor().instrument(tracer_provider=provider)
        _tracer_provider = provider
    # The instrumentation declares SQLAlchemy < 2.1 and would do nothing on 2.1; the engine
    # events it hooks are the same in 2.1 (tests/test_telemetry.py sees the spans).
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, tracer_provider=_tracer_provider, skip_dep_check=True
    )
    app.add_middleware(OpenTelemetryMiddleware, tracer_provider=_tracer_provider)
    return True
