"""Webhook endpoints, their delivery logs, replays and the pull feed of events.

Who may do what: the platform key everything; a panel OWNER the endpoints and log of its own
workspace; nobody else. Platform-wide endpoints (``workspace_id`` None) are the platform's alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import PanelUser, Principal
from embedcrm.config import Settings
from embedcrm.db import Database, utcnow
from embedcrm.errors import Conflict, Forbidden, NotFound, ValidationFailed
from embedcrm.events import ALL_EVENT_TYPES, Event
from embedcrm.kit.repository import Page, Window, newest_first
from embedcrm.kit.sealed import SecretBox
from embedcrm.webhooks.models import (
    PLATFORM_WORKSPACE_ID,
    DeliveryStatus,
    Endpoint,
    OutboxEvent,
    PlatformWebhookEndpoint,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from embedcrm.webhooks.outbox import OutboxRepository, endpoint_global_id, endpoint_scope
from embedcrm.webhooks.repository import (
    DeliveryQueue,
    PlatformWebhooks,
    WebhookAttemptRepository,
    WebhookDeliveryRepository,
    WebhookEndpointRepository,
    WorkspaceEvents,
    count,
    replay_deliveries,
    skip_pending_of,
)
from embedcrm.webhooks.secrets import EndpointSecrets
from embedcrm.webhooks.ssrf import (
    Resolver,
    UnsafeWebhookTarget,
    parse_allowed_networks,
    validate_webhook_url,
)
from embedcrm.workspaces.models import Role, Workspace

DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)
MAX_ROTATION_OVERLAP = timedelta(days=7)
MAX_ENDPOINTS_PER_SCOPE = 20


@dataclass(frozen=True)
class EndpointRef:
    """An endpoint: of a workspace, or platform-wide when ``workspace_id`` is None."""

    workspace_id: uuid.UUID | None
    endpoint_id: uuid.UUID


@dataclass(frozen=True)
class TestSent:
    endpoint: Endpoint
    message_id: str


def _can_manage(principal: Principal, workspace_id: uuid.UUID | None) -> None:
    if not isinstance(principal, PanelUser):
        return
    if workspace_id is None or workspace_id != principal.workspace_id:
        # Another workspace's endpoint looks exactly like one that does not exist.
        raise NotFound("No such webhook endpoint.", field="id")
    if principal.role != Role.OWNER:
        raise Forbidden("Only an OWNER manages webhooks.")


class WebhookService:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        resolver: Resolver | None = None,
        box: SecretBox | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.resolver = resolver
        self.allowed_networks = parse_allowed_networks(settings.webhook_allowed_networks)
        # Secrets are stored sealed with the settings' keys; see webhooks/secrets.py.
        self.secrets = EndpointSecrets(box or SecretBox(settings.secret_keys))

    async def outbox_lag_seconds(self) -> float:
        """How far the dispatchers are behind: the age of the oldest event not fanned out yet,
        or how long the most overdue delivery has waited past its time; 0 when nothing waits.
        Deliveries waiting out a retry's backoff are not behind."""
        now = self.clock()
        async with self.db.transaction() as session:
            since = await DeliveryQueue(session).oldest_waiting_since(now)
        return 0.0 if since is None else max(0.0, (now - since).total_seconds())

    # ---- endpoints -------------------------------------------------------------------------

    async def _check_url(self, url: str) -> str:
        url = url.strip()
        try:
            await validate_webhook_url(url, self.allowed_networks, resolver=self.resolver)
        except UnsafeWebhookTarget as exc:
            raise ValidationFailed(
                f"This URL cannot receive webhooks: {exc}.", field="url"
            ) from exc
        return url

    @staticmethod
    def _check_types(event_types: Sequence[str]) -> list[str]:
        cleaned = list(dict.fromkeys(t.strip() for t in event_types))
        unknown = [t for t in cleaned if t not in ALL_EVENT_TYPES]
        if unknown:
            raise ValidationFailed(
                f"Unknown event types: {', '.join(unknown)}.", field="eventTypes"
            )
        return cleaned

    async def create_endpoint(
        self,
        principal: Principal,
        *,
        url: str,
        event_types: Sequence[str],
        workspace_id: uuid.UUID | None,
    ) -> Endpoint:
        if isinstance(principal, PanelUser) and workspace_id is None:
            # A panel token speaks for its own workspace only.
            workspace_id = principal.workspace_id
        _can_manage(principal, workspace_id)
        url = await self._check_url(url)
        types = self._check_types(event_types)
        now = self.clock()
        sealed = self.secrets.new_sealed()
        async with self.db.transaction() as session:
            if workspace_id is None:
                platform = PlatformWebhooks(session)
                if await count(session, platform.endpoints()) >= MAX_ENDPOINTS_PER_SCOPE:
                    raise ValidationFailed("Too many platform-wide endpoints.", field="url")
                return platform.add(
                    PlatformWebhookEndpoint(
                        url=url,
                        secret=sealed,
                        event_types=types,
                        enabled=True,
                        created_at=now,
                        updated_at=now,
                    )
                )
            if (
                workspace_id == PLATFORM_WORKSPACE_ID
                or await session.get(Workspace, workspace_id) is None
            ):
                raise NotFound("No such workspace.", field="workspaceId")
            endpoints = WebhookEndpointRepository(session, workspace_id)
            if await endpoints.count(endpoints.select()) >= MAX_ENDPOINTS_PER_SCOPE:
                raise ValidationFailed("Too many endpoints in this workspace.", field="url")
            return endpoints.add(
                WebhookEndpoint(
                    url=url,
                    secret=sealed,
                    event_types=types,
                    enabled=True,
                    created_at=now,
                    updated_at=now,
                )
            )

    async def _load(
        self, session: AsyncSession, ref: EndpointRef, *, lock: bool = False
    ) -> Endpoint:
        endpoint: Endpoint | None
        if ref.workspace_id is None:
            endpoint = await PlatformWebhooks(session).get(ref.endpoint_id, lock=lock)
        else:
            repo = WebhookEndpointRepository(session, ref.workspace_id)
            endpoint = await (
                repo.get_for_update(ref.endpoint_id) if lock else repo.get(ref.endpoint_id)
            )
        if endpoint is None:
            raise NotFound("No such webhook endpoint.", field="id")
        return endpoint

    async def get_endpoint(self, principal: Principal, ref: EndpointRef) -> Endpoint:
        _can_manage(principal, ref.workspace_id)
        async with self.db.transaction() as session:
            return await self._load(session, ref)

    async def update_endpoint(
        self,
        principal: Principal,
        ref: EndpointRef,
        *,
        url: str | None = None,
        event_types: Sequence[str] | None = None,
    ) -> Endpoint:
        _can_manage(principal, ref.workspace_id)
        checked_url = None if url is None else await self._check_url(url)
        types = None if event_types is None else self._check_types(event_types)
        async with self.db.transaction() as session:
            endpoint = await self._load(session, ref, lock=True)
            if checked_url is not None:
                endpoint.url = checked_url
            if types is not None:
                endpoint.event_types = types
            endpoint.updated_at = self.clock()
            return endpoint

    async def rotate_secret(
        self, principal: Principal, ref: EndpointRef, *, overlap: timedelta | None = None
    ) -> Endpoint:
        """A new secret; the old one keeps signing beside it until the overlap ends."""
        _can_manage(principal, ref.workspace_id)
        overlap = DEFAULT_ROTATION_OVERLAP if overlap is None else overlap
        if not timedelta(0) <= overlap <= MAX_ROTATION_OVERLAP:
            raise ValidationFailed("The overlap is between 0 and 7 days.", field="overlapSeconds")
        async with self.db.transaction() as session:
            endpoint = await self._load(session, ref, lock=True)
            now = self.clock()
            # Both stay sealed: the previous one moves over as stored, never opened here.
            endpoint.previous_secret = endpoint.secret if overlap else None
            endpoint.previous_secret_expires_at = now + overlap if overlap else None
            endpoint.secret = self.secrets.new_sealed()
            endpoint.updated_at = now
            return endpoint

    async def set_enabled(
        self, principal: Principal, ref: EndpointRef, *, enabled: bool
    ) -> Endpoint:
        """Enable (the failure clock restarts) or disable (waiting deliveries are parked)."""
        _can_manage(principal, ref.workspace_id)
        async with self.db.transaction() as session:
            now = self.clock()
            if not enabled:
                await skip_pending_of(session, ref.endpoint_id, now=now)
            endpoint = await self._load(session, ref, lock=True)
            endpoint.enabled = enabled
            endpoint.failing_since = None
            endpoint.disabled_reason = None if enabled else "disabled on request"
            endpoint.disabled_at = None if enabled else now
            endpoint.updated_at = now
            return endpoint

    async def send_test(self, principal: Principal, ref: EndpointRef) -> TestSent:
        """Queue a ``webhook.test`` event for this one endpoint."""
        _can_manage(principal, ref.workspace_id)
        async with self.db.transaction() as session:
            endpoint = await self._load(session, ref)
            event = OutboxRepository(session, ref.workspace_id or PLATFORM_WORKSPACE_ID).record(
                Event(
                    type="webhook.test",
                    occurred_at=self.clock(),
                    data={
                        **await endpoint_scope(session, ref.workspace_id),
                        "endpoint_id": endpoint_global_id(ref.workspace_id, endpoint.id),
                    },
                )
            )
            await session.flush()
            return TestSent(endpoint=endpoint, message_id=event.message_id)

    async def list_endpoints(
        self, principal: Principal, workspace_id: uuid.UUID | None
    ) -> list[Endpoint]:
        """A workspace's endpoints, or with None the platform-wide ones (platform key only)."""
        if isinstance(principal, PanelUser) and workspace_id is None:
            workspace_id = principal.workspace_id
        _can_manage(principal, workspace_id)
        async with self.db.transaction() as session:
            if workspace_id is None:
                stmt = (
                    PlatformWebhooks(session)
                    .endpoints()
                    .order_by(PlatformWebhookEndpoint.created_at, PlatformWebhookEndpoint.id)
                )
                return list(await session.scalars(stmt))
            repo = WebhookEndpointRepository(session, workspace_id)
            return list(
                await session.scalars(
                    repo.select().order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
                )
            )

    # ---- the delivery log ------------------------------------------------------------------

    def _deliveries(self, session: AsyncSession, ref: EndpointRef) -> Select[WebhookDelivery]:
        if ref.workspace_id is None:
            return PlatformWebhooks(session).deliveries(ref.endpoint_id)
        return WebhookDeliveryRepository(session, ref.workspace_id).of_endpoint(ref.endpoint_id)

    async def deliveries_page(
        self,
        principal: Principal,
        ref: EndpointRef,
        *,
        window: Window,
        status: DeliveryStatus | None = None,
    ) -> Page[WebhookDelivery]:
        _can_manage(principal, ref.workspace_id)
        async with self.db.transaction() as session:
            stmt = self._deliveries(session, ref)
            if status is not None:
                stmt = stmt.where(WebhookDelivery.status == status)
            return await newest_first(session, WebhookDelivery, stmt, window=window)

    async def count_deliveries(
        self, principal: Principal, ref: EndpointRef, status: DeliveryStatus | None = None
    ) -> int:
        _can_manage(principal, ref.workspace_id)
        async with self.db.transaction() as session:
            stmt = self._deliveries(session, ref)
            if status is not None:
                stmt = stmt.where(WebhookDelivery.status == status)
            return await count(session, stmt)

    async def attempts_page(
        self,
        principal: Principal,
        ref: EndpointRef,
        *,
        window: Window,
    ) -> Page[WebhookAttempt]:
        _can_manage(principal, ref.workspace_id)
        async with self.db.transaction() as session:
            if ref.workspace_id is None:
                stmt = PlatformWebhooks(session).attempts(ref.endpoint_id)
            else:
                stmt = WebhookAttemptRepository(session, ref.workspace_id).of_endpoint(
                    ref.endpoint_id
                )
            return await newest_first(session, WebhookAttempt, stmt, window=window)

    async def delivery(
        self, principal: Principal, workspace_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> WebhookDelivery | None:
        """One delivery, for whoever manages its endpoint (a platform endpoint's: the host)."""
        async with self.db.transaction() as session:
            row = await WebhookDeliveryRepository(session, workspace_id).get(delivery_id)
        if row is not None:
            _can_manage(principal, None if row.endpoint_id is None else workspace_id)
        return row

    async def attempt(
        self, principal: Principal, workspace_id: uuid.UUID, attempt_id: uuid.UUID
    ) -> WebhookAttempt | None:
        async with self.db.transaction() as session:
            row = await WebhookAttemptRepository(session, workspace_id).get(attempt_id)
        if row is None or await self.delivery(principal, workspace_id, row.delivery_id) is None:
            return None
        return row

    async def count_attempts(self, principal: Principal, ref: EndpointRef) -> int:
        _can_manage(principal, ref.workspace_id)
        async with self.db.transaction() as session:
            if ref.workspace_id is None:
                stmt = PlatformWebhooks(session).attempts(ref.endpoint_id)
            else:
                stmt = WebhookAttemptRepository(session, ref.workspace_id).of_endpoint(
                    ref.endpoint_id
                )
            return await count(session, stmt)

    async def resend(
        self, principal: Principal, workspace_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> WebhookDelivery:
        """Send one delivery again, with its original webhook-id and a fresh retry schedule."""
        if isinstance(principal, PanelUser):
            _can_manage(principal, workspace_id)
        async with self.db.transaction() as session:
            delivery = await WebhookDeliveryRepository(session, workspace_id).get_for_update(
                delivery_id
            )
            if delivery is None or (
                isinstance(principal, PanelUser) and delivery.endpoint_id is None
            ):
                # A tenant never sees deliveries to the host's platform-wide endpoints.
                raise NotFound("No such delivery.", field="id")
            ref = EndpointRef(
                None if delivery.endpoint_id is None else workspace_id, delivery.endpoint_key
            )
            endpoint = await self._load(session, ref)
            if not endpoint.enabled:
                raise Conflict("Enable the endpoint before resending to it.", field="id")
            if delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT):
                raise Conflict("This delivery is already on its way.", field="id")
            now = self.clock()
            delivery.status = DeliveryStatus.PENDING
            delivery.attempt_count = 0
            delivery.next_attempt_at = now
            delivery.updated_at = now
            return delivery

    async def replay_failed(
        self, principal: Principal, ref: EndpointRef, *, since: datetime
    ) -> int:
        """Send again every failed or skipped delivery of the endpoint created since ``since``."""
        _can_manage(principal, ref.workspace_id)
        if since.tzinfo is None:
            raise ValidationFailed("since needs a time zone.", field="since")
        async with self.db.transaction() as session:
            endpoint = await self._load(session, ref)
            if not endpoint.enabled:
                raise Conflict("Enable the endpoint before replaying to it.", field="endpointId")
            return await replay_deliveries(
                session, self._deliveries(session, ref), since=since, now=self.clock()
            )

    # ---- the pull feed ---------------------------------------------------------------------

    async def events_page(
        self,
        principal: Principal,
        workspace_id: uuid.UUID | None,
        *,
        window: Window,
    ) -> Page[OutboxEvent]:
        """Events in commit-safe order; the platform sees every workspace's unless it names one."""
        if isinstance(principal, PanelUser):
            workspace_id = workspace_id or principal.workspace_id
            _can_manage(principal, workspace_id)
        async with self.db.transaction() as session:
            if workspace_id is None:
                return await PlatformWebhooks(session).feed(window=window)
            return await WorkspaceEvents(session, workspace_id).feed(window=window)

    async def event(
        self, principal: Principal, workspace_id: uuid.UUID, event_id: uuid.UUID
    ) -> OutboxEvent | None:
        """One event of the feed by id (the ``event_id`` operational events name)."""
        _can_manage(principal, workspace_id)
        async with self.db.transaction() as session:
            return await WorkspaceEvents(session, workspace_id).get(event_id)

    async def count_events(self, principal: Principal, workspace_id: uuid.UUID | None) -> int:
        """How many events the feed holds in all, for ``events.totalCount``."""
        if isinstance(principal, PanelUser):
            workspace_id = workspace_id or principal.workspace_id
            _can_manage(principal, workspace_id)
        async with self.db.transaction() as session:
            if workspace_id is None:
                return await PlatformWebhooks(session).count_feed()
            return await WorkspaceEvents(session, workspace_id).count_feed()
