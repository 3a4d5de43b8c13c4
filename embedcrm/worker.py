"""Background jobs: the webhook and e-mail dispatchers, and finishing submissions whose processing
failed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from typing import Any

from embedcrm.config import Settings
from embedcrm.errors import ServiceUnavailable
from embedcrm.services import Services
from embedcrm.webhooks.dispatcher import OutboundDispatcher

log = logging.getLogger("embedcrm.worker")


async def run_background_jobs(
    services: Services, *, interval: float = 5.0, invoice_interval: float = 60.0
) -> None:
    """Run until cancelled; a database outage only delays the jobs.

    Invoices fall due by the day, so their overdue scan runs once a minute rather than with
    every round: one transaction fewer beside the dispatcher's most of the time.
    """
    next_invoice_scan = 0.0
    while True:
        try:
            await services.capture.retry_unprocessed()
            await services.tasks.emit_overdue()
            if time.monotonic() >= next_invoice_scan:
                await services.invoices.emit_overdue()
                next_invoice_scan = time.monotonic() + invoice_interval
            await services.alerts.scan()
            await services.alerts.flush()
            await services.templates.scan_stage_changes()
            await services.templates.scan_reminders()
            await services.templates.scan_dates()
            await services.messages.release_held()
        except ServiceUnavailable:
            log.warning("database unavailable; background jobs wait")
        except Exception:
            log.exception("background job failed")
        await asyncio.sleep(interval)


async def run_worker(settings: Settings) -> None:
    """Dispatch webhooks and e-mails and run the jobs until SIGTERM or SIGINT.

    On a signal each dispatcher stops claiming and finishes or hands back its leases within its
    grace period, so a rolling deploy leaves nothing in flight.
    """
    services = Services.create(settings)
    dispatcher = services.dispatcher()
    emails = services.email_dispatcher()
    dispatchers: list[OutboundDispatcher[Any]] = [dispatcher]
    if emails is not None:
        dispatchers.append(emails)

    def request_stop() -> None:
        for each in dispatchers:
            each.request_stop()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, request_stop)
    jobs = asyncio.create_task(run_background_jobs(services))
    try:
        await asyncio.gather(*(each.run() for each in dispatchers))
    finally:
        jobs.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await jobs
        await services.webhook_client.aclose()
        await services.provider_client.aclose()
        await services.db.dispose()
