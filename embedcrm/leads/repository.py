"""SQL of leads, their timeline, stage history and cart, bound to one workspace."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    func,
    literal_column,
    not_,
    or_,
    select,
    union,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.contacts.models import Contact, ContactRecord, PointKind, contact_ids_with_point
from embedcrm.db import JSONDocument, as_text
from embedcrm.errors import BadRequest, ValidationFailed
from embedcrm.fields.filters import LeadSpec, custom_clause, parse_search
from embedcrm.fields.models import FieldType, LeadTag, Tag
from embedcrm.kit.repository import (
    MAX_PAGE_SIZE,
    Page,
    Window,
    WorkspaceRepository,
    count_limit,
    encode_cursor,
    newest_first,
    page_size,
    searched_pattern,
    up_to,
)
from embedcrm.leads.models import (
    RESPONSE_KINDS,
    Activity,
    AssignmentCursor,
    AssignmentRule,
    Lead,
    LeadItem,
    LeadRecord,
    LeadSort,
    LeadStageChange,
    LeadStatus,
    PageRelations,
)
from embedcrm.leads.ownership import own_lead_ids, taken_by
from embedcrm.pipelines.models import Stage, StageRecord
from embedcrm.tasks.models import Task, TaskDoneReason, TaskKind
from embedcrm.workspaces.models import Member, MemberRecord

# WAITING_SQL as a clause: the literal 'OPEN' (not a parameter) lets PostgreSQL match the
# partial index ix_leads_waiting.
WAITING = and_(Lead.status == literal_column("'OPEN'"), Lead.first_response_at.is_(None))
# Which run of the "unanswered first" order a cursor points into.
_WAITING_RUN, _REST_RUN = "w", "r"


def _is_waiting(lead: Lead | LeadRecord) -> bool:
    return lead.status is LeadStatus.OPEN and lead.first_response_at is None


def _run_cursor(lead: Lead | LeadRecord) -> str:
    return (_WAITING_RUN if _is_waiting(lead) else _REST_RUN) + "." + encode_cursor(lead)


def _split_run_cursor(cursor: str | None) -> tuple[str, str | None]:
    """A cursor of the "unanswered first" order: its run and the newest-first cursor in it."""
    if not cursor:
        return _WAITING_RUN, None
    run, _, inner = cursor.partition(".")
    if run not in (_WAITING_RUN, _REST_RUN) or not inner:
        raise BadRequest("The cursor is not valid for this sort.", field="after")
    return run, inner


def _columns_of(table: Any, record: type[tuple[Any, ...]]) -> list[Any]:
    """The columns of ``table`` that ``record``, a NamedTuple of some of them, holds, in its
    order; its stored documents as their text (``DocumentText``), decoded where shown."""
    columns = [table.c[name] for name in record._fields]  # type: ignore[attr-defined]
    return [
        as_text(column) if isinstance(column.type, JSONDocument) else column for column in columns
    ]


# What a page of leads may read along with them: each relation's record, its table joined
# under a name of its own (a filter's subquery on the same table, a search of contacts, then
# stays a subquery of its own) and the lead's column that names its row.
_RELATED: dict[str, tuple[type[tuple[Any, ...]], Any, str]] = {
    "contact": (ContactRecord, Contact.__table__.alias("page_contact"), "contact_id"),
    "stage": (StageRecord, Stage.__table__.alias("page_stage"), "stage_id"),
    "assignee": (MemberRecord, Member.__table__.alias("page_assignee"), "assignee_id"),
}
_PAGE_READS: dict[tuple[bool, bool, bool], Select[Any]] = {}
_COUNT = select(func.count()).select_from(Lead.__table__)


def _page_read(asked: tuple[bool, bool, bool]) -> Select[Any]:
    """The columns of a page's leads and of the rows ``asked`` names (contact, stage,
    assignee), outer-joined by primary key: built once per set of relations, from the tables'
    own columns. Those are the same objects in every statement, so SQLAlchemy's cached
    compilation finds its result columns by identity; given ORM attributes, it matched them to
    each new statement by building an SQL comparison per column, about a third of the
    statement's CPU."""
    built = _PAGE_READS.get(asked)
    if built is None:
        leads = Lead.__table__
        columns = _columns_of(leads, LeadRecord)
        joined: Any = leads
        for name, wanted in zip(_RELATED, asked, strict=True):
            if not wanted:
                continue
            record, table, key = _RELATED[name]
            columns += _columns_of(table, record)
            joined = joined.outerjoin(
                table,
                and_(table.c.workspace_id == leads.c.workspace_id, table.c.id == leads.c[key]),
            )
        built = _PAGE_READS[asked] = select(*columns).select_from(joined)
    return built


