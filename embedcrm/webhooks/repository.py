"""SQL for webhook endpoints, deliveries and attempts.

Workspace endpoints, deliveries and attempts go through repositories bound to a workspace.
Two things are above the tenant boundary by nature and have their own classes, like
``WorkspaceDirectory``: the host's platform-wide endpoints (``PlatformWebhooks``), whose logs span
every workspace, and the dispatcher's work queue (``DeliveryQueue``), which claims due deliveries
of all workspaces at once.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    bindparam,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import SQLCoreOperations

from embedcrm.db import StatementConnection, hold_sqlite_write_lock, new_id
from embedcrm.errors import BadRequest, NotFound
from embedcrm.ids import parse_global_id
from embedcrm.kit.repository import Page, Window, WorkspaceRepository, earliest, keyset_page
from embedcrm.webhooks.jobs import Job, Outcome
from embedcrm.webhooks.models import (
    UNFINISHED,
    DeliveryStatus,
    OutboxEvent,
    PlatformWebhookEndpoint,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

T = TypeVar("T", WebhookDelivery, WebhookAttempt)


def in_state(
    status: SQLCoreOperations[DeliveryStatus], *states: DeliveryStatus
) -> ColumnElement[bool]:
    """``status`` is one of ``states``, written into the SQL as literals: the indexes over one
    state are partial, and only a plan that sees the state itself can use them."""
    values = [literal(state.value, literal_execute=True) for state in states]
    return status == values[0] if len(values) == 1 else status.in_(values)


class DueDelivery(NamedTuple):
    """What a claim needs of a due delivery."""

    workspace_id: uuid.UUID
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    endpoint_key: uuid.UUID
    endpoint_id: uuid.UUID | None
    platform_endpoint_id: uuid.UUID | None
    attempt_count: int


class LeasedDelivery(NamedTuple):
    delivery: DueDelivery
    payload: dict[str, Any]


def _keys_in(deliveries: Sequence[DueDelivery]) -> ColumnElement[bool]:
    return tuple_(WebhookDelivery.workspace_id, WebhookDelivery.id).in_(
        [(d.workspace_id, d.id) for d in deliveries]
    )


class UnpositionedEvent(NamedTuple):
    """What the fan-out needs of an outbox event; the payload stays in the database."""

    workspace_id: uuid.UUID
    id: uuid.UUID
    type: str
    lead_id: uuid.UUID | None
    sequence: int | None


# Any 64-bit number private to this purpose: one fan-out at a time across all processes.
_FAN_OUT_LOCK = 0x656D6265645F6F75  # "embed_ou"

REPLAYABLE = (DeliveryStatus.FAILED, DeliveryStatus.SKIPPED_ENDPOINT_DISABLED)


async def count(session: AsyncSession, stmt: Select[Any]) -> int:
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return int(total or 0)


def encode_position(position: int) -> str:
    return base64.urlsafe_b64encode(f"p|{position}".encode()).decode()


def decode_position(cursor: str, field: str = "after") -> int:
    try:
        kind, value = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        if kind != "p":
            raise ValueError(kind)
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The cursor is not valid.", field=field) from exc


async def events_page(
    session: AsyncSession,
    stmt: Select[OutboxEvent],
    *,
    window: Window,
) -> Page[OutboxEvent]:
    """Events in feed order (their position), by keyset either way; only positioned ones."""
    return await keyset_page(
        session,
        stmt.where(OutboxEvent.position.is_not(None)),
        (OutboxEvent.position,),
        descending=False,
        window=window,
        decode=lambda cursor, field: (decode_position(cursor, field),),
        encode=lambda row: encode_position(row.position or 0),
    )


async def count_events(session: AsyncSession, stmt: Select[OutboxEvent]) -> int:
    counted = stmt.where(OutboxEvent.position.is_not(None)).order_by(None).subquery()
    return int(await session.scalar(select(func.count()).select_from(counted)) or 0)


class WebhookEndpointRepository(WorkspaceRepository[WebhookEndpoint]):
    model = WebhookEndpoint

    async def get_for_update(self, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
        result = await self.session.scalars(
            self.select().where(WebhookEndpoint.id == endpoint_id).with_for_update()
        )
        return result.first()


class WebhookDeliveryRepository(WorkspaceRepository[WebhookDelivery]):
    model = WebhookDelivery

    def of_endpoint(self, endpoint_key: uuid.UUID) -> Select[WebhookDelivery]:
        return self.select().where(WebhookDelivery.endpoint_key == endpoint_key)

    async def get_for_update(self, delivery_id: uuid.UUID) -> WebhookDelivery | None:
        result = await self.session.scalars(
            self.select().where(WebhookDelivery.id == delivery_id).with_for_update()
        )
        return result.first()


class WebhookAttemptRepository(WorkspaceRepository[WebhookAttempt]):
    model = WebhookAttempt

    def of_endpoint(self, endpoint_key: uuid.UUID) -> Select[WebhookAttempt]:
        return self.select().where(WebhookAttempt.endpoint_key == endpoint_key)


class WorkspaceEvents(WorkspaceRepository[OutboxEvent]):
    """The pull feed of one workspace."""

    model = OutboxEvent

    async def feed(
        self,
        *,
        window: Window,
    ) -> Page[OutboxEvent]:
        return await events_page(self.session, self.select(), window=window)

    async def count_feed(self) -> int:
        """Every event of the feed (those with a position), on all pages."""
        return await count_events(self.session, self.select())


class PlatformWebhooks:
    """Platform-wide endpoints and their logs: above the tenant boundary, for the platform key."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def endpoints(self) -> Select[PlatformWebhookEndpoint]:
        return select(PlatformWebhookEndpoint)

    async def get(
        self, endpoint_id: uuid.UUID, *, lock: bool = False
    ) -> PlatformWebhookEndpoint | None:
        stmt = select(PlatformWebhookEndpoint).where(PlatformWebhookEndpoint.id == endpoint_id)
        if lock:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).first()

    def add(self, endpoint: PlatformWebhookEndpoint) -> PlatformWebhookEndpoint:
        self.session.add(endpoint)
        return endpoint

    def deliveries(self, endpoint_id: uuid.UUID) -> Select[WebhookDelivery]:
        # Deliveries of every workspace to this endpoint: the host's own log. By endpoint_key,
        # which repeats the platform endpoint's id and is indexed.
        return select(WebhookDelivery).where(WebhookDelivery.endpoint_key == endpoint_id)

    def attempts(self, endpoint_id: uuid.UUID) -> Select[WebhookAttempt]:
        return select(WebhookAttempt).where(WebhookAttempt.endpoint_key == endpoint_id)

    async def feed(
        self,
        *,
        window: Window,
    ) -> Page[OutboxEvent]:
        return await events_page(self.session, select(OutboxEvent), window=window)

    async def count_feed(self) -> int:
        return await count_events(self.session, select(OutboxEvent))


