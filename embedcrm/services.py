"""The services of one running embedcrm, built once from its settings and shared by its routes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.alerts.service import AlertService
from embedcrm.analytics.service import AnalyticsService
from embedcrm.auth import PanelTokens, Principal
from embedcrm.capture.models import Submission
from embedcrm.capture.repository import SubmissionRepository
from embedcrm.capture.service import CaptureService, submissions_of_person
from embedcrm.catalog.service import CatalogService
from embedcrm.commission.service import CommissionService
from embedcrm.config import Settings
from embedcrm.contacts.merge import MergeService
from embedcrm.contacts.models import Contact
from embedcrm.contacts.service import ContactPointService, ContactService, contacts_by_id
from embedcrm.db import Database
from embedcrm.exchange.service import OneCService
from embedcrm.feedback.links import FeedbackLinks
from embedcrm.feedback.service import PERSONAL_ANSWERS, FeedbackService
from embedcrm.fields.filters import ContactSpec
from embedcrm.fields.segments import ListService, SegmentService
from embedcrm.fields.service import FieldService, TagService
from embedcrm.forms.service import FormService
from embedcrm.imports.service import ImportService
from embedcrm.invoices.providers import ProviderService
from embedcrm.invoices.repository import InvoiceRepository
from embedcrm.invoices.service import InvoiceService
from embedcrm.kit.models import plain_row
from embedcrm.kit.repository import Page, Window
from embedcrm.kit.sealed import SecretBox
from embedcrm.leads.assignment import AssignmentService
from embedcrm.leads.service import LeadService
from embedcrm.messages.outbound import email_dispatcher
from embedcrm.messages.service import PERSONAL_MESSAGES, MessageService
from embedcrm.messages.smtp import EmailJob, SmtpServer, smtp_server_of
from embedcrm.messages.triggers import SegmentContacts, TemplateService
from embedcrm.messages.unsubscribe import UnsubscribeTokens
from embedcrm.panel import PanelFeed
from embedcrm.pipelines.service import PipelineService, create_default_pipeline
from embedcrm.privacy.service import DataSubject, PersonalData, PrivacyService
from embedcrm.static import StaticAsset, load_asset
from embedcrm.tasks.service import TaskService
from embedcrm.webhooks.dispatcher import Dispatcher, DispatcherConfig, OutboundDispatcher
from embedcrm.webhooks.outbox import OutboxRepository
from embedcrm.webhooks.repository import erase_delivery_logs
from embedcrm.webhooks.service import WebhookService
from embedcrm.webhooks.ssrf import create_webhook_client, parse_allowed_networks
from embedcrm.workspaces.service import WorkspaceService

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    # Seals the third parties' secrets kept at rest (payment providers', webhook endpoints').
    secret_box: SecretBox
    panel_tokens: PanelTokens
    workspaces: WorkspaceService
    capture: CaptureService
    forms: FormService
    pipelines: PipelineService
    leads: LeadService
    contacts: ContactService
    contact_points: ContactPointService
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
    panel: StaticAsset
    feedback_script: StaticAsset
    # One poller of the event feed for every open panel stream of this process.
    panel_feed: PanelFeed
    webhooks: WebhookService
    analytics: AnalyticsService
    catalog: CatalogService
    invoices: InvoiceService
    providers: ProviderService
    one_c: OneCService
    commission: CommissionService
    # The one HTTP client for webhook deliveries, behind the SSRF guard; tests may inject theirs.
    webhook_client: httpx.AsyncClient
    # The one HTTP client for payment providers' APIs (fixed hosts from the settings).
    provider_client: httpx.AsyncClient
    messages: MessageService
    templates: TemplateService
    feedback: FeedbackService
    alerts: AlertService
    # The built-in e-mail channel; None when e-mails go to the host's gateway.
    smtp: SmtpServer | None

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
        workspaces = WorkspaceService(db, panel_tokens, provisioners=[create_default_pipeline])
        capture = CaptureService(db, settings, forms)
        # A site's new domains, or its deletion, apply to visitors at once in this process.
        workspaces.site_listeners.append(capture.forget_site)
        provider_client = httpx.AsyncClient(timeout=10.0, follow_redirects=False)
        smtp = smtp_server_of(settings.smtp_url, settings.smtp_from, settings.public_url)
        unsubscribe = UnsubscribeTokens(settings.secret_keys, settings.public_url)
        feedback_links = FeedbackLinks(settings.secret_keys, settings.public_url)
        secret_box = SecretBox(settings.secret_keys)
        return cls(
            settings=settings,
            db=db,
            secret_box=secret_box,
            panel_tokens=panel_tokens,
            workspaces=workspaces,
            capture=capture,
            forms=forms,
            pipelines=PipelineService(db),
            leads=LeadService(db),
            contacts=ContactService(db),
            contact_points=ContactPointService(db),
            merges=MergeService(db),
            tasks=TaskService(db),
            fields=FieldService(db),
            tags=TagService(db, contacts_by_id=contacts_by_id),
            lists=lists,
            segments=SegmentService(db, lists),
            imports=ImportService(db),
            privacy=PrivacyService(
                db, [SUBMISSIONS, INVOICES, PERSONAL_MESSAGES, PERSONAL_ANSWERS, OUTBOX]
            ),
            assignment=AssignmentService(db),
            widget=load_asset("widget.js", "text/javascript; charset=utf-8", minified=True),
            widget_css=load_asset("widget.css", "text/css; charset=utf-8"),
            panel=load_asset("panel.js", "text/javascript; charset=utf-8"),
            feedback_script=load_asset(
                "feedback.js", "text/javascript; charset=utf-8", minified=True
            ),
            panel_feed=PanelFeed(db),
            webhooks=WebhookService(db, settings, box=secret_box),
            analytics=AnalyticsService(db),
            catalog=CatalogService(db),
            invoices=InvoiceService(db, settings),
            providers=ProviderService(
                db,
                provider_client,
                yookassa_api_url=settings.yookassa_api_url,
                box=secret_box,
            ),
            webhook_client=create_webhook_client(
                parse_allowed_networks(settings.webhook_allowed_networks),
                timeout=settings.webhook_timeout_seconds,
            ),
            one_c=OneCService(db, settings),
            commission=CommissionService(db),
            provider_client=provider_client,
            messages=MessageService(db, unsubscribe, email_built_in=smtp is not None),
            templates=TemplateService(
                db,
                unsubscribe,
                email_built_in=smtp is not None,
                segment_contacts=_segment_contacts(lists),
                feedback_url=feedback_links.url,
            ),
            feedback=FeedbackService(db, feedback_links),
            alerts=AlertService(db, email_built_in=smtp is not None),
            smtp=smtp,
        )

    def dispatcher(self) -> Dispatcher:
        """A webhook dispatcher configured from the settings, sharing this process's client."""
        settings = self.settings
        return Dispatcher(
            self.db,
            self.webhook_client,
            box=self.secret_box,
            config=DispatcherConfig(
                concurrency=settings.webhook_concurrency,
                endpoint_concurrency=settings.webhook_endpoint_concurrency,
                lease=timedelta(seconds=settings.webhook_lease_seconds),
                poll_interval=settings.webhook_poll_seconds,
                timeout=settings.webhook_timeout_seconds,
            ),
        )

    def email_dispatcher(self) -> OutboundDispatcher[EmailJob] | None:
        """The e-mail dispatcher, with the webhooks' lease and retry settings; None without
        the built-in SMTP."""
        if self.smtp is None:
            return None
        settings = self.settings
        return email_dispatcher(
            self.db,
            self.smtp,
            unsubscribe_url=self.messages.tokens.url,
            config=DispatcherConfig(
                concurrency=settings.webhook_endpoint_concurrency,
                endpoint_concurrency=settings.webhook_endpoint_concurrency,
                lease=timedelta(seconds=settings.webhook_lease_seconds),
                poll_interval=max(settings.webhook_poll_seconds, 0.5),
            ),
        )


