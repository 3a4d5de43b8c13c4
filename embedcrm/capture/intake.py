"""The hot path's one write: raw submissions inserted by group commit.

Concurrent requests do not each open a transaction. They queue their row; one flusher inserts
everything queued so far in a single INSERT … ON CONFLICT DO NOTHING, commits, and answers them
all. If the database refuses that statement, the rows are written one by one, so one bad row
fails only its own request. At low load a row is flushed at once (no added delay); under load, rows that arrive during
one round trip share the next, so the database sees a few large statements instead of many
small ones.

On PostgreSQL the batch goes to the driver as one prepared statement whose parameters are one
array per column (``INSERT … SELECT FROM unnest(…)``): the same text whatever the batch's size,
so it is prepared once per connection, and no SQL is compiled per batch. Through the ORM, a
batch of 50 rows cost more CPU than the 50 requests spent everywhere else
(bench/accept_profile.py). Elsewhere (SQLite) the batch is one Core INSERT.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Hashable
from typing import Any

from embedcrm.capture.models import Submission
from embedcrm.db import Database, insert_ignoring_conflicts, is_database_unavailable

log = logging.getLogger(__name__)

IdempotencyKey = tuple[Hashable, Hashable, str]  # (workspace_id, site_id, client_submission_id)

# Every column of ``submissions`` a new row sets, in the order of the statement's arrays.
COLUMNS = (
    "workspace_id",
    "id",
    "site_id",
    "client_submission_id",
    "body_hash",
    "payload",
    "status",
    "failure_reason",
    "attempts",
    "lead_id",
    "contact_id",
    "origin",
    "remote_ip",
    "created_at",
    "processed_at",
)
# One array per column, of the column's type; the same text for any number of rows.
INSERT_UNNEST = """
INSERT INTO submissions (workspace_id, id, site_id, client_submission_id, body_hash, payload,
  status, failure_reason, attempts, lead_id, contact_id, origin, remote_ip, created_at,
  processed_at)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::varchar[], $5::varchar[],
  $6::jsonb[], $7::varchar[], $8::text[], $9::integer[], $10::uuid[], $11::uuid[],
  $12::varchar[], $13::varchar[], $14::timestamptz[], $15::timestamptz[])
ON CONFLICT (workspace_id, site_id, client_submission_id) DO NOTHING
RETURNING workspace_id, site_id, client_submission_id
"""


# A row waiting for the next batch: the row, its payload as JSON text (or None), its answer.
Pending = tuple[dict[str, Any], str | None, asyncio.Future[bool]]


class SubmissionIntake:
    def __init__(self, db: Database, *, max_batch: int = 500) -> None:
        self.db = db
        self.max_batch = max_batch
        self._pending: list[Pending] = []
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        # The batch is one statement, atomic on its own: on a connection kept in autocommit it
        # skips the checkout's ping, BEGIN and COMMIT (three of its four round trips). Its own
        # connection, as the one flusher sends a batch at a time; None where none may be kept.
        self._statements = db.statement_connection()

    async def store(self, row: dict[str, Any], *, payload_json: str | None = None) -> bool:
        """Insert one raw submission; False when its idempotency key is already stored.

        ``payload_json``, the row's payload already serialised, spares PostgreSQL's batch
        serialising it again."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((row, payload_json, future))
        self._wake.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_forever(), name="submission-intake")
        # The row is committed or refused as a whole batch; a cancelled request does not
        # cancel the batch its row is in.
        return await asyncio.shield(future)

    async def _flush_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                await self._flush(batch)

    async def _flush(self, batch: list[Pending]) -> None:
        try:
            inserted = await self._insert(batch)
        except Exception as exc:
            if len(batch) == 1 or is_database_unavailable(exc):
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                return
            # One row the database refuses must not fail the strangers batched with it: write
            # each row on its own, so only that row's request sees the error. The parameters
            # are never logged; they are other people's data.
            log.warning(
                "a batch of %d submissions failed (%s); writing them one by one",
                len(batch),
                type(exc).__name__,
            )
            for one in batch:
                await self._flush([one])
            return
        for row, _, future in batch:
            if not future.done():
                future.set_result(_key(row) in inserted)

    async def _insert(self, batch: list[Pending]) -> set[IdempotencyKey]:
        table = Submission.__table__
        # Two rows with one key in the same batch: the first wins, like two transactions would.
        unique: dict[IdempotencyKey, Pending] = {}
        for pending in batch:
            unique.setdefault(_key(pending[0]), pending)
        if self.db.dialect == "postgresql":
            return await self._insert_unnest(list(unique.values()))
        statement = insert_ignoring_conflicts(
            self.db,
            table,
            ["workspace_id", "site_id", "client_submission_id"],
        ).returning(table.c.workspace_id, table.c.site_id, table.c.client_submission_id)
        async with self.db.transaction() as session:
            result = await session.execute(statement, [row for row, _, _ in unique.values()])
            return {(r[0], r[1], r[2]) for r in result}

    async def _insert_unnest(self, batch: list[Pending]) -> set[IdempotencyKey]:
        columns: list[list[Any]] = [[row[name] for row, _, _ in batch] for name in COLUMNS]
        # jsonb travels as its text (the dialect's codec): PostgreSQL keeps its own form of it,
        # whatever the order of keys and spaces of the text.
        columns[5] = [
            text if text is not None else json.dumps(row["payload"]) for row, text, _ in batch
        ]
        columns[6] = [str(status) for status in columns[6]]
        if self._statements is not None:
            rows = await self._statements.execute(INSERT_UNNEST, tuple(columns))
            return {(ws, site, client) for ws, site, client in map(tuple, rows)}
        # Through the session's connection: errors are wrapped as the ORM's are (parameters
        # hidden, a lost connection invalidated and reported as unavailable).
        async with self.db.transaction() as session:
            connection = await session.connection()
            result = await connection.exec_driver_sql(INSERT_UNNEST, tuple(columns))
            return {(ws, site, client) for ws, site, client in map(tuple, result)}

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        if self._statements is not None:
            await self._statements.close()  # closing twice (here and in dispose) is harmless


def _key(row: dict[str, Any]) -> IdempotencyKey:
    return (row["workspace_id"], row["site_id"], row["client_submission_id"])
