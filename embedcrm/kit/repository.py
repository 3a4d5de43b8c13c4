"""The base of every repository: SQL lives in repositories, and each is bound to a workspace."""

from __future__ import annotations

import base64
import functools
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from embedcrm.errors import BadRequest, NotFound, ValidationFailed
from embedcrm.kit.grouping import grouped


class WorkspaceOwned(Protocol):
    workspace_id: Any
    id: Any
    created_at: Any


M = TypeVar("M", bound=WorkspaceOwned)
# A row of a page: an ORM object, or a record a list reads instead (``leads.models.LeadRecord``).
T = TypeVar("T")


class Dated(Protocol):
    """What a cursor of the newest-first order names."""

    @property
    def id(self) -> Any: ...

    @property
    def created_at(self) -> Any: ...


R = TypeVar("R", bound="WorkspaceRepository[Any]")


class Reader(Protocol):
    """Who reads: the platform reads every workspace, a panel member its own (auth.py)."""

    def can_read(self, workspace_id: uuid.UUID) -> bool: ...


class Viewer(Protocol):
    """Whose rows a statement is narrowed to: a MANAGER's own, or every row of the workspace
    (workspaces/access.py's Actor)."""

    @property
    def sees_only_own(self) -> uuid.UUID | None: ...


MAX_PAGE_SIZE = 100
# The most a bounded count (``totalCountUpTo``) may be asked to count to: past it a count is no
# longer cheap, and the exact ``totalCount`` is there for whoever needs every row counted.
MAX_COUNT_LIMIT = 100_000
# Stands in for an id the caller may not name (another workspace's, another manager's): it
# matches nothing, exactly like an unknown id.
NOWHERE = uuid.UUID(int=0)


def page_size(first: int, field: str = "first") -> int:
    """How many rows ``first`` (or ``last``) asks for: 0 gives an empty page, more than the
    maximum gives the maximum; a negative count is refused rather than read as one row."""
    if first < 0:
        raise ValidationFailed(f"{field} is 0 or more.", field=field)
    return min(first, MAX_PAGE_SIZE)


def count_limit(limit: int) -> int:
    """The cap a bounded count was asked for, refused rather than bent when out of range: 0
    or less counts nothing worth asking, more than the maximum is no longer cheap."""
    if limit < 1 or limit > MAX_COUNT_LIMIT:
        raise ValidationFailed(
            f"limit is from 1 to {MAX_COUNT_LIMIT}; totalCount counts every row.", field="limit"
        )
    return limit


def up_to(stmt: Select[Any], id_column: Any, limit: int) -> Select[Any]:
    """At most ``limit`` of the ids ``stmt`` reads, in no order: PostgreSQL (and SQLite)
    stop reading at the limit instead of visiting every match."""
    return stmt.order_by(None).with_only_columns(id_column).limit(limit)


def _beyond(
    columns: Sequence[Any], values: Sequence[Any], *, descending: bool
) -> ColumnElement[bool]:
    """Rows strictly past ``values`` in the order of ``columns``: the keyset condition, written
    out column by column (a < x OR (a = x AND b < y)) so that both databases use the index."""
    head, value = columns[0], values[0]
    past: ColumnElement[bool] = head < value if descending else head > value
    if len(columns) == 1:
        return past
    return or_(past, and_(head == value, _beyond(columns[1:], values[1:], descending=descending)))