class LeadRepository(WorkspaceRepository[Lead]):
    model = Lead

    def __init__(
        self,
        session: AsyncSession,
        workspace_id: uuid.UUID,
        *,
        relations: PageRelations | None = None,
    ) -> None:
        super().__init__(session, workspace_id)
        # What the pages this repository reads bring along (``read_records``).
        self.relations = relations

    async def read_records(
        self, stmt: Select[Lead], order: Sequence[ColumnElement[Any]], limit: int
    ) -> list[LeadRecord]:
        """A page's leads as records, and with them, in the same statement, the contacts,
        stages and assignees ``relations`` asks for (``_page_read``). Run on the session's
        connection, it answers rows, not ORM objects (``LeadRecord``). ``stmt`` gives its
        WHERE clause alone: the statements of leads narrow ``select()`` by nothing else (a
        test holds every filter to it)."""
        wanted = self.relations or PageRelations()
        asked = (wanted.contact, wanted.stage, wanted.assignee)
        found_by_relation: tuple[dict[Any, Any], ...] = (
            wanted.contacts,
            wanted.stages,
            wanted.members,
        )
        joined = [
            (record, found)
            for (record, _table, _key), on, found in zip(
                _RELATED.values(), asked, found_by_relation, strict=True
            )
            if on
        ]
        read = _page_read(asked)
        if stmt.whereclause is not None:
            read = read.where(stmt.whereclause)
        connection = await self.session.connection()
        result = await connection.execute(read.order_by(*order).limit(limit))
        leads: list[LeadRecord] = []
        width = len(LeadRecord._fields)
        for row in result:
            leads.append(LeadRecord._make(row[:width]))
            start = width
            for record, found in joined:
                end = start + len(record._fields)  # type: ignore[attr-defined]
                # Its id second, as in every record: None when the outer join found no row.
                row_id = row[start + 1]
                if row_id is not None and row_id not in found:
                    found[row_id] = record._make(row[start:end])  # type: ignore[attr-defined]
                start = end
        return leads

    async def count(self, stmt: Select[Lead]) -> int:
        """How many leads ``stmt`` reads: its WHERE clause on a count of the table, run on the
        session's connection, as ``read_records`` reads a page. A count of the filter's whole
        ORM statement, as a subquery, cost about a twentieth of the panel's page."""
        counted = _COUNT if stmt.whereclause is None else _COUNT.where(stmt.whereclause)
        connection = await self.session.connection()
        return int((await connection.execute(counted)).scalar_one())

    async def newest_records(self, stmt: Select[Lead], *, window: Window) -> Page[LeadRecord]:
        """One page of ``stmt`` as records, newest first (``newest_first``)."""
        return await newest_first(self.session, Lead, stmt, window=window, fetch=self.read_records)

    async def page(self, stmt: Select[Lead], sort: LeadSort, *, window: Window) -> Page[LeadRecord]:
        if sort is LeadSort.NEWEST:
            return await self.newest_records(stmt, window=window)
        return await self.unanswered_first(stmt, window=window)

    async def unanswered_first(self, stmt: Select[Lead], *, window: Window) -> Page[LeadRecord]:
        """One page of ``stmt``: the open leads nobody answered, newest first, then the others,
        newest first. Two keyset runs, each read from an index (ix_leads_waiting for the first);
        the cursor names its run, so a page that straddles them continues in the second."""
        if window.last is not None or window.before:
            raise ValidationFailed(
                "Unanswered-first pages forward only: use first and after.", field="last"
            )
        size = page_size(MAX_PAGE_SIZE if window.first is None else window.first)
        run, after = _split_run_cursor(window.after)
        rows: list[LeadRecord] = []
        has_next = False
        if run == _WAITING_RUN:
            waiting = await self.newest_records(
                stmt.where(WAITING), window=Window(first=size, after=after)
            )
            rows, has_next, after = list(waiting.rows), waiting.has_next, None
        if not has_next:
            # Asking for no rows still tells whether any follow.
            rest = await self.newest_records(
                stmt.where(not_(WAITING)), window=Window(first=size - len(rows), after=after)
            )
            rows += rest.rows
            has_next = rest.has_next
        return Page(
            rows=rows, has_next=has_next, has_previous=bool(window.after), encode=_run_cursor
        )

    async def open_ids_of_contact(self, contact_id: uuid.UUID) -> list[uuid.UUID]:
        return list(
            await self.session.scalars(
                select(Lead.id).where(
                    Lead.workspace_id == self.workspace_id,
                    Lead.contact_id == contact_id,
                    Lead.status == LeadStatus.OPEN,
                )
            )
        )

    async def of_contact(self, contact_id: uuid.UUID) -> list[Lead]:
        return list(await self.session.scalars(self.select().where(Lead.contact_id == contact_id)))

    async def next_event_sequence(self, lead_id: uuid.UUID) -> int:
        """Take the next webhook sequence number of a lead inside the caller's transaction."""
        result = await self.session.execute(
            update(Lead)
            .where(Lead.workspace_id == self.workspace_id, Lead.id == lead_id)
            .values(event_sequence=Lead.event_sequence + 1)
            .returning(Lead.event_sequence)
        )
        return int(result.scalar_one())

    async def refresh_first_response(self, lead_id: uuid.UUID) -> None:
        """Set when the lead was first answered, from its answers as they now stand.

        An answer is an activity of one of RESPONSE_KINDS by a member, or the lead's
        first-response task marked done. Run in the transaction that adds, completes, reopens
        or removes one, so the managers' report reads one column instead of both tables.
        """
        ws = self.workspace_id
        answers = union_all(
            select(Activity.created_at.label("at")).where(
                Activity.workspace_id == ws,
                Activity.lead_id == lead_id,
                Activity.author_id.is_not(None),
                Activity.kind.in_(RESPONSE_KINDS),
            ),
            select(Task.done_at).where(
                Task.workspace_id == ws,
                Task.lead_id == lead_id,
                Task.kind == TaskKind.FIRST_RESPONSE,
                Task.done_at.is_not(None),
                # Closed because the lead was won or lost: nobody answered.
                or_(Task.done_reason.is_(None), Task.done_reason != TaskDoneReason.LEAD_CLOSED),
            ),
        ).subquery("answers")
        await self.session.execute(
            update(Lead)
            .where(Lead.workspace_id == ws, Lead.id == lead_id)
            # An answer is not an edit of the lead: its updated_at stays.
            .values(
                first_response_at=select(func.min(answers.c.at)).scalar_subquery(),
                updated_at=Lead.updated_at,
            )
            # A lead loaded in this session keeps its attributes as they were, rather than
            # having them expired and lazily loaded later, which async sessions cannot do.
            .execution_options(synchronize_session=False)
        )

    def own_rows(self, stmt: Select[Lead], member_id: uuid.UUID) -> Select[Lead]:
        """A manager's leads: those assigned to them and the unassigned ones they may take."""
        return stmt.where(taken_by(member_id))

    def splits_text_search(self, spec: LeadSpec) -> bool:
        """Whether a page of ``spec`` is read as two searches (PostgreSQL, words searched):
        one in the lead's own text, one in its contact's. Apart, each lets the planner pick
        per query the trigram index (a rare word) or the newest-first index read until the page
        is full (a common one); joined by OR, neither can be used and the workspace is read."""
        return (
            bool(spec.search)
            and self.session.get_bind().dialect.name == "postgresql"
            and bool(parse_search(spec.search or "").text)
        )

    async def page_of_either(
        self, stmts: Sequence[Select[Lead]], sort: LeadSort, *, window: Window
    ) -> Page[LeadRecord]:
        """One page of the rows of any of ``stmts``, in ``sort``'s order: each gives its own
        page at the same cursor, and the page is the first of their rows together."""
        pages = [await self.page(stmt, sort, window=window) for stmt in stmts]
        unique = {row.id: row for page in pages for row in page.rows}
        rows = sorted(unique.values(), key=lambda row: (row.created_at, row.id), reverse=True)
        if sort is not LeadSort.NEWEST:
            rows.sort(key=lambda row: not _is_waiting(row))
        backward = window.last is not None
        if window.last is not None:
            size = page_size(window.last, "last")
        else:
            size = page_size(MAX_PAGE_SIZE if window.first is None else window.first)
        more = len(rows) > size
        kept = rows[-size:] if backward else rows[:size]
        return Page(
            rows=kept,
            has_next=any(page.has_next for page in pages) or (more and not backward),
            has_previous=any(page.has_previous for page in pages) or (more and backward),
            encode=pages[0].encode,
        )

    async def count_up_to_of_either(self, stmts: Sequence[Select[Lead]], limit: int) -> int:
        """How many rows any of ``stmts`` reads, counted no further than ``limit``: each half
        stops at ``limit`` ids, and their union is counted. Should either half reach the limit,
        so does the union; short of it, both halves are whole and the union is exact."""
        limit = count_limit(limit)
        either = union(*(up_to(stmt, Lead.id, limit) for stmt in stmts)).subquery()
        total = await self.session.scalar(select(func.count()).select_from(either))
        return min(int(total or 0), limit)

    def matching(
        self, spec: LeadSpec, kinds: dict[str, FieldType], *, text_in: str = "both"
    ) -> Select[Lead]:
        """The leads ``spec`` asks for; words searched are looked for in the lead's own text
        and its contact's (``text_in`` "both"), or in one of them ("lead", "contact")."""
        stmt = self.select()
        ws = self.workspace_id
        simple = {
            Lead.pipeline_id: spec.pipeline_id,
            Lead.stage_id: spec.stage_id,
            Lead.status: spec.status,
            Lead.site_id: spec.site_id,
            Lead.assignee_id: spec.assignee_id,
            Lead.contact_id: spec.contact_id,
            Lead.utm_source: spec.utm_source,
            Lead.utm_medium: spec.utm_medium,
            Lead.utm_campaign: spec.utm_campaign,
            Lead.channel: spec.channel,
            Lead.close_reason: spec.close_reason,
        }
        for column, wanted in simple.items():
            if wanted is not None:
                stmt = stmt.where(column == wanted)
        if spec.unassigned:
            stmt = stmt.where(Lead.assignee_id.is_(None))
        if spec.value_min is not None:
            stmt = stmt.where(Lead.value >= spec.value_min)
        if spec.value_max is not None:
            stmt = stmt.where(Lead.value <= spec.value_max)
        if spec.created_from is not None:
            stmt = stmt.where(Lead.created_at >= spec.created_from)
        if spec.created_to is not None:
            stmt = stmt.where(Lead.created_at < spec.created_to)
        for name in spec.tags:
            stmt = stmt.where(
                Lead.id.in_(
                    select(LeadTag.lead_id)
                    .join(
                        Tag,
                        and_(Tag.workspace_id == LeadTag.workspace_id, Tag.id == LeadTag.tag_id),
                    )
                    .where(LeadTag.workspace_id == ws, Tag.name_folded == name.casefold())
                )
            )
        for condition in spec.custom:
            stmt = stmt.where(custom_clause(Lead.custom_fields, condition, kinds[condition.key]))
        if spec.search:
            terms = parse_search(spec.search)
            contacts = select(Contact.id).where(Contact.workspace_id == ws)
            if terms.email:
                # Any of the person's e-mails, not only the primary one.
                stmt = stmt.where(
                    Lead.contact_id.in_(contact_ids_with_point(ws, PointKind.EMAIL, terms.email))
                )
            elif terms.phone_e164:
                stmt = stmt.where(
                    Lead.contact_id.in_(
                        contact_ids_with_point(ws, PointKind.PHONE, terms.phone_e164)
                    )
                )
            elif terms.text:
                pattern = searched_pattern(terms.text)
                own = Lead.search_text.like(pattern, escape="\\")
                of_contact = Lead.contact_id.in_(
                    contacts.where(Contact.search_text.like(pattern, escape="\\"))
                )
                found = {"lead": own, "contact": of_contact}.get(text_in, or_(own, of_contact))
                stmt = stmt.where(found)
        return stmt

    async def ids_at_stages(self, stage_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(Lead.id).where(
                Lead.workspace_id == self.workspace_id, Lead.stage_id.in_(list(stage_ids))
            )
        )
        return list(rows)

    async def by_import_keys(self, keys: Iterable[str]) -> dict[str, Lead]:
        wanted = list(set(keys))
        found: dict[str, Lead] = {}
        for start in range(0, len(wanted), 500):
            rows = await self.session.scalars(
                self.select().where(Lead.import_key.in_(wanted[start : start + 500]))
            )
            found.update({row.import_key: row for row in rows if row.import_key})
        return found

    async def batches(self, stmt: Select[Lead], size: int = 500) -> list[Lead]:
        """Every row of ``stmt``, read by keyset in batches (exports)."""
        out: list[Lead] = []
        after: str | None = None
        while True:
            page = await self.newest_first(
                stmt, window=Window(first=min(size, MAX_PAGE_SIZE), after=after)
            )
            out.extend(page.rows)
            if not page.has_next:
                return out
            after = page.end_cursor