async def replay_deliveries(
    session: AsyncSession,
    scope: Select[WebhookDelivery],
    *,
    since: datetime,
    now: datetime,
) -> int:
    """Make the failed and skipped deliveries of ``scope`` since ``since`` pending again.

    The attempt count restarts, so a replay gets the whole retry schedule; the webhook-id stays
    the event's own.
    """
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            *([] if scope.whereclause is None else [scope.whereclause]),
            in_state(WebhookDelivery.status, *REPLAYABLE),
            WebhookDelivery.created_at >= since,
        )
        .values(
            status=DeliveryStatus.PENDING,
            attempt_count=0,
            next_attempt_at=now,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def skip_pending_of(session: AsyncSession, endpoint_key: uuid.UUID, *, now: datetime) -> int:
    """Park the waiting deliveries of a disabled endpoint; a replay brings them back."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_key == endpoint_key,
            in_state(WebhookDelivery.status, DeliveryStatus.PENDING),
        )
        .values(status=DeliveryStatus.SKIPPED_ENDPOINT_DISABLED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def any_unpositioned(statements: StatementConnection) -> bool:
    """Whether an outbox event waits for the fan-out: one read of a partial index."""
    return bool(
        await statements.execute("SELECT 1 FROM outbox_events WHERE position IS NULL LIMIT 1", ())
    )


ENABLED_AMONG = """
SELECT id FROM webhook_endpoints WHERE id = ANY($1::uuid[]) AND enabled
UNION ALL
SELECT id FROM platform_webhook_endpoints WHERE id = ANY($1::uuid[]) AND enabled
"""


async def disabled_endpoints_at_once(
    statements: StatementConnection, keys: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """``DeliveryQueue.disabled_endpoints`` as one statement, for PostgreSQL."""
    wanted = set(keys)
    enabled = {row[0] for row in await statements.execute(ENABLED_AMONG, (list(wanted),))}
    return wanted - enabled


# Successes in one statement, whatever their number (``record_successes_at_once``): the
# attempts inserted and the deliveries done, each only while its lease is still ``$10``'s.
RECORD_SUCCESSES = """
WITH attempt AS (
  INSERT INTO webhook_attempts (workspace_id, id, delivery_id, endpoint_key, attempt_number,
    succeeded, status_code, duration_ms, response_excerpt, error, worker, created_at)
  SELECT workspace_id, id, delivery_id, endpoint_key, attempt_number, true, status_code,
    duration_ms, response_excerpt, NULL, $10, created_at
  FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::integer[], $6::integer[],
    $7::integer[], $8::text[], $9::timestamptz[])
    AS a(workspace_id, id, delivery_id, endpoint_key, attempt_number, status_code, duration_ms,
      response_excerpt, created_at)
)
UPDATE webhook_deliveries AS d
SET status = 'DELIVERED', delivered_at = done.at, attempt_count = done.attempt_number,
  last_attempt_at = done.at, last_status_code = done.status_code, last_error = NULL,
  lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = NULL, updated_at = $11