@dataclass(frozen=True)
class Window:
    """Which page of a list a caller asks for (Relay): the ``first`` rows after the cursor
    ``after``, or, when ``last`` is given, the ``last`` rows before ``before`` (``first`` is
    then ignored). No count at all reads the most a page holds."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


# How a page's rows are read: the statement, its order and how many rows at most.
PageFetch = Callable[[Select[Any], Sequence[ColumnElement[Any]], int], Awaitable[Sequence[Any]]]


async def read_in_order(
    session: AsyncSession, stmt: Select[Any], order: Sequence[ColumnElement[Any]], limit: int
) -> Sequence[Any]:
    """The first ``limit`` rows of ``stmt`` in ``order``."""
    return list(await session.scalars(stmt.order_by(*order).limit(limit)))


async def keyset_page(
    session: AsyncSession,
    stmt: Select[Any],
    columns: Sequence[Any],
    *,
    descending: bool,
    window: Window,
    decode: Callable[[str, str], Sequence[Any]],
    encode: Callable[[Any], str],
    fetch: PageFetch | None = None,
) -> Page[Any]:
    """One page of ``stmt`` in the order of ``columns``, by keyset both ways (Relay).

    One extra row tells whether more lie in the direction read; in the other direction a
    cursor given means the row it names lies there. ``fetch`` reads the rows (a repository's
    ``read_page``); by default the statement's own entity, in order.
    """
    read = fetch or functools.partial(read_in_order, session)
    first, after, last, before = window.first, window.after, window.last, window.before
    if after:
        stmt = stmt.where(_beyond(columns, decode(after, "after"), descending=descending))
    if before:
        stmt = stmt.where(_beyond(columns, decode(before, "before"), descending=not descending))
    if last is not None:
        size = page_size(last, "last")
        order = [column.asc() if descending else column.desc() for column in columns]
        rows = list(await read(stmt, order, size + 1))
        return Page(
            rows=rows[:size][::-1],
            has_next=bool(before),
            has_previous=len(rows) > size,
            encode=encode,
        )
    size = page_size(MAX_PAGE_SIZE if first is None else first)
    order = [column.desc() if descending else column.asc() for column in columns]
    rows = list(await read(stmt, order, size + 1))
    return Page(
        rows=rows[:size], has_next=len(rows) > size, has_previous=bool(after), encode=encode
    )


_ROWS_BY_ID: dict[tuple[type[Any], bool], Select[Any]] = {}


def _rows_by_id(model: type[Any], postgresql: bool) -> Select[Any]:
    """``select()`` of the rows with the given ids (``workspace_id`` and ``ids`` bound when it
    runs), built once per table: the loaders behind every list run it on each page, and
    building it each time, with an ``IN`` of one parameter per id expanded at each run, cost
    half as much again as the rest of the read. PostgreSQL takes the ids as one array (one
    prepared statement whatever their number); SQLite, which has no arrays, an expanded IN."""
    built = _ROWS_BY_ID.get((model, postgresql))
    if built is None:
        stmt = select(model).where(model.workspace_id == bindparam("workspace_id"))
        built = stmt.where(
            model.id == any_(bindparam("ids", type_=ARRAY(model.id.type)))
            if postgresql
            else model.id.in_(bindparam("ids", expanding=True))
        )
        _ROWS_BY_ID[(model, postgresql)] = built
    return built


class WorkspaceRepository(Generic[M]):
    """Every query starts from ``select()``, which already filters by the workspace.

    Forgetting the tenant filter is then impossible rather than caught in review.
    """

    model: ClassVar[type[Any]]

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    @classmethod
    def for_reader(
        cls: type[R],
        session: AsyncSession,
        reader: Reader,
        workspace_id: uuid.UUID,
        *,
        field: str = "id",
    ) -> R:
        """The repository of ``workspace_id`` as ``reader`` may read it: every statement it
        makes is then readable. Another workspace answers like a missing object."""
        if not reader.can_read(workspace_id):
            raise NotFound("Nothing has this id.", field=field)
        return cls(session, workspace_id)

    def select(self) -> Select[M]:
        return select(self.model).where(self.model.workspace_id == self.workspace_id)

    def readable(self, viewer: Viewer, stmt: Select[M] | None = None) -> Select[M]:
        """``stmt`` (every row of the workspace by default) narrowed to what ``viewer`` may
        read. The one place where rows are scoped by role: every read a MANAGER makes, of a
        list, a count, an export or one row by its id, goes through it."""
        stmt = self.select() if stmt is None else stmt
        member_id = viewer.sees_only_own
        return stmt if member_id is None else self.own_rows(stmt, member_id)

    def own_rows(self, stmt: Select[M], member_id: uuid.UUID) -> Select[M]:
        """The rows of ``stmt`` that belong to ``member_id``; rows nobody owns (pipelines,
        fields, segments) are everybody's, and a repository of owned rows narrows them."""
        return stmt

    async def get_readable(self, viewer: Viewer, row_id: uuid.UUID) -> M | None:
        stmt = self.readable(viewer).where(self.model.id == row_id)
        return (await self.session.scalars(stmt)).first()

    async def move_contact(self, source: uuid.UUID, target: uuid.UUID) -> list[str]:
        """Point the rows of contact ``source`` at ``target`` (a merge); answers their ids, which
        the merge keeps so that its undo can give them back with ``set_contact``."""
        model = self.model
        ids = list(
            await self.session.scalars(
                select(model.id).where(
                    model.workspace_id == self.workspace_id, model.contact_id == source
                )
            )
        )
        await self.set_contact(ids, target)
        return [str(i) for i in ids]

    async def set_contact(self, ids: Sequence[uuid.UUID], contact_id: uuid.UUID) -> None:
        if ids:
            model = self.model
            await self.session.execute(
                update(model)
                .where(model.workspace_id == self.workspace_id, model.id.in_(list(ids)))
                .values(contact_id=contact_id)
            )

    def add(self, row: M) -> M:
        row.workspace_id = self.workspace_id
        self.session.add(row)
        return row

    async def get(self, row_id: uuid.UUID) -> M | None:
        result = await self.session.scalars(self.select().where(self.model.id == row_id))
        return result.first()

    async def get_many(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, M]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        postgresql = self.session.get_bind().dialect.name == "postgresql"
        rows = await self.session.scalars(
            _rows_by_id(self.model, postgresql), {"workspace_id": self.workspace_id, "ids": wanted}
        )
        return {row.id: row for row in rows}

    async def count(self, stmt: Select[M]) -> int:
        total = await self.session.scalar(
            select(func.count()).select_from(stmt.order_by(None).subquery())
        )
        return int(total or 0)

    async def count_up_to(self, stmt: Select[M], limit: int) -> int:
        """How many rows ``stmt`` reads, counted no further than ``limit`` (a LIMITed
        subquery): ``limit`` itself means at least that many."""
        total = await self.session.scalar(
            select(func.count()).select_from(
                up_to(stmt, self.model.id, count_limit(limit)).subquery()
            )
        )
        return int(total or 0)

    async def first_page_per(
        self,
        stmt: Select[M],
        key: InstrumentedAttribute[Any],
        keys: Sequence[Any],
        size: int,
    ) -> dict[Any, Page[M]]:
        """The first page, newest first, of the rows of ``stmt`` whose ``key`` column holds
        each of ``keys`` (the leads of each contact on a list): one statement for all of them,
        so a list of parents costs no query per parent. A row number within each key keeps
        every page to ``size`` rows and the one more that says whether others follow."""
        model = self.model
        rank = (
            func.row_number()
            .over(partition_by=key, order_by=(model.created_at.desc(), model.id.desc()))
            .label("page_rank")
        )
        ranked = stmt.where(key.in_(keys)).add_columns(rank).subquery()
        row = aliased(model, ranked)
        found = await self.session.scalars(
            select(row).where(ranked.c.page_rank <= size + 1).order_by(ranked.c.page_rank)
        )
        per_key = grouped(keys, found, attrgetter(key.key))
        return {k: Page(rows=rows[:size], has_next=len(rows) > size) for k, rows in per_key.items()}

    async def count_per(
        self, stmt: Select[M], key: InstrumentedAttribute[Any], keys: Sequence[Any]
    ) -> dict[Any, int]:
        """How many rows of ``stmt`` each of ``keys`` has, in one statement."""
        counted = stmt.where(key.in_(keys)).subquery()
        column = counted.c[key.key]
        result = await self.session.execute(select(column, func.count()).group_by(column))
        counts = dict.fromkeys(keys, 0)
        counts.update({k: int(n) for k, n in result})
        return counts

    async def newest_first(
        self,
        stmt: Select[M],
        *,
        window: Window,
    ) -> Page[M]:
        """One page of ``stmt``, newest first, by keyset on (created_at, id) either way."""
        return await newest_first(
            self.session, self.model, stmt, window=window, fetch=self.read_page
        )

    async def read_page(
        self, stmt: Select[M], order: Sequence[ColumnElement[Any]], limit: int
    ) -> Sequence[M]:
        """The rows of one page of a list (``keyset_page``): a repository that can read what
        its rows name along with them, in the same statement, does it here."""
        return await read_in_order(self.session, stmt, order, limit)


