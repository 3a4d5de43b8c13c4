"""The owner's panel on the server side: which components a token may use, the GraphQL root
fields each component needs, and the live stream of a workspace's committed events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.extensions import SchemaExtension

from embedcrm.auth import PanelUser, Principal
from embedcrm.db import Database, bound_to_workspace
from embedcrm.errors import Forbidden
from embedcrm.kit.repository import Viewer, Window, WorkspaceRepository
from embedcrm.leads.models import Lead
from embedcrm.leads.ownership import taken_by
from embedcrm.webhooks.models import OutboxEvent
from embedcrm.webhooks.repository import WorkspaceEvents, decode_position, encode_position
from embedcrm.workspaces.access import viewer_of
from embedcrm.workspaces.models import Role

logger = logging.getLogger(__name__)

# Root fields every component reads: the workspace, its pipelines, tags and fields.
_COMMON = {
    "ping",
    "node",
    "workspace",
    "pipelines",
    "sites",
    "members",
    "panelScript",
    "tags",
    "customFields",
    "segments",
    "__typename",
    "__schema",
    "__type",
}
_LEAD_CARD = {
    "moveLead",
    "updateLead",
    "setLeadItems",
    "assignLead",
    "updateContact",
    # Every phone and e-mail of the contact, edited on the card.
    "addContactPoint",
    "updateContactPoint",
    "removeContactPoint",
    "addActivity",
    "tagRecords",
    "createTask",
    "updateTask",
    "deleteTask",
    "mergeProposals",
    "contactMerges",
    "acceptMergeProposal",
    "dismissMergeProposal",
    "undoContactMerge",
    "setLeadExpectedClose",
    # Picking a product for a cart line, and invoicing the cart.
    "products",
    "invoices",
    "createInvoice",
    "updateInvoice",
    "issueInvoice",
    "cancelInvoice",
    "recordPayment",
    "clientBalance",
    # The contact's messages and feedback answers in the card's timeline.
    "messages",
    "feedbackAnswers",
}
_SEGMENTS = {"createSegment", "updateSegment", "deleteSegment"}

# What each component may call beyond the common reads. The inbox, board and contacts open lead
# cards, so they include the card's mutations; the role is checked by each service on top.
FIELDS_BY_COMPONENT: dict[str, frozenset[str]] = {
    "lead": frozenset(_LEAD_CARD),
    "inbox": frozenset(
        {"leads", "leadsCsv", "bulkMoveLeads", "bulkAssignLeads", *_SEGMENTS, *_LEAD_CARD}
    ),
    "board": frozenset({"leads", "boardTotals", "bulkMoveLeads", *_LEAD_CARD}),
    "tasks": frozenset({"tasks", "createTask", "updateTask", "deleteTask"}),
    "contacts": frozenset(
        {
            "contacts",
            "contactsCsv",
            "personalData",
            "erasePerson",
            "mergeContacts",
            *_SEGMENTS,
            *_LEAD_CARD,
        }
    ),
    "reports": frozenset(
        {
            "analytics",
            "adSpend",
            "recordAdSpend",
            "importAdSpend",
            "deleteAdSpend",
            "salesByProduct",
            "invoices",
            "invoicesCsv",
            "receivables",
            "receivablesCsv",
            "revenue",
            "accruedCommission",
            "accruedCommissionCsv",
            "commissionRules",
            "workload",
            "feedbackReport",
        }
    ),
    "settings": frozenset(
        {
            "createPipeline",
            "updatePipeline",
            "deletePipeline",
            "createStage",
            "updateStage",
            "reorderStages",
            "deleteStage",
            "createCustomField",
            "updateCustomField",
            "deleteCustomField",
            "deleteTag",
            "assignmentRules",
            "setAssignmentRules",
            "siteForms",
            "saveSiteForm",
            "deleteSiteForm",
            "updateCrmSettings",
            "updateWorkspace",
            "changeMemberRole",
            "revokePanelSessions",
            "products",
            "productsCsv",
            "createProduct",
            "updateProduct",
            "importProducts",
            "requisites",
            "setRequisites",
            "paymentProviders",
            "setPaymentProvider",
            "oneCExchange",
            "setOneCExchange",
            "commissionRules",
            "setCommissionRules",
            "messageTemplates",
            "messageVariables",
            "holidays",
            "createMessageTemplate",
            "updateMessageTemplate",
            "deleteMessageTemplate",
            "previewMessage",
            # Finding whom a template is previewed for.
            "contacts",
            # Every member's own alerts; the service keeps others' to the owner.
            "alertSettings",
            "updateAlertSettings",
        }
    ),
}


def allowed_fields(components: Iterable[str]) -> frozenset[str]:
    fields = set(_COMMON)
    for name in components:
        fields |= FIELDS_BY_COMPONENT[name]
    return frozenset(fields)


def root_fields(document: DocumentNode, operation_name: str | None) -> set[str]:
    """The names of the root fields the chosen operation selects, through fragments too."""
    fragments = {
        node.name.value: node
        for node in document.definitions
        if isinstance(node, FragmentDefinitionNode)
    }
    operations = [
        node for node in document.definitions if isinstance(node, OperationDefinitionNode)
    ]
    if operation_name is not None:
        operations = [op for op in operations if op.name and op.name.value == operation_name]
    names: set[str] = set()

    def walk(selection_set: SelectionSetNode, seen: set[str]) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in seen:
                    walk(fragments[name].selection_set, seen | {name})

    for operation in operations:
        walk(operation.selection_set, set())
    return names


def check_components(principal: Any, document: DocumentNode, operation_name: str | None) -> None:
    """Refuse an operation whose root fields lie outside the token's components."""
    if not isinstance(principal, PanelUser) or principal.components is None:
        return
    outside = sorted(root_fields(document, operation_name) - allowed_fields(principal.components))
    if outside:
        raise Forbidden(
            f"This panel token does not cover {', '.join(outside)} "
            f"(its components: {', '.join(principal.components)})."
        )


