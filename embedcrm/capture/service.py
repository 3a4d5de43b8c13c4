"""Submissions become contacts and leads; the raw submission is committed before anything else."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.capture.attribution import attribution_from_context
from embedcrm.capture.intake import SubmissionIntake
from embedcrm.capture.models import Submission, SubmissionStatus
from embedcrm.capture.payload import SubmissionPayload, body_hash_of, parse_submission
from embedcrm.capture.person import person_of_form, person_of_submission
from embedcrm.capture.processor import SubmissionProcessor, batches_of
from embedcrm.capture.ratelimit import SubmissionLimits
from embedcrm.capture.recognition import recognise_form, strip_sensitive
from embedcrm.capture.repository import (
    SubmissionRepository,
    count_quarantined,
    unprocessed_submissions,
)
from embedcrm.capture.spam import (
    HONEYPOT_FIELD,
    FormToken,
    FormTokenRefused,
    FormTokens,
    quarantine_reason,
)
from embedcrm.config import Settings
from embedcrm.contacts.service import Person
from embedcrm.db import Database, is_database_unavailable, new_id, utcnow
from embedcrm.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from embedcrm.events import Event
from embedcrm.forms.service import FormService
from embedcrm.ids import to_global_id
from embedcrm.kit.cache import ExpiringCache
from embedcrm.kit.repository import Page, Window
from embedcrm.leads.models import ActivityKind
from embedcrm.leads.service import Attribution, CreatedLead, NewLead, create_lead, create_leads
from embedcrm.webhooks.outbox import OutboxRepository
from embedcrm.workspaces.access import readable_row, viewer_of
from embedcrm.workspaces.models import Site
from embedcrm.workspaces.repository import SiteRepository, WorkspaceDirectory
from embedcrm.workspaces.words import word

log = logging.getLogger(__name__)

# Site lookups by public key are cached this long: every submission needs one.
SITE_CACHE_SECONDS = 30.0
# With inline processing on, a submission still RECEIVED after this long was left behind by a
# process that stopped; the worker then takes it over.
LEFT_BEHIND_AFTER = timedelta(seconds=30)
# Submissions made into leads in one transaction: enough to spread its fixed cost (locks,
# lookups, commit) thin; few enough that its identity locks (two per submission, ~200) stay
# far below PostgreSQL's shared lock table (64 × max_connections slots by default) with two
# batches at a time in each of several processes.
PROCESS_BATCH = 100


@dataclass(frozen=True)
class Accepted:
    submission_id: str
    repeated: bool
    # Kept in quarantine (the visitor is told "accepted" all the same).
    quarantined: bool = False


class CaptureService:
    def __init__(self, db: Database, settings: Settings, forms: FormService | None = None) -> None:
        self.db = db
        self.settings = settings
        self.forms = forms or FormService(db)
        self.form_tokens = FormTokens(
            settings.secret_keys, max_age_seconds=settings.form_token_max_age_seconds
        )
        self.limits = SubmissionLimits(
            per_visitor=settings.rate_limit_per_visitor,
            per_site=settings.rate_limit_per_site,
            events_per_visitor=settings.rate_limit_events_per_visitor,
            form_token_max_age_seconds=settings.form_token_max_age_seconds,
            form_token_max_uses=settings.form_token_max_uses,
            redis_url=settings.redis_url,
        )
        self.intake = SubmissionIntake(db)
        self.processor = SubmissionProcessor(self.process_batch, batch=PROCESS_BATCH)
        # A deleted site, or one whose domains changed, is seen at once by this process (the
        # workspaces service calls forget_site) and within SITE_CACHE_SECONDS by the others.
        self._sites: ExpiringCache[Site] = ExpiringCache(SITE_CACHE_SECONDS)

    async def site_for_key(self, public_key: str) -> Site:
        return await self._sites.get(public_key, lambda: self._load_site(public_key))

    async def _load_site(self, public_key: str) -> Site:
        async with self.db.transaction() as session:
            site = await WorkspaceDirectory(session).site_by_public_key(public_key)
        if site is None:
            raise NotFound("No site has this key.")
        return site

    def forget_site(self, public_key: str) -> None:
        self._sites.forget(public_key)

    async def site_config(self, site: Site, origin: str | None) -> dict[str, Any]:
        """What the widget needs: the site's language, a fresh form token, its forms."""
        return {
            "site": {"key": site.public_key, "language": site.language},
            "form_token": self.form_tokens.issue(site.id, origin),
            "form_token_field": "form_token",
            "honeypot_field": HONEYPOT_FIELD,
            "forms": await self.forms.widget_forms(site),
        }

    async def accept(
        self,
        site: Site,
        *,
        origin: str | None,
        content_type: str | None,
        body: bytes,
        remote_ip: str | None,
    ) -> Accepted:
        """Store the submission, answer, and turn it into a lead right after.

        Once the raw submission is committed the visitor's data is safe: a failure in the
        processing that follows leaves it FAILED for the worker to retry. A bot is told
        "accepted" like anyone else; its submission is kept in quarantine.
        """
        await self.limits.check(site.public_key, remote_ip)
        payload = parse_submission(content_type, body)
        withhold_sensitive(payload.body)
        token, token_problem = self._read_form_token(site, payload, origin)
        refusal = await self.forms.refusal(site, payload.body)
        if refusal is not None:
            # Kept, so the owner sees what a form's own rules turned away.
            await self._store_refused(site, payload, origin, remote_ip, refusal)
            raise refusal
        reason = (
            quarantine_reason(
                payload.body,
                token,
                now=self.form_tokens.now(),
                min_fill_seconds=self.settings.min_fill_seconds,
                honeypot_sent=payload.honeypot_sent,
            )
            or token_problem
        )
        if reason is None and not await self.limits.use_form_token(payload.body["form_token"]):
            reason = "form_token_reused"
        row_id = new_id()
        inserted = await self._store(site, payload, row_id, origin, remote_ip, reason)
        if not inserted:
            corrected = await self._check_repeat(site, payload, reason)
            if corrected is None:
                return Accepted(submission_id=payload.submission_id, repeated=True)
            row_id = corrected
        if reason is None and self.settings.process_submissions_inline:
            await self.processor.hand_over(site.workspace_id, row_id)
        elif reason is not None:
            await self._announce_quarantine(site, row_id, reason)
        return Accepted(
            submission_id=payload.submission_id, repeated=False, quarantined=reason is not None
        )

    async def _store_refused(
        self,
        site: Site,
        payload: SubmissionPayload,
        origin: str | None,
        remote_ip: str | None,
        refusal: ValidationFailed,
    ) -> None:
        reason = "; ".join(f"{name}: {message}" for name, message in refusal.fields.items())
        await self._store(
            site, payload, new_id(), origin, remote_ip, reason or refusal.message, refused=True
        )

    def _read_form_token(
        self, site: Site, payload: SubmissionPayload, origin: str | None
    ) -> tuple[FormToken | None, str | None]:
        """The submission's form token, or why it has none that vouches for it.

        Without a valid token a submission is kept in quarantine, not refused: the lead is not
        lost, and the owner releases it. Only the widget's own flow (JSON with a token that has
        gone stale) is refused, with a 403 the widget answers by fetching a fresh token.
        """
        token = payload.body.get("form_token")
        if not token:
            return None, "no_form_token"
        try:
            return self.form_tokens.read(token, site_id=site.id, origin=origin), None
        except FormTokenRefused:
            if payload.form_encoded:
                return None, "form_token_invalid"
            raise

    async def _store(
        self,
        site: Site,
        payload: SubmissionPayload,
        row_id: uuid.UUID,
        origin: str | None,
        remote_ip: str | None,
        quarantine: str | None,
        *,
        refused: bool = False,
    ) -> bool:
        now = utcnow()
        status = SubmissionStatus.RECEIVED
        if refused:
            status = SubmissionStatus.REFUSED
        elif quarantine:
            status = SubmissionStatus.QUARANTINED
        canonical = payload.canonical_json()
        try:
            return await self.intake.store(
                {
                    "workspace_id": site.workspace_id,
                    "id": row_id,
                    "site_id": site.id,
                    "client_submission_id": payload.submission_id,
                    "body_hash": body_hash_of(canonical),
                    "payload": payload.body,
                    "status": status,
                    "failure_reason": quarantine,
                    "attempts": 0,
                    "lead_id": None,
                    "contact_id": None,
                    "origin": (origin or "")[:300] or None,
                    "remote_ip": remote_ip,
                    "created_at": now,
                    "processed_at": None,
                },
                payload_json=canonical,
            )
        except ServiceUnavailable:
            raise
        except Exception as exc:
            if is_database_unavailable(exc):
                raise ServiceUnavailable("The database is unavailable.", retry_after=5) from exc
            raise

    async def _check_repeat(
        self, site: Site, payload: SubmissionPayload, quarantine: str | None
    ) -> uuid.UUID | None:
        """None for a true repeat; the row's id when this body corrects one its form refused."""
        async with self.db.transaction() as session:
            existing = await SubmissionRepository(session, site.workspace_id).by_client_id(
                site.id, payload.submission_id
            )
            if existing is not None and existing.status is SubmissionStatus.REFUSED:
                existing.payload = payload.body
                existing.body_hash = payload.body_hash
                existing.status = (
                    SubmissionStatus.QUARANTINED if quarantine else SubmissionStatus.RECEIVED
                )
                existing.failure_reason = quarantine
                return existing.id
        if existing is None:  # pragma: no cover - the row vanished between two statements
            raise ServiceUnavailable("Please retry.", retry_after=1)
        if existing.body_hash != payload.body_hash:
            raise Conflict(
                "This submission_id was already used with a different body.",
                field="submission_id",
            )
        if existing.status is SubmissionStatus.FAILED:
            self.processor.enqueue(site.workspace_id, existing.id)
        return None

    async def _announce_quarantine(self, site: Site, row_id: uuid.UUID, reason: str) -> None:
        async with self.db.transaction() as session:
            outbox = OutboxRepository(session, site.workspace_id)
            scope = await outbox.scope(site.id)
            outbox.record(
                Event(
                    type="submission.quarantined",
                    occurred_at=utcnow(),
                    data={
                        **scope,
                        "submission": {
                            "id": to_global_id("Submission", site.workspace_id, row_id),
                            "site_id": scope["site_id"],
                            "reason": reason,
                        },
                    },
                )
            )

    async def process(self, workspace_id: uuid.UUID, submission_id: uuid.UUID) -> None:
        """Make the contact and lead of one stored submission; safe to call again."""
        try:
            async with self.db.transaction() as session:
                await self._make_leads(session, workspace_id, [submission_id])
        except Exception as exc:
            if is_database_unavailable(exc) or isinstance(exc, ServiceUnavailable):
                # The row stays as it was; the worker picks it up once the database is back.
                log.warning("submission %s waits for the database: %s", submission_id, exc)
                return
            log.exception("processing submission %s failed", submission_id)
            await self._mark_failed(workspace_id, submission_id, exc)

    async def process_batch(
        self, workspace_id: uuid.UUID, submission_ids: Sequence[uuid.UUID]
    ) -> None:
        """``process`` of several submissions of one workspace in one transaction.

        When the batch fails, each submission is processed again on its own, so that one bad
        submission fails alone, as the group commit of acceptance falls back to one by one.
        """
        if len(submission_ids) == 1:
            await self.process(workspace_id, submission_ids[0])
            return
        try:
            async with self.db.transaction() as session:
                await self._make_leads(session, workspace_id, submission_ids)
            return
        except Exception as exc:
            if is_database_unavailable(exc) or isinstance(exc, ServiceUnavailable):
                log.warning("%d submissions wait for the database: %s", len(submission_ids), exc)
                return
            log.info("a batch of %d submissions failed; each is tried alone", len(submission_ids))
        for submission_id in submission_ids:
            await self.process(workspace_id, submission_id)

    async def _make_leads(
        self, session: AsyncSession, workspace_id: uuid.UUID, submission_ids: Sequence[uuid.UUID]
    ) -> None:
        submissions = await SubmissionRepository(session, workspace_id).pending_for_update(
            submission_ids
        )
        if not submissions:
            return
        sites = await SiteRepository(session, workspace_id).get_many(
            {submission.site_id for submission in submissions}
        )
        made = await create_leads(
            session,
            workspace_id,
            [lead_from(submission, sites[submission.site_id]) for submission in submissions],
        )
        now = utcnow()
        for submission, created in zip(submissions, made, strict=True):
            submission.status = SubmissionStatus.PROCESSED
            submission.lead_id = created.lead.id
            submission.contact_id = created.contact.id
            submission.processed_at = now
            submission.attempts += 1
            submission.failure_reason = None

    async def _mark_failed(
        self, workspace_id: uuid.UUID, submission_id: uuid.UUID, exc: Exception
    ) -> None:
        try:
            async with self.db.transaction() as session:
                submission = await SubmissionRepository(session, workspace_id).get(submission_id)
                if submission is not None:
                    submission.status = SubmissionStatus.FAILED
                    submission.failure_reason = f"{type(exc).__name__}: {exc}"[:2000]
                    submission.attempts += 1
        except Exception:
            log.exception("could not record the failure of submission %s", submission_id)

    async def retry_unprocessed(self, *, batch: int = 200) -> int:
        """Process submissions left FAILED or RECEIVED; the worker calls this periodically.

        Batches are taken until none is full, so a worker that makes every lead (inline
        processing off) keeps up with the app processes.
        """
        left_behind = LEFT_BEHIND_AFTER if self.settings.process_submissions_inline else timedelta()
        done = 0
        while True:
            async with self.db.transaction() as session:
                pending = await unprocessed_submissions(
                    session, limit=batch, received_before=utcnow() - left_behind
                )
            await self.process_many(pending)
            done += len(pending)
            if len(pending) < batch:
                return done

    async def process_many(
        self, pending: Sequence[tuple[uuid.UUID, uuid.UUID]], *, concurrency: int = 2
    ) -> None:
        """Make the leads of these (workspace_id, submission id): in batches of each
        workspace's submissions, a few batches at a time."""
        slots = asyncio.Semaphore(concurrency)

        async def process_one(workspace_id: uuid.UUID, batch: Sequence[uuid.UUID]) -> None:
            async with slots:
                await self.process_batch(workspace_id, batch)

        await asyncio.gather(
            *(process_one(ws, batch) for ws, batch in batches_of(pending, PROCESS_BATCH))
        )

    async def submissions_page(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        status: SubmissionStatus | None,
        *,
        window: Window,
    ) -> Page[Submission]:
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            submissions = SubmissionRepository(session, workspace_id)
            stmt = submissions.readable(viewer, submissions.with_status(status))
            return await submissions.newest_first(stmt, window=window)

    async def visible_submission(
        self, principal: Principal, workspace_id: uuid.UUID, submission_id: uuid.UUID
    ) -> Submission | None:
        """The submission, if ``principal`` may see it (a MANAGER: those of their leads)."""
        return await readable_row(
            self.db, principal, SubmissionRepository, workspace_id, submission_id
        )

    async def count_submissions(
        self, principal: Principal, workspace_id: uuid.UUID, status: SubmissionStatus | None
    ) -> int:
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            submissions = SubmissionRepository(session, workspace_id)
            return await submissions.count(
                submissions.readable(viewer, submissions.with_status(status))
            )

    async def release(self, workspace_id: uuid.UUID, submission_id: uuid.UUID) -> Submission:
        """Take a submission out of quarantine, or past its form's refusal, and make its lead."""
        async with self.db.transaction() as session:
            submission = await SubmissionRepository(session, workspace_id).get_for_update(
                submission_id
            )
            if submission is None:
                raise NotFound("No such submission.", field="submissionId")
            if submission.status in (SubmissionStatus.QUARANTINED, SubmissionStatus.REFUSED):
                submission.status = SubmissionStatus.RECEIVED
        await self.process(workspace_id, submission_id)
        async with self.db.transaction() as session:
            released = await SubmissionRepository(session, workspace_id).get(submission_id)
        assert released is not None
        return released

    async def create_lead_from_channel(
        self,
        workspace_id: uuid.UUID,
        *,
        person: Person,
        attribution: Attribution,
        channel: str,
        title: str | None,
        message: str | None,
        site_id: uuid.UUID | None,
        custom_fields: Mapping[str, Any],
    ) -> CreatedLead:
        """A lead the host pushes from a call, a chat or a social network (C5)."""
        async with self.db.transaction() as session:
            if (
                site_id is not None
                and await SiteRepository(session, workspace_id).live_one(site_id) is None
            ):
                raise NotFound("No such site.", field="siteId")
            workspace = await WorkspaceDirectory(session).get(workspace_id)
            language = workspace.language if workspace else None
            who = person.name or person.email or person.phone
            return await create_lead(
                session,
                workspace_id,
                NewLead(
                    person=person,
                    attribution=attribution,
                    title=title or f"{word(language, f'channel.{channel}')}: {who}",
                    form=channel.lower(),
                    channel=channel,
                    message=message,
                    site_id=site_id,
                    custom_fields=custom_fields,
                    activity_kind=ActivityKind.MESSAGE if channel != "CALL" else ActivityKind.CALL,
                    activity_data={"channel": channel},
                ),
            )

    async def quarantined_count(self) -> int:
        """Submissions held in quarantine in every workspace (an operator's metric)."""
        async with self.db.transaction() as session:
            return await count_quarantined(session)

    async def close(self) -> None:
        await self.processor.close()
        await self.intake.close()