async def newest_first(
    session: AsyncSession,
    model: type[Any],
    stmt: Select[Any],
    *,
    window: Window,
    fetch: PageFetch | None = None,
) -> Page[Any]:
    """One page of ``stmt``, newest first, by keyset on ``model``'s (created_at, id)."""
    columns: tuple[InstrumentedAttribute[Any], ...] = (model.created_at, model.id)
    return await keyset_page(
        session,
        stmt,
        columns,
        descending=True,
        window=window,
        decode=decode_cursor,
        encode=encode_cursor,
        fetch=fetch,
    )


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: Sequence[T]
    has_next: bool
    has_previous: bool = False
    # How a row of this page becomes its cursor (created_at and id, unless the order differs).
    encode: Callable[[Any], str] = field(default=lambda row: encode_cursor(row))

    def cursor(self, row: T) -> str:
        return self.encode(row)

    @property
    def start_cursor(self) -> str | None:
        return self.encode(self.rows[0]) if self.rows else None

    @property
    def end_cursor(self) -> str | None:
        return self.encode(self.rows[-1]) if self.rows else None


def earliest(*moments: Any) -> datetime | None:
    """The earliest of some aggregated moments, None among them ignored. SQLite returns
    aggregates as text, without the column's type conversion: they are read back here."""
    parsed = [
        m if isinstance(m, datetime) else datetime.fromisoformat(str(m))
        for m in moments
        if m is not None
    ]
    if not parsed:
        return None
    return min(p if p.tzinfo else p.replace(tzinfo=UTC) for p in parsed)


def encode_cursor(row: Dated) -> str:
    raw = f"{row.created_at.isoformat()}|{row.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, field: str = "after") -> tuple[datetime, uuid.UUID]:
    try:
        created, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created), uuid.UUID(row_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The cursor is not valid.", field=field) from exc


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def searched_pattern(text: str) -> BindParameter[str]:
    """``like_pattern`` of words searched, written into the statement rather than bound: a
    prepared statement run a few times gets one generic plan for every pattern, priced as if any
    could match, which passes the trigram index by. Inline, each search is planned for what it
    is (rare words from the index, common ones by reading newest first until a page is full).
    SQLAlchemy quotes the value, as for the lists it renders inline."""
    return bindparam(None, like_pattern(text), type_=Text, literal_execute=True)