class PanelComponents(SchemaExtension):
    """Runs the components check after validation, before anything resolves.

    Setting the result here makes strawberry skip execution, so a refused operation has no
    effect at all rather than a partial one.
    """

    def on_execute(self) -> Any:
        from graphql import ExecutionResult, GraphQLError

        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            try:
                check_components(context.context.principal, document, context.operation_name)
            except Forbidden as exc:
                context.result = ExecutionResult(
                    data=None,
                    errors=[GraphQLError(exc.message, extensions={"code": exc.code})],
                )
        yield


# How often the feed looks for new events, and how often a stream says it is alive when idle.
STREAM_POLL_SECONDS = 1.0
STREAM_HEARTBEAT_SECONDS = 15.0
# Events a stream may fall behind by before it reads what it missed from the database itself.
STREAM_BACKLOG = 200


class FeedEvent(NamedTuple):
    """What a stream sends of an event: its type and ids only (the panel reloads the rest)."""

    workspace_id: uuid.UUID
    position: int
    type: str
    lead_id: uuid.UUID | None
    created_at: datetime


_FEED_COLUMNS = (
    OutboxEvent.workspace_id,
    OutboxEvent.position,
    OutboxEvent.type,
    OutboxEvent.lead_id,
    OutboxEvent.created_at,
)


@dataclass(eq=False)
class Subscriber:
    workspace_id: uuid.UUID
    queue: asyncio.Queue[list[FeedEvent]]
    # Set when the queue overflowed: the stream reads the gap from the database.
    lagged: bool = False