def withhold_sensitive(body: dict[str, Any]) -> None:
    """Card data, passwords, one-time codes and files never reach the database, even from a
    post that bypassed the widget; the names withheld (never the values) are kept and counted."""
    removed = strip_sensitive(body)
    if removed:
        body["withheld"] = sorted({*body.get("withheld", []), *removed})
        log.info("withheld %d sensitive field(s) of a submission", len(removed))


def lead_from(submission: Submission, site: Site) -> NewLead:
    """The lead a stored submission makes: its fields recognised as the builder named them."""
    body = submission.payload
    form = recognise_form(body["fields"], body.get("seen"))
    person = person_of_form(form, phone_region=site.phone_region)
    message = form.text("message")
    who = person.name or person.email or person.phone or (message or "")[:80] or body.get("form")
    activity: dict[str, Any] = {"submission_id": str(submission.id), "form": body.get("form")}
    consent = form.consent if form.consent is not None else body.get("consent")
    if consent is not None:
        activity["consent"] = consent
    return NewLead(
        person=person,
        attribution=attribution_from_context(body.get("context", {})),
        title=f"{site.name}: {who}",
        form=body.get("form"),
        message=message,
        site_id=site.id,
        custom_fields=form.custom,
        occurred_at=submission.created_at,
        activity_data=activity,
    )