class ActivityRepository(WorkspaceRepository[Activity]):
    model = Activity

    def own_rows(self, stmt: Select[Activity], member_id: uuid.UUID) -> Select[Activity]:
        """What a manager reads of a timeline: entries about the person alone, and those of
        the leads they see; another manager's lead of the same contact stays out."""
        return stmt.where(
            or_(
                Activity.lead_id.is_(None),
                Activity.lead_id.in_(own_lead_ids(self.workspace_id, member_id)),
            )
        )

    async def of_contact(self, contact_id: uuid.UUID) -> list[Activity]:
        stmt = self.select().where(Activity.contact_id == contact_id)
        return list(await self.session.scalars(stmt))

    async def erase_of_contact(self, contact_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(Activity).where(
                Activity.workspace_id == self.workspace_id, Activity.contact_id == contact_id
            )
        )

    def of(self, *, lead_id: uuid.UUID | None, contact_id: uuid.UUID | None) -> Select[Activity]:
        """The timeline of a lead, of a contact, or of both when both are given."""
        stmt = self.select()
        if lead_id is not None:
            stmt = stmt.where(Activity.lead_id == lead_id)
        if contact_id is not None:
            stmt = stmt.where(Activity.contact_id == contact_id)
        return stmt


class StageChangeRepository(WorkspaceRepository[LeadStageChange]):
    model = LeadStageChange

    async def erase_of_leads(self, lead_ids: Sequence[uuid.UUID]) -> None:
        await self.session.execute(
            delete(LeadStageChange).where(
                LeadStageChange.workspace_id == self.workspace_id,
                LeadStageChange.lead_id.in_(list(lead_ids)),
            )
        )

    async def of_lead(self, lead_id: uuid.UUID) -> list[LeadStageChange]:
        rows = await self.session.scalars(
            self.select()
            .where(LeadStageChange.lead_id == lead_id)
            .order_by(LeadStageChange.changed_at, LeadStageChange.id)
        )
        return list(rows)