class PanelFeed:
    """One poller per process for every open panel stream.

    Each interval it reads the events positioned since the last read, of every workspace, in
    one statement, and hands each stream its workspace's. Positions are global and given in
    commit order (the fan-out), so "after the last position read" misses nothing. It runs only
    while a stream is open.
    """

    def __init__(self, db: Database, *, poll_seconds: float = STREAM_POLL_SECONDS) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self.position: int | None = None
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None

    async def subscribe(self, workspace_id: uuid.UUID) -> tuple[Subscriber, int]:
        """A new subscriber, and the position its stream is live from."""
        if self.position is None:
            async with self.db.transaction() as session:
                self.position = int(
                    await session.scalar(select(func.max(OutboxEvent.position))) or 0
                )
        subscriber = Subscriber(workspace_id, asyncio.Queue(maxsize=STREAM_BACKLOG))
        self._subscribers.add(subscriber)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        return subscriber, self.position

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while self._subscribers:
            try:
                await self.poll()
            except Exception:
                logger.warning("panel feed read failed", exc_info=True)
            await asyncio.sleep(self.poll_seconds)

    async def poll(self) -> None:
        """Read what was positioned since the last read and give it to the subscribers."""
        while True:
            async with self.db.transaction() as session:
                rows = [
                    FeedEvent(workspace, position or 0, kind, lead, at)
                    for workspace, position, kind, lead, at in await session.execute(
                        select(*_FEED_COLUMNS)
                        .where(OutboxEvent.position > (self.position or 0))
                        .order_by(OutboxEvent.position)
                        .limit(500)
                    )
                ]
            if not rows:
                return
            self.position = rows[-1].position
            by_workspace: dict[uuid.UUID, list[FeedEvent]] = {}
            for row in rows:
                by_workspace.setdefault(row.workspace_id, []).append(row)
            for subscriber in list(self._subscribers):
                found = by_workspace.get(subscriber.workspace_id)
                if not found:
                    continue
                try:
                    subscriber.queue.put_nowait(found)
                except asyncio.QueueFull:
                    subscriber.lagged = True
            if len(rows) < 500:
                return


async def _readable_leads(
    session: AsyncSession, principal: PanelUser, rows: Sequence[FeedEvent | OutboxEvent]
) -> set[uuid.UUID | None] | None:
    """The leads of ``rows`` whose events the member may see, or None for all of them: a
    MANAGER hears of the leads they see, and not of another manager's leads or tasks."""
    viewer = await viewer_of(session, principal, principal.workspace_id)
    member_id = viewer.sees_only_own
    if member_id is None:
        return None
    wanted = {row.lead_id for row in rows if row.lead_id is not None}
    if not wanted:
        return set()
    readable = await session.scalars(
        select(Lead.id).where(
            Lead.workspace_id == principal.workspace_id, Lead.id.in_(wanted), taken_by(member_id)
        )
    )
    return set(readable)


async def _visible(
    db: Database, principal: PanelUser, rows: Sequence[FeedEvent]
) -> list[FeedEvent]:
    # Only a MANAGER's stream reads anything: an owner sees every event of the workspace.
    if principal.role is not Role.MANAGER:
        return list(rows)
    async with db.transaction() as session:
        shown = await _readable_leads(session, principal, rows)
    return [row for row in rows if shown is None or row.lead_id in shown]


async def _missed(db: Database, principal: PanelUser, after: int) -> list[FeedEvent]:
    """The workspace's events positioned after ``after``, read from the database (a reconnect
    with a cursor, or a stream that fell behind)."""
    found: list[FeedEvent] = []
    cursor = encode_position(after)
    while True:
        async with db.transaction() as session:
            page = await WorkspaceEvents(session, principal.workspace_id).feed(
                window=Window(first=100, after=cursor)
            )
        found += [
            FeedEvent(r.workspace_id, r.position or 0, r.type, r.lead_id, r.created_at)
            for r in page.rows
        ]
        if not page.has_next or not page.rows:
            return found
        cursor = encode_position(page.rows[-1].position or 0)


def _message(row: FeedEvent) -> bytes:
    cursor = encode_position(row.position)
    data = {
        "type": row.type,
        "leadId": str(row.lead_id) if row.lead_id else None,
        "occurredAt": row.created_at.isoformat(),
    }
    return f"id: {cursor}\nevent: {row.type}\ndata: {json.dumps(data)}\n\n".encode()