async def submissions_of_person(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    contact_id: uuid.UUID,
    lead_ids: Sequence[uuid.UUID],
    *,
    email: str | None,
    phone: str | None,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
) -> list[Submission]:
    """Every submission that is the person's: linked to them or to one of their leads, or
    naming, after normalisation, an e-mail or phone of theirs.

    The person's e-mails and phones are the contact's (every one of them) and those typed in the submissions
    linked to them (a submission matched by phone may carry another e-mail). Unlinked
    submissions count too: one held in quarantine, or not yet processed, or one whose lead went
    to another contact because its e-mail matched there.
    """
    submissions = SubmissionRepository(session, workspace_id)
    linked = list(await session.scalars(submissions.of_person(contact_id, lead_ids)))
    regions = {
        site.id: site.phone_region
        for site in await SiteRepository(session, workspace_id).oldest_first()
    }
    names = {("email", email), ("phone", phone)}
    names |= {("email", e) for e in emails} | {("phone", p) for p in phones}
    for submission in linked:
        names |= _identities(submission.payload, regions.get(submission.site_id))
    names = {(kind, value) for kind, value in names if value}
    seen = {submission.id for submission in linked}
    naming = [
        row_id
        async for row_id, site_id, payload in submissions.payloads_of_all()
        if row_id not in seen and _identities(payload, regions.get(site_id)) & names
    ]
    if not naming:
        return linked
    return [*linked, *(await submissions.get_many(naming)).values()]


def _identities(payload: Any, region: str | None) -> set[tuple[str, str | None]]:
    """The normalised e-mail and phone a stored submission names, as processing reads them."""
    if not isinstance(payload, dict) or region is None:
        return set()
    person = person_of_submission(payload, phone_region=region)
    return {("email", person.email_normalized), ("phone", person.phone_e164)}
