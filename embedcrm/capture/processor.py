"""Turning stored submissions into leads after the visitor has had the answer."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence

from asgi_correlation_id import correlation_id

log = logging.getLogger(__name__)

# (workspace_id, submission id, the id of the request that stored it)
Job = tuple[uuid.UUID, uuid.UUID, str | None]


def batches_of(
    pending: Iterable[tuple[uuid.UUID, uuid.UUID]], size: int
) -> list[tuple[uuid.UUID, list[uuid.UUID]]]:
    """(workspace_id, up to ``size`` submission ids of it), in the order first seen."""
    by_workspace: dict[uuid.UUID, list[uuid.UUID]] = {}
    for workspace_id, submission_id in pending:
        by_workspace.setdefault(workspace_id, []).append(submission_id)
    return [
        (workspace_id, ids[start : start + size])
        for workspace_id, ids in by_workspace.items()
        for start in range(0, len(ids), size)
    ]


class SubmissionProcessor:
    """A bounded in-process queue with a few consumers, each taking what has queued up (up to
    ``batch`` submissions of one workspace) at once: under load leads are made in batches,
    one transaction each; when idle each submission goes alone, without waiting.

    Nothing depends on it for durability: a submission is committed before it is queued, and
    one that never gets processed here (queue full, process stopped) stays RECEIVED, where the
    worker's periodic scan finds it.

    The queue holds two rounds of batches. Making a lead costs several times what accepting a
    submission does, so under a sustained load the process would otherwise answer far more
    submissions than it makes leads, and the backlog would grow for as long as the load lasts:
    ``hand_over`` makes a request wait for room (up to ``wait_for_room`` seconds), so that
    answering slows to the pace at which leads are made.
    """

    def __init__(
        self,
        process: Callable[[uuid.UUID, Sequence[uuid.UUID]], Awaitable[None]],
        *,
        consumers: int = 2,
        batch: int = 50,
        max_queued: int | None = None,
        wait_for_room: float = 1.0,
    ) -> None:
        self._process = process
        self._batch = batch
        self._consumers = consumers
        self._wait_for_room = wait_for_room
        self._queue: asyncio.Queue[Job] = asyncio.Queue(
            maxsize=max_queued if max_queued is not None else 2 * batch * consumers
        )
        self._tasks: list[asyncio.Task[None]] = []

    def enqueue(self, workspace_id: uuid.UUID, submission_id: uuid.UUID) -> bool:
        """Queue a submission if there is room, without waiting (also inside a transaction)."""
        try:
            self._queue.put_nowait(self._job(workspace_id, submission_id))
        except asyncio.QueueFull:
            log.warning("processing queue full; submission %s left for the worker", submission_id)
            return False
        return True

    async def hand_over(self, workspace_id: uuid.UUID, submission_id: uuid.UUID) -> bool:
        """Queue a submission, waiting for room when the consumers are behind; after
        ``wait_for_room`` it is left for the worker instead. Call it holding no connection."""
        job = self._job(workspace_id, submission_id)
        try:
            self._queue.put_nowait(job)
            return True
        except asyncio.QueueFull:
            pass
        try:
            await asyncio.wait_for(self._queue.put(job), self._wait_for_room)
        except TimeoutError:
            log.warning("processing is behind; submission %s left for the worker", submission_id)
            return False
        return True

    def _job(self, workspace_id: uuid.UUID, submission_id: uuid.UUID) -> Job:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._consume(), name=f"submission-processor-{i}")
                for i in range(self._consumers)
            ]
        return (workspace_id, submission_id, correlation_id.get())

    async def idle(self) -> None:
        """Wait until every queued submission has been processed."""
        await self._queue.join()

    async def _consume(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            while len(jobs) < self._batch and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            try:
                for workspace_id, batch in batches_of(
                    ((job[0], job[1]) for job in jobs), self._batch
                ):
                    # The consumer was started inside some earlier request: its log lines name
                    # the request of the (first) submission at hand instead.
                    correlation_id.set(next(job[2] for job in jobs if job[1] == batch[0]))
                    try:
                        await self._process(workspace_id, batch)
                    except Exception:
                        log.exception("processing %d submissions failed", len(batch))
            finally:
                for _ in jobs:
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