async def event_stream(
    feed: PanelFeed,
    db: Database,
    principal: PanelUser,
    *,
    after: str | None,
    expires_at: float,
) -> AsyncIterator[bytes]:
    """The member's stream, its transactions bound to its workspace where row-level security
    binds the app's role (set here: the generator runs in the task that sends the response)."""
    with bound_to_workspace(principal.workspace_id):
        async for message in _workspace_stream(
            feed, db, principal, after=after, expires_at=expires_at
        ):
            yield message


async def _workspace_stream(
    feed: PanelFeed,
    db: Database,
    principal: PanelUser,
    *,
    after: str | None,
    expires_at: float,
) -> AsyncIterator[bytes]:
    """Server-sent events: one message per committed event of the workspace, in feed order.

    Each message carries the event's type and ids only; the panel reloads what it shows. The
    stream ends when the token expires, so the panel reconnects with a fresh one; the event id
    is the feed cursor, so a reconnect passing it as ``after`` misses nothing. Live events come
    from the process's one PanelFeed; only a reconnect's gap is read by the stream itself.
    """
    start = decode_position(after) if after is not None else None
    subscriber, live_from = await feed.subscribe(principal.workspace_id)
    try:
        yield b"retry: 2000\n: connected\n\n"
        position = live_from if start is None else start
        pending = await _missed(db, principal, position) if position < live_from else []
        idle_since = time.monotonic()
        while time.time() < expires_at:
            if subscriber.lagged:
                subscriber.lagged = False
                while not subscriber.queue.empty():
                    subscriber.queue.get_nowait()
                pending = await _missed(db, principal, position)
            if not pending:
                wait = min(
                    STREAM_HEARTBEAT_SECONDS - (time.monotonic() - idle_since),
                    expires_at - time.time(),
                )
                try:
                    pending = await asyncio.wait_for(subscriber.queue.get(), max(0.0, wait))
                except TimeoutError:
                    if time.monotonic() - idle_since >= STREAM_HEARTBEAT_SECONDS:
                        yield b": alive\n\n"
                        idle_since = time.monotonic()
                    continue
            fresh = [row for row in pending if row.position > position]
            pending = []
            if not fresh:
                continue
            position = fresh[-1].position
            for row in await _visible(db, principal, fresh):
                yield _message(row)
            idle_since = time.monotonic()
    finally:
        feed.unsubscribe(subscriber)


@dataclass(frozen=True)
class StageTotal:
    stage_id: uuid.UUID
    count: int
    # (currency or None, sum of values) for the leads of the stage that have a value.
    sums: list[tuple[str | None, Decimal]]


class BoardTotals(WorkspaceRepository[Lead]):
    model = Lead

    def own_rows(self, stmt: Select[Lead], member_id: uuid.UUID) -> Select[Lead]:
        return stmt.where(taken_by(member_id))

    async def by_stage(self, viewer: Viewer, pipeline_id: uuid.UUID) -> list[StageTotal]:
        leads = self.readable(viewer).subquery()
        rows = await self.session.execute(
            select(leads.c.stage_id, leads.c.currency, func.count(), func.sum(leads.c.value))
            .where(leads.c.pipeline_id == pipeline_id)
            .group_by(leads.c.stage_id, leads.c.currency)
        )
        totals: dict[uuid.UUID, tuple[int, list[tuple[str | None, Decimal]]]] = {}
        for stage_id, currency, count, amount in rows:
            known, sums = totals.get(stage_id, (0, []))
            if amount is not None:
                sums.append((currency, Decimal(amount)))
            totals[stage_id] = (known + int(count), sums)
        return [StageTotal(stage_id, count, sums) for stage_id, (count, sums) in totals.items()]


async def board_totals(
    db: Database, principal: Principal, workspace_id: uuid.UUID, pipeline_id: uuid.UUID
) -> list[StageTotal]:
    """How many leads stand at each stage of a pipeline, and what their values add up to:
    of the leads the caller sees."""
    async with db.transaction() as session:
        viewer = await viewer_of(session, principal, workspace_id, field="pipelineId")
        return await BoardTotals(session, workspace_id).by_stage(viewer, pipeline_id)