def services_of(request: HTTPConnection) -> Services:
    """The services of the application that received ``request`` (``create_app`` puts them in its
    state), for the routes, which Starlette calls with the request alone."""
    services: Services = request.app.state.services
    return services


def _segment_contacts(lists: ListService) -> SegmentContacts:
    """A segment's contacts, a page at a time, for an offer sent to them."""

    async def page(
        principal: Principal, workspace_id: uuid.UUID, segment_id: uuid.UUID, after: str | None
    ) -> Page[Contact]:
        return await lists.contacts_page(
            principal,
            workspace_id,
            ContactSpec(),
            segment_id=segment_id,
            window=Window(first=100, after=after),
        )

    return page


# What capture and the webhooks keep about a person, reached by privacy through hooks: neither
# may import the CRM, so they are joined here, where both are known. Submissions go before the
# leads they point at; the counts keep the order of the erasure record.


async def _submissions_of(session: AsyncSession, person: DataSubject) -> list[Submission]:
    return await submissions_of_person(
        session,
        person.workspace_id,
        person.contact_id,
        person.lead_ids,
        email=person.email,
        phone=person.phone,
        emails=person.emails,
        phones=person.phones,
    )


async def _export_submissions(session: AsyncSession, person: DataSubject) -> dict[str, Any]:
    rows = await _submissions_of(session, person)
    return {"submissions": [plain_row(s, ["id", "payload", "created_at"]) for s in rows]}


async def _erase_submissions(session: AsyncSession, person: DataSubject) -> dict[str, Any]:
    ids = [s.id for s in await _submissions_of(session, person)]
    repo = SubmissionRepository(session, person.workspace_id)
    return {"submissions": await repo.erase_ids(ids)}


async def _export_nothing(session: AsyncSession, person: DataSubject) -> dict[str, Any]:
    return {}


async def _erase_events(session: AsyncSession, person: DataSubject) -> dict[str, Any]:
    # The outbox keeps the events' payloads; what receivers answered about them may echo them.
    outbox = OutboxRepository(session, person.workspace_id)
    event_ids = await outbox.scrub_person(person.contact_id, person.lead_ids)
    await erase_delivery_logs(session, person.workspace_id, event_ids)
    return {"events_scrubbed": len(event_ids)}


async def _export_invoices(session: AsyncSession, person: DataSubject) -> dict[str, Any]:
    rows = await InvoiceRepository(session, person.workspace_id).of_person(
        person.contact_id, person.lead_ids
    )
    columns = ["id", "number", "status", "buyer_name", "buyer_details", "currency", "total"]
    return {"invoices": [plain_row(i, columns) for i in rows]}


async def _erase_invoices(session: AsyncSession, person: DataSubject) -> dict[str, Any]:
    # Invoices are accounting records the shop must keep: they stay, naming no one.
    repo = InvoiceRepository(session, person.workspace_id)
    ids = [i.id for i in await repo.of_person(person.contact_id, person.lead_ids)]
    await repo.detach_person(ids)
    return {"invoices": len(ids)}


SUBMISSIONS = PersonalData(export=_export_submissions, erase=_erase_submissions)
INVOICES = PersonalData(export=_export_invoices, erase=_erase_invoices)
OUTBOX = PersonalData(export=_export_nothing, erase=_erase_events)
