"""`serve` and `worker` as real processes on one database, with leads arriving and a webhook
endpoint: every submission becomes one lead and every event reaches the receiver."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from test_delivery import create_endpoint, remove_endpoints, ws_uuid
from webhook_support import Receiver, running_receiver

from conftest import SECRET, GraphQL
from embedcrm.capture.models import Submission, SubmissionStatus
from embedcrm.leads.models import Lead
from embedcrm.services import Services
from embedcrm.webhooks.models import OutboxEvent, message_id_of
from factories import Tenant, make_tenant, page_view_token, submission


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Processes:
    """embedcrm processes started by a test, each logging to a file of its own."""

    def __init__(self, database_url: str, logs: Path) -> None:
        self.database_url = database_url
        self.logs = logs
        self.running: list[subprocess.Popen[bytes]] = []
        self.log_files: list[Path] = []
        self.by_url: dict[str, subprocess.Popen[bytes]] = {}
        self.extra_env: dict[str, str] = {}

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "EMBEDCRM_DATABASE_URL": self.database_url,
            "EMBEDCRM_SECRET_KEYS": SECRET,
            "EMBEDCRM_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "EMBEDCRM_RATE_LIMIT_VISITOR": "",
            "EMBEDCRM_RATE_LIMIT_SITE": "",
            **self.extra_env,
        }

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        path = self.logs / f"{args[0]}-{len(self.log_files)}.log"
        self.log_files.append(path)
        with path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "embedcrm", *args],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.running.append(process)
        return process

    async def serve(self, *args: str) -> str:
        port = free_port()
        process = self.start("serve", "--port", str(port), *args)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                assert process.poll() is None, self.output()
                try:
                    if (await client.get(f"{url}/readyz", timeout=1)).status_code == 200:
                        self.by_url[url] = process
                        return url
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"serve did not answer within a minute:\n{self.output()}")

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    @staticmethod
    def exit_code(process: subprocess.Popen[bytes], timeout: float) -> int | None:
        """The process's exit code, or None if it is still running after ``timeout``."""
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def output(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in self.log_files)