class ItemRepository(WorkspaceRepository[LeadItem]):
    model = LeadItem

    async def of_leads(self, lead_ids: Sequence[uuid.UUID]) -> list[LeadItem]:
        rows = await self.session.scalars(
            self.select()
            .where(LeadItem.lead_id.in_(list(lead_ids)))
            .order_by(LeadItem.lead_id, LeadItem.position)
        )
        return list(rows)

    async def clear(self, lead_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(LeadItem).where(
                LeadItem.workspace_id == self.workspace_id, LeadItem.lead_id == lead_id
            )
        )


class AssignmentRuleRepository(WorkspaceRepository[AssignmentRule]):
    model = AssignmentRule

    async def ordered(self) -> list[AssignmentRule]:
        return list(await self.session.scalars(self.select().order_by(AssignmentRule.position)))

    async def replace_all(self, rules: Sequence[AssignmentRule]) -> None:
        for existing in await self.ordered():
            await self.session.delete(existing)
        await self.session.flush()
        for rule in rules:
            self.add(rule)

    async def next_round_robin_turn(self) -> int:
        """Advance the workspace's cursor atomically; concurrent leads get different turns."""
        result = await self.session.execute(
            update(AssignmentCursor)
            .where(AssignmentCursor.workspace_id == self.workspace_id)
            .values(counter=AssignmentCursor.counter + 1)
            .returning(AssignmentCursor.counter)
        )
        turn = result.scalar_one_or_none()
        if turn is None:
            self.session.add(AssignmentCursor(workspace_id=self.workspace_id, counter=1))
            await self.session.flush()
            turn = 1
        return int(turn)
