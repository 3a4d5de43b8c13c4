"""Background jobs: finishing submissions whose processing failed (and, next, webhooks)."""

from __future__ import annotations

import asyncio
import logging

from embedcrm.config import Settings
from embedcrm.errors import ServiceUnavailable
from embedcrm.services import Services

log = logging.getLogger("embedcrm.worker")


async def run_background_jobs(services: Services, *, interval: float = 5.0) -> None:
    """Run until cancelled; a database outage only delays the jobs."""
    while True:
        try:
            await services.capture.retry_unprocessed()
        except ServiceUnavailable:
            log.warning("database unavailable; background jobs wait")
        except Exception:
            log.exception("background job failed")
        await asyncio.sleep(interval)


async def run_worker(settings: Settings) -> None:
    services = Services.create(settings)
    try:
        await run_background_jobs(services)
    finally:
        await services.db.dispose()