FROM unnest($1::uuid[], $3::uuid[], $9::timestamptz[], $5::integer[], $6::integer[])
  AS done(workspace_id, id, at, attempt_number, status_code)
WHERE d.workspace_id = done.workspace_id AND d.id = done.id
  AND d.status = 'IN_FLIGHT' AND d.lease_owner = $10
"""


async def record_successes_at_once(
    statements: StatementConnection,
    batch: Sequence[tuple[Job, Outcome]],
    *,
    owner: str,
    now: datetime,
) -> None:
    """``DeliveryQueue.record_successes`` for endpoints that were not failing, on PostgreSQL:
    one prepared statement with one array per column, sent without a transaction around it."""
    await statements.execute(
        RECORD_SUCCESSES,
        (
            [job.workspace_id for job, _ in batch],
            [new_id() for _ in batch],
            [job.delivery_id for job, _ in batch],
            [job.endpoint_key for job, _ in batch],
            [job.attempt_number for job, _ in batch],
            [outcome.status_code for _, outcome in batch],
            [outcome.duration_ms for _, outcome in batch],
            [outcome.excerpt for _, outcome in batch],
            [outcome.attempted_at for _, outcome in batch],
            owner,
            now,
        ),
    )


# Named once at import: an anonymous alias made per call would give every claim statement a new
# cache key, and SQLAlchemy would compile it afresh each time (most of a claim's CPU).
_EARLIER = aliased(WebhookDelivery, name="earlier_delivery")


def _in_turn() -> ColumnElement[bool]:
    """Not held back: no earlier event of the same lead is unfinished for the same endpoint."""
    earlier = _EARLIER
    held_back = exists().where(
        earlier.workspace_id == WebhookDelivery.workspace_id,
        earlier.lead_id == WebhookDelivery.lead_id,
        earlier.endpoint_key == WebhookDelivery.endpoint_key,
        earlier.sequence < WebhookDelivery.sequence,
        in_state(earlier.status, *UNFINISHED),
    )
    return or_(WebhookDelivery.lead_id.is_(None), ~held_back)


class DeliveryQueue:
    """The dispatcher's queries, across workspaces: fan-out, claims and lease recovery.

    PostgreSQL lets any number of dispatchers share the queue (``FOR UPDATE SKIP LOCKED``, an
    advisory lock for the fan-out); on SQLite these clauses are left out and one dispatcher runs.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    async def try_lock_fan_out(self) -> bool:
        if not self.postgres:
            # One writer at a time: the fan-out then reads what the last one committed.
            await hold_sqlite_write_lock(self.session, OutboxEvent)
            return True
        locked = await self.session.scalar(select(func.pg_try_advisory_xact_lock(_FAN_OUT_LOCK)))
        return bool(locked)

    async def unpositioned_events(self, limit: int) -> list[UnpositionedEvent]:
        stmt = (
            select(
                OutboxEvent.workspace_id,
                OutboxEvent.id,
                OutboxEvent.type,
                OutboxEvent.lead_id,
                OutboxEvent.sequence,
            )
            .where(OutboxEvent.position.is_(None))
            # A lead's events of one transaction share a time; its sequence keeps their order.
            .order_by(OutboxEvent.created_at, OutboxEvent.sequence, OutboxEvent.id)
            .limit(limit)
        )
        return [UnpositionedEvent(*row) for row in await self.session.execute(stmt)]

    async def tested_endpoints(
        self, events: Sequence[tuple[uuid.UUID, uuid.UUID]]
    ) -> dict[tuple[uuid.UUID, uuid.UUID], str | None]:
        """For `webhook.test` events: the one endpoint each was sent to."""
        if not events:
            return {}
        rows = await self.session.execute(
            select(OutboxEvent.workspace_id, OutboxEvent.id, OutboxEvent.payload).where(
                OutboxEvent.id.in_([event_id for _, event_id in events])
            )
        )
        return {
            (workspace_id, event_id): _endpoint_key(payload.get("data", {}).get("endpoint_id"))
            for workspace_id, event_id, payload in rows
        }

    async def position_events(self, events: Sequence[UnpositionedEvent], *, first: int) -> None:
        """Number ``events`` in order from ``first``: one executemany UPDATE."""
        table = cast(Table, OutboxEvent.__table__)
        await self.session.execute(
            update(table)
            .where(
                table.c.workspace_id == bindparam("b_workspace"), table.c.id == bindparam("b_id")
            )
            .values(position=bindparam("b_position")),
            [
                {"b_workspace": e.workspace_id, "b_id": e.id, "b_position": first + n}
                for n, e in enumerate(events)
            ],
        )

    async def insert_deliveries(self, deliveries: Sequence[dict[str, Any]]) -> None:
        if deliveries:
            await self.session.execute(
                insert(cast(Table, WebhookDelivery.__table__)), list(deliveries)
            )

    async def oldest_waiting_since(self, now: datetime) -> datetime | None:
        """When the longest wait began: the oldest event not fanned out yet, or the due time of
        the pending delivery most overdue. Two index reads (both partial indexes stay small)."""
        unpositioned = await self.session.scalar(
            select(func.min(OutboxEvent.created_at)).where(OutboxEvent.position.is_(None))
        )
        overdue = await self.session.scalar(
            select(func.min(WebhookDelivery.next_attempt_at)).where(
                in_state(WebhookDelivery.status, DeliveryStatus.PENDING),
                WebhookDelivery.next_attempt_at <= now,
            )
        )
        found = [
            moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            for moment in (unpositioned, overdue)
            if moment is not None
        ]
        return min(found) if found else None

    async def last_position(self) -> int:
        return int(await self.session.scalar(select(func.max(OutboxEvent.position))) or 0)

    async def workspace_endpoints(
        self, workspace_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, list[WebhookEndpoint]]:
        found: dict[uuid.UUID, list[WebhookEndpoint]] = {}
        rows = await self.session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.workspace_id.in_(list(workspace_ids)))
        )
        for row in rows:
            found.setdefault(row.workspace_id, []).append(row)
        return found

    async def platform_endpoints(self) -> list[PlatformWebhookEndpoint]:
        return list(await self.session.scalars(select(PlatformWebhookEndpoint)))

    async def expired_leases(self, now: datetime, limit: int) -> list[WebhookDelivery]:
        stmt = (
            select(WebhookDelivery)
            .where(
                in_state(WebhookDelivery.status, DeliveryStatus.IN_FLIGHT),
                WebhookDelivery.lease_expires_at <= now,
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(await self.session.scalars(stmt))

    async def in_flight_counts(self) -> dict[uuid.UUID, int]:
        stmt = (
            select(WebhookDelivery.endpoint_key, func.count())
            .where(in_state(WebhookDelivery.status, DeliveryStatus.IN_FLIGHT))
            .group_by(WebhookDelivery.endpoint_key)
        )
        return {row[0]: int(row[1]) for row in await self.session.execute(stmt)}

    async def lease_due(
        self,
        now: datetime,
        limit: int,
        *,
        owner: str,
        until: datetime,
        exclude: Iterable[uuid.UUID] = (),
    ) -> list[LeasedDelivery]:
        """Lease up to ``limit`` due pending deliveries to ``owner`` in one statement, returning
        them with their event's payload; rows another dispatcher has locked are skipped.

        A delivery about a lead waits while an earlier event of that lead is unfinished for the
        same endpoint, so each endpoint receives a lead's events in sequence order.
        """
        due = select(WebhookDelivery.workspace_id, WebhookDelivery.id).where(
            in_state(WebhookDelivery.status, DeliveryStatus.PENDING),
            WebhookDelivery.next_attempt_at <= now,
            _in_turn(),
        )
        excluded = list(exclude)
        if excluded:
            due = due.where(WebhookDelivery.endpoint_key.not_in(excluded))
        due = (
            due.order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=WebhookDelivery)
            # Its own scan of the table, not the row being updated.
            .correlate(None)
        )
        payload = (
            select(OutboxEvent.payload)
            .where(
                OutboxEvent.workspace_id == WebhookDelivery.workspace_id,
                OutboxEvent.id == WebhookDelivery.event_id,
            )
            .scalar_subquery()
        )
        stmt = (
            update(WebhookDelivery)
            .where(tuple_(WebhookDelivery.workspace_id, WebhookDelivery.id).in_(due))
            .values(
                status=DeliveryStatus.IN_FLIGHT,
                lease_owner=owner,
                lease_expires_at=until,
                updated_at=now,
            )
            .returning(*(getattr(WebhookDelivery, name) for name in DueDelivery._fields), payload)
            .execution_options(synchronize_session=False)
        )
        rows = await self.session.execute(stmt)
        return [LeasedDelivery(DueDelivery(*row[:-1]), row[-1]) for row in rows]

    async def endpoints_by_key(
        self, deliveries: Sequence[DueDelivery]
    ) -> dict[uuid.UUID, WebhookEndpoint | PlatformWebhookEndpoint]:
        found: dict[uuid.UUID, WebhookEndpoint | PlatformWebhookEndpoint] = {}
        workspace_pairs = {
            (d.workspace_id, d.endpoint_id) for d in deliveries if d.endpoint_id is not None
        }
        platform_ids = {d.platform_endpoint_id for d in deliveries if d.platform_endpoint_id}
        if workspace_pairs:
            rows = await self.session.scalars(
                select(WebhookEndpoint).where(
                    tuple_(WebhookEndpoint.workspace_id, WebhookEndpoint.id).in_(workspace_pairs)
                )
            )
            for row in rows:
                found[row.id] = row
        if platform_ids:
            platform_rows = await self.session.scalars(
                select(PlatformWebhookEndpoint).where(PlatformWebhookEndpoint.id.in_(platform_ids))
            )
            for platform_row in platform_rows:
                found[platform_row.id] = platform_row
        return found

    async def set_status(
        self, deliveries: Sequence[DueDelivery], status: DeliveryStatus, *, now: datetime
    ) -> None:
        if deliveries:
            await self.session.execute(
                update(WebhookDelivery)
                .where(_keys_in(deliveries))
                .values(status=status, updated_at=now)
                .execution_options(synchronize_session=False)
            )

    async def record_successes(
        self,
        attempts: Sequence[dict[str, Any]],
        *,
        owner: str,
        now: datetime,
        recovered: Iterable[uuid.UUID] = (),
    ) -> None:
        """Many successes in one transaction: the attempts in one INSERT, the deliveries in one
        executemany UPDATE (each only if this dispatcher still holds it), and the failing run of
        each ``recovered`` endpoint ended."""
        await self.session.execute(insert(WebhookAttempt), list(attempts))
        # The Core table, not the ORM class: a list of parameters is then a plain executemany.
        deliveries = cast(Table, WebhookDelivery.__table__)
        await self.session.execute(
            update(deliveries)
            .where(
                deliveries.c.workspace_id == bindparam("b_workspace"),
                deliveries.c.id == bindparam("b_delivery"),
                deliveries.c.status == DeliveryStatus.IN_FLIGHT,
                deliveries.c.lease_owner == owner,
            )
            .values(
                status=DeliveryStatus.DELIVERED,
                delivered_at=bindparam("b_at"),
                attempt_count=bindparam("b_attempt"),
                last_attempt_at=bindparam("b_at"),
                last_status_code=bindparam("b_status"),
                last_error=None,
                lease_owner=None,
                lease_expires_at=None,
                next_attempt_at=None,
                updated_at=now,
            ),
            [
                {
                    "b_workspace": a["workspace_id"],
                    "b_delivery": a["delivery_id"],
                    "b_at": a["created_at"],
                    "b_attempt": a["attempt_number"],
                    "b_status": a["status_code"],
                }
                for a in attempts
            ],
        )
        keys = sorted(set(recovered))
        if not keys:
            return
        for model in (WebhookEndpoint, PlatformWebhookEndpoint):
            await self.session.execute(
                update(model)
                .where(model.id.in_(keys), model.failing_since.is_not(None))
                .values(failing_since=None)
                .execution_options(synchronize_session=False)
            )

    async def disabled_endpoints(self, keys: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Those of ``keys`` whose endpoint is disabled or no longer exists."""
        wanted = set(keys)
        enabled: set[uuid.UUID] = set()
        for model in (WebhookEndpoint, PlatformWebhookEndpoint):
            enabled.update(
                await self.session.scalars(
                    select(model.id).where(model.id.in_(wanted), model.enabled.is_(True))
                )
            )
        return wanted - enabled

    async def park_leases(
        self, owner: str, endpoint_keys: Iterable[uuid.UUID], *, now: datetime
    ) -> int:
        """Park the deliveries ``owner`` holds for these disabled endpoints, as the disable
        parked the pending ones; a replay brings them back."""
        result = await self.session.execute(
            update(WebhookDelivery)
            .where(
                in_state(WebhookDelivery.status, DeliveryStatus.IN_FLIGHT),
                WebhookDelivery.lease_owner == owner,
                WebhookDelivery.endpoint_key.in_(list(endpoint_keys)),
            )
            .values(
                status=DeliveryStatus.SKIPPED_ENDPOINT_DISABLED,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def unlease(self, keys: Sequence[tuple[uuid.UUID, uuid.UUID]], *, now: datetime) -> None:
        """Give back deliveries just leased, (workspace_id, id) pairs, still due as they were."""
        if keys:
            await self.session.execute(
                update(WebhookDelivery)
                .where(tuple_(WebhookDelivery.workspace_id, WebhookDelivery.id).in_(list(keys)))
                .values(
                    status=DeliveryStatus.PENDING,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )

    async def own_leases(self, owner: str) -> list[WebhookDelivery]:
        stmt = select(WebhookDelivery).where(
            in_state(WebhookDelivery.status, DeliveryStatus.IN_FLIGHT),
            WebhookDelivery.lease_owner == owner,
        )
        return list(await self.session.scalars(stmt.with_for_update()))

    async def renew_leases(self, owner: str, *, until: datetime) -> int:
        result = await self.session.execute(
            update(WebhookDelivery)
            .where(
                in_state(WebhookDelivery.status, DeliveryStatus.IN_FLIGHT),
                WebhookDelivery.lease_owner == owner,
            )
            .values(lease_expires_at=until)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def next_due_at(self) -> datetime | None:
        due = await self.session.scalar(
            select(func.min(WebhookDelivery.next_attempt_at)).where(
                in_state(WebhookDelivery.status, DeliveryStatus.PENDING), _in_turn()
            )
        )
        lease = await self.session.scalar(
            select(func.min(WebhookDelivery.lease_expires_at)).where(
                in_state(WebhookDelivery.status, DeliveryStatus.IN_FLIGHT)
            )
        )
        return earliest(due, lease)


async def erase_delivery_logs(
    session: AsyncSession, workspace_id: uuid.UUID, event_ids: Sequence[uuid.UUID]
) -> int:
    """Blank what receivers answered about these events: an answer may echo the payload, and
    the person whose data it was asked for it to be erased. Returns the attempts touched."""
    if not event_ids:
        return 0
    deliveries = select(WebhookDelivery.id).where(
        WebhookDelivery.workspace_id == workspace_id, WebhookDelivery.event_id.in_(event_ids)
    )
    result = await session.execute(
        update(WebhookAttempt)
        .where(
            WebhookAttempt.workspace_id == workspace_id, WebhookAttempt.delivery_id.in_(deliveries)
        )
        .values(response_excerpt=None, error=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.workspace_id == workspace_id, WebhookDelivery.event_id.in_(event_ids)
        )
        .values(last_error=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _endpoint_key(value: Any) -> str | None:
    """The endpoint a test event names, as the dashed UUID deliveries key on: events name it by
    global id, ones recorded before that by the UUID itself."""
    if not isinstance(value, str):
        return None
    try:
        return str(parse_global_id(value, expected="WebhookEndpoint").row_id)
    except NotFound:
        return value
