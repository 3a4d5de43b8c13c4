"""New outbox events wake the dispatchers at once, on PostgreSQL: a trigger on ``outbox_events``
notifies ``CHANNEL`` when a transaction that added events commits (migration 0023), and each
dispatcher listens on a connection of its own.

The poll stays what the dispatcher relies on: a notification only brings its next look
forward. Without one (SQLite, PgBouncer in transaction mode, where a session lasts a
transaction, or the listening connection lost) new events wait for the poll, as before, and
the listener connects again after ``RECONNECT_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

import asyncpg

from embedcrm.db import Database

log = logging.getLogger("embedcrm.webhooks")

CHANNEL = "embedcrm_outbox"
RECONNECT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 5.0
# How often a quiet listening connection is checked.
CHECK_SECONDS = 30.0


def can_listen(db: Database) -> bool:
    """LISTEN needs a session of its own on the server: PostgreSQL reached directly."""
    return db.dialect == "postgresql" and not db.transaction_pooler


async def listen_for_events(
    db: Database,
    wake: Callable[[], None],
    stopping: asyncio.Event,
) -> None:
    """Call ``wake`` whenever events are committed, until ``stopping`` is set."""
    # The engine's own translation of its URL into asyncpg's arguments, less SQLAlchemy's.
    args, connect = db.engine.dialect.create_connect_args(db.engine.url)
    for sqlalchemy_only in SQLALCHEMY_CONNECT_ARGUMENTS:
        connect.pop(sqlalchemy_only, None)
    failures = 0
    while not stopping.is_set():
        # Whatever goes wrong here, the dispatcher goes on polling: a wake-up is never needed.
        try:
            await _listen_once(args, connect, wake, stopping)
            failures = 0
        except Exception as exc:
            failures += 1
            log.warning("webhook wake-ups: cannot listen (%s); new events wait for the poll", exc)
        # Again after a pause that doubles with each failure in a row, up to a minute.
        pause = min(RECONNECT_SECONDS * 2 ** max(failures - 1, 0), 60.0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), pause)


# Keys of the dialect's connect arguments that its own connect takes out before asyncpg's.
SQLALCHEMY_CONNECT_ARGUMENTS = (
    "async_creator_fn",
    "prepared_statement_cache_size",
    "prepared_statement_name_func",
)


async def _listen_once(
    args: Sequence[Any],
    connect: MutableMapping[str, Any],
    wake: Callable[[], None],
    stopping: asyncio.Event,
) -> None:
    """Listen on one connection until ``stopping`` is set or the connection is lost."""
    connection = await asyncpg.connect(*args, **{"timeout": CONNECT_TIMEOUT_SECONDS, **connect})
    lost = asyncio.Event()
    connection.add_termination_listener(lambda _connection: lost.set())
    try:
        await connection.add_listener(CHANNEL, lambda *_notification: wake())
        # What was committed while nobody listened.
        wake()
        while not await _first_of(stopping.wait(), lost.wait(), within=CHECK_SECONDS):
            # A server gone without closing the connection would leave it listening to nothing.
            await connection.fetchval("SELECT 1", timeout=CONNECT_TIMEOUT_SECONDS)
        if lost.is_set() and not stopping.is_set():
            log.warning("webhook wake-ups: the listening connection was lost; connecting again")
    finally:
        # A connection that only listens has nothing to finish: closed at once, even when the
        # dispatcher's task is being cancelled.
        connection.terminate()


async def _first_of(*waits: Any, within: float) -> bool:
    """Whether one of ``waits`` finished within ``within`` seconds."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        done, _ = await asyncio.wait(tasks, timeout=within, return_when=asyncio.FIRST_COMPLETED)
        return bool(done)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
