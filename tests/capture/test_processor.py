"""The in-process queue from accepted submissions to leads: when its consumers fall behind, a
request waits for room, so answering slows to the pace leads are made at instead of a backlog
growing; one that waits too long is left for the worker."""

import asyncio
import uuid
from collections.abc import Sequence

from embedcrm.capture.processor import SubmissionProcessor


async def test_a_full_queue_makes_the_next_request_wait_for_room_then_leaves_it_to_the_worker() -> (
    None
):
    made: list[uuid.UUID] = []
    gate = asyncio.Event()

    async def process(workspace_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> None:
        await gate.wait()
        made.extend(ids)

    processor = SubmissionProcessor(process, consumers=1, batch=2, wait_for_room=0.3)
    ws = uuid.uuid4()
    ids = [uuid.uuid4() for _ in range(8)]
    # The one consumer takes the first batch and blocks on it; then the queue's room (two rounds
    # of batches: 4) fills without anyone waiting.
    assert await processor.hand_over(ws, ids[0])
    await asyncio.sleep(0)
    for submission_id in ids[1:5]:
        assert await asyncio.wait_for(processor.hand_over(ws, submission_id), 0.05)
    # The next waits for room, and gets it when the consumer moves on.
    waiting = asyncio.create_task(processor.hand_over(ws, ids[5]))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    gate.set()
    assert await waiting
    await processor.idle()
    assert made == ids[:6]
    # With the consumer stuck again, a request waits no longer than wait_for_room, and the
    # submission (committed already) is left for the worker's scan.
    gate.clear()
    for submission_id in ids[6:8]:
        await processor.hand_over(ws, submission_id)
    await asyncio.sleep(0)
    for _ in range(4):
        processor.enqueue(ws, uuid.uuid4())
    started = asyncio.get_running_loop().time()
    assert not await processor.hand_over(ws, uuid.uuid4())
    assert 0.25 < asyncio.get_running_loop().time() - started < 2
    # enqueue never waits: with no room it says so at once.
    assert not processor.enqueue(ws, uuid.uuid4())
    gate.set()
    await processor.close(grace_seconds=2)
