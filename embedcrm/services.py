"""The services of one running embedcrm, built once from its settings and shared by its routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.analytics.service import AnalyticsService
from embedcrm.auth import PanelTokens
from embedcrm.capture.service import CaptureService
from embedcrm.config import Settings
from embedcrm.contacts.merge import MergeService
from embedcrm.contacts.service import ContactService
from embedcrm.db import Database
from embedcrm.fields.segments import ListService, SegmentService
from embedcrm.fields.service import FieldService, TagService
from embedcrm.forms.service import FormService
from embedcrm.imports.service import ImportService
from embedcrm.leads.assignment import AssignmentService
from embedcrm.leads.service import LeadService
from embedcrm.pipelines.service import PipelineService, create_default_pipeline
from embedcrm.privacy.service import ErasureScope, PrivacyService
from embedcrm.static import StaticAsset, load_asset
from embedcrm.tasks.service import TaskService
from embedcrm.webhooks.dispatcher import Dispatcher, DispatcherConfig
from embedcrm.webhooks.repository import erase_delivery_logs
from embedcrm.webhooks.service import WebhookService
from embedcrm.webhooks.ssrf import create_webhook_client, parse_allowed_networks
from embedcrm.workspaces.service import WorkspaceService


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    panel_tokens: PanelTokens
    workspaces: WorkspaceService
    capture: CaptureService
    forms: FormService
    pipelines: PipelineService
    leads: LeadService
    contacts: ContactService
    merges: MergeService
    tasks: TaskService
    fields: FieldService
    tags: TagService
    lists: ListService
    segments: SegmentService
    imports: ImportService
    privacy: PrivacyService
    assignment: AssignmentService
    widget: StaticAsset
    widget_css: StaticAsset
    webhooks: WebhookService
    analytics: AnalyticsService
    # The one HTTP client for webhook deliveries, behind the SSRF guard; tests may inject theirs.
    webhook_client: httpx.AsyncClient

    @property
    def widget_integrity(self) -> str:
        return self.widget.integrity

    @classmethod
    def create(cls, settings: Settings, db: Database | None = None) -> Services:
        db = db or Database.from_settings(settings)
        panel_tokens = PanelTokens(
            settings.secret_keys, max_ttl_seconds=settings.panel_token_max_ttl_seconds
        )
        forms = FormService(db)
        lists = ListService(db)
        return cls(
            settings=settings,
            db=db,
            panel_tokens=panel_tokens,
            workspaces=WorkspaceService(db, panel_tokens, provisioners=[create_default_pipeline]),
            capture=CaptureService(db, settings, forms),
            forms=forms,
            pipelines=PipelineService(db),
            leads=LeadService(db),
            contacts=ContactService(db),
            merges=MergeService(db),
            tasks=TaskService(db),
            fields=FieldService(db),
            tags=TagService(db),
            lists=lists,
            segments=SegmentService(db, lists),
            imports=ImportService(db),
            privacy=PrivacyService(db, [_erase_webhook_logs]),
            assignment=AssignmentService(db),
            widget=load_asset("widget.js", "text/javascript; charset=utf-8"),
            widget_css=load_asset("widget.css", "text/css; charset=utf-8"),
            webhooks=WebhookService(db, settings),
            analytics=AnalyticsService(db),
            webhook_client=create_webhook_client(
                parse_allowed_networks(settings.webhook_allowed_networks),
                timeout=settings.webhook_timeout_seconds,
            ),
        )

    def dispatcher(self) -> Dispatcher:
        """A webhook dispatcher configured from the settings, sharing this process's client."""
        settings = self.settings
        return Dispatcher(
            self.db,
            self.webhook_client,
            config=DispatcherConfig(
                concurrency=settings.webhook_concurrency,
                endpoint_concurrency=settings.webhook_endpoint_concurrency,
                lease=timedelta(seconds=settings.webhook_lease_seconds),
                poll_interval=settings.webhook_poll_seconds,
                timeout=settings.webhook_timeout_seconds,
            ),
        )


async def _erase_webhook_logs(session: AsyncSession, scope: ErasureScope) -> None:
    # The CRM knows whose data it erased; the webhook logs are the webhooks' own. Joined here,
    # where both are known, because webhooks never import the CRM.
    await erase_delivery_logs(session, scope.workspace_id, scope.outbox_event_ids)
