"""Turning stored submissions into leads after the visitor has had the answer."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from asgi_correlation_id import correlation_id

log = logging.getLogger(__name__)

# (workspace_id, submission id, the id of the request that stored it)
Job = tuple[uuid.UUID, uuid.UUID, str | None]


class SubmissionProcessor:
    """A bounded in-process queue with a few consumers.

    Nothing depends on it for durability: a submission is committed before it is queued, and
    one that never gets processed here (queue full, process stopped) stays RECEIVED, where the
    worker's periodic scan finds it.
    """

    def __init__(
        self,
        process: Callable[[uuid.UUID, uuid.UUID], Awaitable[None]],
        *,
        consumers: int = 4,
        max_queued: int = 10_000,
    ) -> None:
        self._process = process
        self._consumers = consumers
        self._queue: asyncio.Queue[Job] = asyncio.Queue(maxsize=max_queued)
        self._tasks: list[asyncio.Task[None]] = []

    def enqueue(self, workspace_id: uuid.UUID, submission_id: uuid.UUID) -> bool:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._consume(), name=f"submission-processor-{i}")
                for i in range(self._consumers)
            ]
        try:
            self._queue.put_nowait((workspace_id, submission_id, correlation_id.get()))
        except asyncio.QueueFull:
            log.warning("processing queue full; submission %s left for the worker", submission_id)
            return False
        return True

    async def idle(self) -> None:
        """Wait until every queued submission has been processed."""
        await self._queue.join()

    async def _consume(self) -> None:
        while True:
            workspace_id, submission_id, request_id = await self._queue.get()
            # The consumer was started inside some earlier request: its log lines name the
            # request of the submission at hand instead.
            correlation_id.set(request_id)
            try:
                await self._process(workspace_id, submission_id)
            except Exception:
                log.exception("processing submission %s failed", submission_id)
            finally:
                self._queue.task_done()

    async def close(self, *, grace_seconds: float = 10.0) -> None:
        """Finish what is queued (up to the grace period), then stop."""
        if self._tasks:
            try:
                await asyncio.wait_for(self._queue.join(), grace_seconds)
            except TimeoutError:
                log.warning(
                    "stopping with %d submissions queued; the worker will finish them",
                    self._queue.qsize(),
                )
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