@pytest.fixture
async def processes(
    services: Services, database_url: str, tmp_path: Path
) -> AsyncIterator[Processes]:
    await remove_endpoints(services.db)
    started = Processes(database_url, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()
        # Captured, and shown only when the test fails: what the processes logged.
        print(started.output())
        await remove_endpoints(services.db)


async def post_submissions(url: str, tenant: Tenant, count: int) -> list[str]:
    """``count`` submissions, a few at a time as visitors send them; returns their ids."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    slots = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def one(n: int, submission_id: str) -> None:
            body = submission(
                submission_id=submission_id,
                email=f"visitor{n}@example.com",
                phone=f"+7 912 {n // 10000:03d}-{n // 100 % 100:02d}-{n % 100:02d}",
            )
            body["form_token"] = page_view_token([SECRET], tenant)
            async with slots:
                for _ in range(50):
                    try:
                        answer = await client.post(
                            f"/v1/sites/{tenant.site_key}/submissions",
                            json=body,
                            headers={"Origin": f"https://{tenant.domain}"},
                        )
                    except httpx.TransportError:
                        await asyncio.sleep(0.2)  # the process is restarting; the widget retries
                        continue
                    if answer.status_code in (200, 202):
                        return
                    assert answer.status_code == 503, answer.text
                    await asyncio.sleep(0.2)
                raise AssertionError(f"submission {submission_id} was never accepted")

        await asyncio.gather(*(one(n, sid) for n, sid in enumerate(ids)))
    return ids


async def leads_and_events(
    services: Services, workspace_id: uuid.UUID
) -> tuple[int, int, set[str]]:
    """(submissions made into leads, leads, the webhook ids of its outbox events) of one
    workspace."""
    async with services.db.transaction() as session:
        processed = await session.scalar(
            select(func.count()).where(
                Submission.workspace_id == workspace_id,
                Submission.status == SubmissionStatus.PROCESSED,
            )
        )
        leads = await session.scalar(select(func.count()).where(Lead.workspace_id == workspace_id))
        event_ids = (
            await session.scalars(
                select(OutboxEvent.id).where(OutboxEvent.workspace_id == workspace_id)
            )
        ).all()
    return int(processed or 0), int(leads or 0), {message_id_of(event) for event in event_ids}


async def wait_until_delivered(
    services: Services, receiver: Receiver, workspace_id: uuid.UUID, submissions: int
) -> None:
    """Wait until every submission is a lead and the receiver holds exactly the workspace's
    events, each at least once (distinct webhook ids = events). Both sides are read afresh each
    round, so an event emitted late (by a process finishing what a killed one left) is waited
    for rather than raced."""
    deadline = time.monotonic() + 40
    while True:
        processed, _, expected = await leads_and_events(services, workspace_id)
        received = set(receiver.ids())
        if processed == submissions and received == expected:
            return
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    strangers = [
        (r.payload.get("type"), r.payload.get("data", {}).get("workspace_id"))
        for r in receiver.received
        if r.message_id not in expected
    ]
    raise AssertionError(
        f"after 40 s: {processed}/{submissions} processed; "
        f"{len(expected - received)} of {len(expected)} events not received; "
        f"received beyond the outbox: {strangers[:10]}"
    )


async def test_serve_and_a_worker_share_one_database(
    platform: GraphQL, services: Services, processes: Processes
) -> None:
    """serve (with its dispatcher and jobs) beside a worker: both fan out and claim the same
    outbox. On SQLite the fan-out of one read events the other was numbering, and its insert
    of their deliveries failed with an IntegrityError."""
    tenant = await make_tenant(platform)
    workspace_id = ws_uuid(tenant.workspace_id)
    async with running_receiver() as receiver:
        endpoint = await create_endpoint(platform, receiver.url(), ws=tenant.workspace_id)
        receiver.secrets = [endpoint["secret"]]
        url = await processes.serve()
        processes.start("worker")
        processes.start("worker")
        ids = await post_submissions(url, tenant, 150)
        await wait_until_delivered(services, receiver, workspace_id, len(ids))

    processed, leads, _ = await leads_and_events(services, workspace_id)
    assert (processed, leads) == (len(ids), len(ids))
    output = processes.output()
    assert "IntegrityError" not in output, output
    assert "Traceback" not in output, output


async def post_while(urls: list[str], tenant: Tenant, stop: asyncio.Event) -> list[str]:
    """Visitors submitting to whichever app process answers until ``stop``; a submission is
    sent again (same id, as the widget does) until one process accepts it. Returns their ids."""
    accepted: list[str] = []
    async with httpx.AsyncClient(timeout=10) as client:

        async def visitor(n: int) -> None:
            sent = 0
            while not stop.is_set():
                submission_id = str(uuid.uuid4())
                body = submission(
                    submission_id=submission_id,
                    email=f"v{n}-{sent}@example.com",
                    phone=f"+7 912 {n:03d}-{sent // 100 % 100:02d}-{sent % 100:02d}",
                )
                body["form_token"] = page_view_token([SECRET], tenant)
                sent += 1
                deadline = time.monotonic() + 30
                attempt = 0
                while time.monotonic() < deadline:
                    attempt += 1
                    url = urls[(n + attempt) % len(urls)]
                    try:
                        answer = await client.post(
                            f"{url}/v1/sites/{tenant.site_key}/submissions",
                            json=body,
                            headers={"Origin": f"https://{tenant.domain}"},
                        )
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
                        continue
                    if answer.status_code in (200, 202):
                        accepted.append(submission_id)
                        break
                    assert answer.status_code == 503, answer.text
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError(f"submission {submission_id} was never accepted")

        await asyncio.gather(*(visitor(n) for n in range(6)))
    return accepted


async def test_processes_killed_and_restarted_under_load_lose_and_double_nothing(
    platform: GraphQL, services: Services, processes: Processes
) -> None:
    """Two app processes (one of them `serve --workers 2`) and a worker on PostgreSQL, with
    visitors submitting all along: the worker is SIGKILLed, one app SIGTERMed and the other
    SIGKILLed, each replaced. Every accepted submission becomes exactly one lead and every event
    reaches the receiver (at least once: distinct webhook ids = events)."""
    if services.db.dialect != "postgresql":
        pytest.skip("several app processes and workers share PostgreSQL; SQLite is one box")
    tenant = await make_tenant(platform)
    workspace_id = ws_uuid(tenant.workspace_id)
    # The app processes only accept; the workers make every lead, so a killed app process
    # leaves nothing half-done that only a 30-second rescue would find.
    processes.extra_env = {"EMBEDCRM_PROCESS_INLINE": "0", "EMBEDCRM_WEBHOOK_LEASE_SECONDS": "3"}
    async with running_receiver() as receiver:
        endpoint = await create_endpoint(platform, receiver.url(), ws=tenant.workspace_id)
        receiver.secrets = [endpoint["secret"]]
        worker = processes.start("worker")
        first, second = await asyncio.gather(processes.serve("--workers", "2"), processes.serve())
        urls = [first, second]
        stop = asyncio.Event()
        load = asyncio.create_task(post_while(urls, tenant, stop))

        try:
            await asyncio.sleep(1)
            worker.send_signal(signal.SIGKILL)
            processes.start("worker")
            # A rolling restart: the new app process is up before the old one is told to stop.
            urls.append(await processes.serve())
            processes.by_url[first].send_signal(signal.SIGTERM)
            # Waited for off the event loop: the visitors and the receiver, which the stopping
            # process is still delivering to, run on it.
            stopped = await asyncio.to_thread(processes.exit_code, processes.by_url[first], 40)
            assert stopped == 0, processes.output()
            processes.by_url[second].send_signal(signal.SIGKILL)
            replacement = asyncio.create_task(processes.serve())
            await asyncio.sleep(1)
            urls.append(await replacement)
            await asyncio.sleep(0.5)
            stop.set()
            accepted = await load
        finally:
            # A failure above must not leave the visitors running, their sockets open, past
            # the test.
            stop.set()
            load.cancel()
            await asyncio.gather(load, return_exceptions=True)
        assert len(accepted) > 50, "too little load to mean anything"
        await wait_until_delivered(services, receiver, workspace_id, len(accepted))

    async with services.db.transaction() as session:
        per_submission = (
            await session.execute(
                select(Submission.client_submission_id, Submission.lead_id).where(
                    Submission.workspace_id == workspace_id
                )
            )
        ).all()
    leads_of = {sid: lead for sid, lead in per_submission}
    assert set(leads_of) == set(accepted)
    assert all(leads_of[sid] is not None for sid in accepted)
    assert len(set(leads_of.values())) == len(accepted)  # one lead each, none shared
    processed, leads, _ = await leads_and_events(services, workspace_id)
    assert (processed, leads) == (len(accepted), len(accepted))  # and no lead besides
