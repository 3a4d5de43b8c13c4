"""Prometheus metrics: what an operator watches (docs/operations.md says what to alert on).

Counters and histograms are kept by prometheus-client in the process that counts. With several
processes, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory shared by them (``serve
--workers N`` makes one itself): each process writes its values there and ``/metrics``, in any
of them, answers the sum over all. Without it, ``/metrics`` answers for the process that
serves the request.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

__all__ = [
    "CONTENT_TYPE_LATEST",
    "DELIVERIES",
    "MESSAGES",
    "OUTBOX_LAG",
    "POOL_CHECKED_OUT",
    "POOL_SIZE",
    "REQUEST_SECONDS",
    "SUBMISSIONS",
    "Series",
    "exposition",
]

# Latency buckets for a service whose submissions answer in milliseconds and whose reports may
# take a second.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_SECONDS = Histogram(
    "embedcrm_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template (never the raw path), method and status.",
    ["route", "method", "status"],
    buckets=_LATENCY_BUCKETS,
)
SUBMISSIONS = Counter(
    "embedcrm_submissions",
    "Public form submissions by outcome: accepted, repeat, quarantined, refused (with the "
    "error code), rate_limited.",
    ["outcome", "code"],
)
DELIVERIES = Counter(
    "embedcrm_webhook_deliveries",
    "Webhook delivery attempts by outcome: delivered, retry (failed, tried again later), "
    "failed (given up), lease_expired (its dispatcher stopped before recording it).",
    ["outcome"],
)
MESSAGES = Counter(
    "embedcrm_message_sends",
    "E-mail message attempts by outcome: delivered (handed to the mail server), retry, "
    "failed (given up or refused), lease_expired (its dispatcher stopped before recording it).",
    ["outcome"],
)
OUTBOX_LAG = Gauge(
    "embedcrm_outbox_lag_seconds",
    "Age of the oldest event not yet delivered to every endpoint (0 when none waits); read "
    "from the database when /metrics is scraped.",
    multiprocess_mode="mostrecent",
)
QUARANTINED = Gauge(
    "embedcrm_submissions_quarantined",
    "Submissions held in quarantine now, over all workspaces; read when /metrics is scraped.",
    multiprocess_mode="mostrecent",
)
POOL_CHECKED_OUT = Gauge(
    "embedcrm_db_pool_checked_out",
    "Database connections in use (summed over live processes).",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "embedcrm_db_pool_size",
    "Database connections a process keeps (summed over live processes); up to as many again "
    "are opened on demand.",
    multiprocess_mode="livesum",
)


class Series:
    """A metric's children by their label values, each looked up once: ``labels()`` validates
    and hashes the labels at every call, a few per cent of a submission's CPU. At most
    ``remembered`` are kept, as labels may come from clients (an HTTP method is anything a
    client sends); past that, children are looked up again."""

    def __init__(self, metric: Counter | Histogram, remembered: int = 1024) -> None:
        self.metric = metric
        self.remembered = remembered
        self._children: dict[tuple[str, ...], Any] = {}

    def __call__(self, *labels: str) -> Any:
        child = self._children.get(labels)
        if child is None:
            child = self.metric.labels(*labels)
            if len(self._children) < self.remembered:
                self._children[labels] = child
        return child


def exposition() -> bytes:
    """The text format of every metric, summed over processes in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()
