"""Feedback: the client's answer through the link a message carried, and the owner's report.

A message template asks with ``{{feedback.nps_url}}`` or ``{{feedback.csat_url}}``, usually on a
STAGE trigger (the won stage: after a won deal). The answer lands on the contact and the lead,
with the lead's manager and source at that moment, which the report groups by.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.contacts.models import Contact
from embedcrm.contacts.service import sees_contact, surviving_contact
from embedcrm.db import Database, utcnow
from embedcrm.errors import NotFound, ValidationFailed
from embedcrm.feedback.links import FeedbackLink, FeedbackLinks
from embedcrm.feedback.models import SCALES, FeedbackAnswer, FeedbackKind
from embedcrm.feedback.repository import FeedbackRepository
from embedcrm.kit.models import plain_row
from embedcrm.kit.repository import Page, Window
from embedcrm.leads.moves import get_lead
from embedcrm.privacy.service import DataSubject, PersonalData
from embedcrm.webhooks.jobs import Clock
from embedcrm.workspaces.access import readable_row, viewer_of

MAX_COMMENT = 2000
MAX_PERIOD = timedelta(days=731)
# Comments the report lists, newest first.
REPORT_COMMENTS = 50


@dataclass(frozen=True)
class Question:
    kind: FeedbackKind
    language: str
    shop: str
    answered: int | None


@dataclass
class Score:
    """Answers of one group: their count, average, and for NPS the net promoter score."""

    key: str | None
    count: int = 0
    total: int = 0
    promoters: int = 0
    detractors: int = 0

    def add(self, kind: FeedbackKind, score: int) -> None:
        self.count += 1
        self.total += score
        if kind is FeedbackKind.NPS:
            self.promoters += score >= 9
            self.detractors += score <= 6

    @property
    def average(self) -> float | None:
        return round(self.total / self.count, 2) if self.count else None

    @property
    def nps(self) -> int | None:
        """Promoters (9-10) less detractors (0-6), in per cent of the answers."""
        if not self.count:
            return None
        return round(100 * (self.promoters - self.detractors) / self.count)


@dataclass
class Report:
    kind: FeedbackKind
    overall: Score
    by_month: list[Score] = field(default_factory=list)
    by_manager: list[Score] = field(default_factory=list)
    by_source: list[Score] = field(default_factory=list)
    comments: list[FeedbackAnswer] = field(default_factory=list)


def grouped(kind: FeedbackKind, pairs: Iterable[tuple[str | None, int]]) -> list[Score]:
    groups: dict[str | None, Score] = {}
    for key, score in pairs:
        groups.setdefault(key, Score(key)).add(kind, score)
    return sorted(groups.values(), key=lambda s: (s.key is None, s.key or ""))


class FeedbackService:
    def __init__(self, db: Database, links: FeedbackLinks, *, clock: Clock = utcnow) -> None:
        self.db = db
        self.links = links
        self.clock = clock

    async def question(self, token: str) -> Question:
        """What the hosted page asks; the link must be valid and its person still there."""
        link = self.links.read(token)
        async with self.db.transaction() as session:
            await _person_of(session, link)
            repo = FeedbackRepository(session, link.workspace_id)
            shop, language, _ = await repo.shop()
            answer = await repo.by_request(link.request_key)
            return Question(link.kind, language, shop, answer.score if answer else None)

    async def answer(self, token: str, score: str | None, comment: str | None) -> Question:
        """Record the answer (again through the same link: changed, not added)."""
        link = self.links.read(token)
        value = parse_score(link, score)
        text = (comment or "").strip() or None
        if text is not None and len(text) > MAX_COMMENT:
            raise ValidationFailed(
                f"A comment is at most {MAX_COMMENT} characters.", field="comment"
            )
        if text is not None and not _keepable(text):
            raise ValidationFailed(
                "The comment holds a character that cannot be kept.", field="comment"
            )
        now = self.clock()
        async with self.db.transaction() as session:
            contact = await _person_of(session, link)
            lead = (
                await get_lead(session, link.workspace_id, link.lead_id) if link.lead_id else None
            )
            repo = FeedbackRepository(session, link.workspace_id)
            shop, language, _ = await repo.shop()
            row = await repo.by_request(link.request_key)
            if row is None:
                row = repo.add(
                    FeedbackAnswer(
                        id=uuid.uuid4(),
                        request_key=link.request_key,
                        kind=link.kind,
                        contact_id=contact.id,
                        lead_id=link.lead_id,
                        created_at=now,
                    )
                )
            row.score = value
            row.comment = text
            row.manager_id = lead.assignee_id if lead else None
            row.source = lead.utm_source if lead else None
            row.updated_at = now
            return Question(link.kind, language, shop, value)

    async def answers_of(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        contact_id: uuid.UUID,
        lead_id: uuid.UUID | None,
        *,
        window: Window,
    ) -> Page[FeedbackAnswer]:
        async with self.db.transaction() as session:
            if not await sees_contact(session, principal, workspace_id, contact_id):
                return Page(rows=[], has_next=False)
            repo = FeedbackRepository(session, workspace_id)
            return await repo.newest_first(
                repo.of_contact_query(contact_id, lead_id), window=window
            )

    async def visible_answer(
        self, principal: Principal, workspace_id: uuid.UUID, answer_id: uuid.UUID
    ) -> FeedbackAnswer | None:
        """An answer, if the caller sees its contact (as ``answers_of`` lists them)."""
        return await readable_row(self.db, principal, FeedbackRepository, workspace_id, answer_id)

    async def count_of(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        contact_id: uuid.UUID,
        lead_id: uuid.UUID | None,
    ) -> int:
        async with self.db.transaction() as session:
            if not await sees_contact(session, principal, workspace_id, contact_id):
                return 0
            repo = FeedbackRepository(session, workspace_id)
            return await repo.count(repo.of_contact_query(contact_id, lead_id))

    async def report(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        kind: FeedbackKind,
        start: datetime,
        end: datetime,
    ) -> Report:
        """Score over the period, by month (the shop's calendar), by manager and by source."""
        if end <= start:
            raise ValidationFailed("to is after from.", field="to")
        if end - start > MAX_PERIOD:
            raise ValidationFailed("A report covers at most two years.", field="to")
        async with self.db.transaction() as session:
            # A MANAGER's figures are of the answers of the contacts they see.
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            repo = FeedbackRepository(session, workspace_id)
            _, _, timezone = await repo.shop()
            rows = await repo.of_period(viewer, kind, start, end)
        zone = ZoneInfo(timezone)
        overall = Score(None)
        months: dict[str | None, list[int]] = defaultdict(list)
        for row in rows:
            overall.add(kind, row.score)
            months[row.created_at.astimezone(zone).strftime("%Y-%m")].append(row.score)
        return Report(
            kind=kind,
            overall=overall,
            by_month=grouped(kind, ((m, s) for m, scores in months.items() for s in scores)),
            by_manager=grouped(
                kind, ((str(r.manager_id) if r.manager_id else None, r.score) for r in rows)
            ),
            by_source=grouped(kind, ((r.source, r.score) for r in rows)),
            comments=[r for r in rows if r.comment][:REPORT_COMMENTS],
        )


def _keepable(text: str) -> bool:
    """No NUL and no lone surrogate (which JSON may carry as an escape): neither can be
    stored in PostgreSQL text, and neither is anything a client meant to write."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


async def _person_of(session: AsyncSession, link: FeedbackLink) -> Contact:
    """The contact the link asks: the one it names, or, when the link predates a merge, the
    contact that one was merged into (the answer lands there)."""
    contact = await surviving_contact(session, link.workspace_id, link.contact_id)
    if contact is None:
        raise NotFound("Nothing has this id.", field="contactId")
    return contact


def parse_score(link: FeedbackLink, score: str | None) -> int:
    scale = SCALES[link.kind]
    try:
        value = int(score or "")
    except ValueError:
        raise ValidationFailed("Choose a score.", field="score") from None
    if value not in scale:
        raise ValidationFailed(f"A score is {scale.start} to {scale.stop - 1}.", field="score")
    return value


# What other domains do to a contact's feedback answers inside their own transaction.


async def move_contact_answers(
    session: AsyncSession, workspace_id: uuid.UUID, source: uuid.UUID, target: uuid.UUID
) -> list[str]:
    """A merge: ``target`` gets the answers of ``source``; answers the ids moved."""
    return await FeedbackRepository(session, workspace_id).move_contact(source, target)


async def give_back_answers(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    answer_ids: Sequence[uuid.UUID],
    contact_id: uuid.UUID,
) -> None:
    """An undone merge: the answers it moved go back to the restored contact."""
    await FeedbackRepository(session, workspace_id).set_contact(answer_ids, contact_id)


ANSWER_COLUMNS = ["id", "kind", "score", "comment", "lead_id", "created_at", "updated_at"]


async def _export_person(session: AsyncSession, person: DataSubject) -> dict[str, Any]:
    repo = FeedbackRepository(session, person.workspace_id)
    rows = await session.scalars(
        repo.of_contact_query(person.contact_id, None).order_by(FeedbackAnswer.created_at)
    )
    return {"feedback_answers": [plain_row(r, ANSWER_COLUMNS) for r in rows]}


async def _erase_person(session: AsyncSession, person: DataSubject) -> dict[str, Any]:
    # The answers and their comments go; the erasure record keeps how many there were.
    repo = FeedbackRepository(session, person.workspace_id)
    return {"feedback_answers": await repo.erase_of(person.contact_id)}


# A person's feedback answers, in their data export and out with their erasure.
PERSONAL_ANSWERS = PersonalData(export=_export_person, erase=_erase_person)
