"""Submissions become contacts and leads; the raw submission is committed before anything else."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from embedcrm.capture.attribution import attribution_from_context
from embedcrm.capture.models import Submission, SubmissionStatus
from embedcrm.capture.origin import origin_allowed
from embedcrm.capture.payload import SubmissionPayload, parse_submission
from embedcrm.capture.person import person_from_fields
from embedcrm.capture.repository import SubmissionRepository, failed_submissions
from embedcrm.crm.service import NewLead, create_lead
from embedcrm.db import Database, is_database_unavailable, utcnow
from embedcrm.errors import Conflict, NotFound, OriginNotAllowed, ServiceUnavailable
from embedcrm.workspaces.models import Site
from embedcrm.workspaces.repository import SiteRepository, WorkspaceDirectory

log = logging.getLogger(__name__)

# A submission still RECEIVED after this long was left by a process that died mid-way.
ABANDONED_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class Accepted:
    submission_id: str
    repeated: bool


class CaptureService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def site_for_key(self, public_key: str) -> Site:
        async with self.db.transaction() as session:
            site = await WorkspaceDirectory(session).site_by_public_key(public_key)
        if site is None:
            raise NotFound("No site has this key.")
        return site

    async def check_origin(self, public_key: str, origin: str | None) -> Site:
        site = await self.site_for_key(public_key)
        if not origin_allowed(origin, site.domains):
            raise OriginNotAllowed("This origin may not send submissions to this site.")
        return site

    async def accept(
        self,
        site: Site,
        *,
        origin: str | None,
        content_type: str | None,
        body: bytes,
        remote_ip: str | None,
    ) -> Accepted:
        """Store the submission, then turn it into a lead.

        Once the raw submission is committed the visitor's data is safe: a failure in the
        processing that follows leaves it FAILED for the worker to retry, and the visitor
        is still told "accepted".
        """
        payload = parse_submission(content_type, body)
        # Reject what can never become a lead before storing it, so the widget can show it.
        person_from_fields(payload.body["fields"], phone_region=site.phone_region)
        stored, repeated = await self._store(site, payload, origin=origin, remote_ip=remote_ip)
        if not repeated or stored.status in (SubmissionStatus.RECEIVED, SubmissionStatus.FAILED):
            await self.process(site.workspace_id, stored.id)
        return Accepted(submission_id=payload.submission_id, repeated=repeated)

    async def _store(
        self, site: Site, payload: SubmissionPayload, *, origin: str | None, remote_ip: str | None
    ) -> tuple[Submission, bool]:
        submission = Submission(
            site_id=site.id,
            client_submission_id=payload.submission_id,
            body_hash=payload.body_hash,
            payload=payload.body,
            status=SubmissionStatus.RECEIVED,
            origin=(origin or "")[:300] or None,
            remote_ip=remote_ip,
        )
        try:
            async with self.db.transaction() as session:
                SubmissionRepository(session, site.workspace_id).add(submission)
            return submission, False
        except IntegrityError:
            pass
        async with self.db.transaction() as session:
            existing = await SubmissionRepository(session, site.workspace_id).by_client_id(
                site.id, payload.submission_id
            )
        if existing is None:  # pragma: no cover - the unique row vanished between two reads
            raise ServiceUnavailable("Please retry.", retry_after=1)
        if existing.body_hash != payload.body_hash:
            raise Conflict(
                "This submission_id was already used with a different body.",
                field="submission_id",
            )
        return existing, True

    async def process(self, workspace_id: uuid.UUID, submission_id: uuid.UUID) -> None:
        """Make the contact and lead of one stored submission; safe to call again."""
        try:
            async with self.db.transaction() as session:
                submissions = SubmissionRepository(session, workspace_id)
                submission = await submissions.get_for_update(submission_id)
                if submission is None or submission.status in (
                    SubmissionStatus.PROCESSED,
                    SubmissionStatus.QUARANTINED,
                ):
                    return
                site = await SiteRepository(session, workspace_id).get(submission.site_id)
                assert site is not None  # the foreign key guarantees it
                body = submission.payload
                fields = body["fields"]
                person = person_from_fields(fields, phone_region=site.phone_region)
                known = {"name", "email", "phone", "company", "message"}
                created = await create_lead(
                    session,
                    workspace_id,
                    NewLead(
                        person=person,
                        attribution=attribution_from_context(body.get("context", {})),
                        title=f"{site.name}: {person.name or person.email or person.phone}",
                        form=body.get("form"),
                        message=fields.get("message"),
                        site_id=site.id,
                        custom_fields={k: v for k, v in fields.items() if k not in known},
                        occurred_at=submission.created_at,
                        activity_data={
                            "submission_id": str(submission.id),
                            "form": body.get("form"),
                        },
                    ),
                )
                submission.status = SubmissionStatus.PROCESSED
                submission.lead_id = created.lead.id
                submission.contact_id = created.contact.id
                submission.processed_at = utcnow()
                submission.attempts += 1
                submission.failure_reason = None
        except Exception as exc:
            if is_database_unavailable(exc) or isinstance(exc, ServiceUnavailable):
                # The row stays RECEIVED; the worker picks it up once the database is back.
                log.warning("submission %s waits for the database: %s", submission_id, exc)
                return
            log.exception("processing submission %s failed", submission_id)
            await self._mark_failed(workspace_id, submission_id, exc)

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

    async def retry_unprocessed(self, *, limit: int = 100) -> int:
        """Process submissions left FAILED or RECEIVED; the worker calls this periodically."""
        async with self.db.transaction() as session:
            pending = await failed_submissions(
                session, limit=limit, received_before=utcnow() - ABANDONED_AFTER
            )
        for workspace_id, submission_id in pending:
            await self.process(workspace_id, submission_id)
        return len(pending)
