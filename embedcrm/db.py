"""Engine and sessions for SQLite and PostgreSQL: one code path, the differences kept here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import json.scanner
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NewType

from sqlalchemy import (
    DateTime,
    MetaData,
    Text,
    cast,
    event,
    false,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import JSON, TypeDecorator
from sqlalchemy.util import await_

from embedcrm.config import Settings
from embedcrm.errors import ServiceUnavailable
from embedcrm.metrics import POOL_CHECKED_OUT, POOL_SIZE

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    """A UUIDv7: time-ordered, so new rows land at the right edge of their indexes."""
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10)) & ((1 << 74) - 1)
    value = (
        (unix_ms << 80)
        | (0x7 << 76)
        | ((rand >> 62) << 64)
        | (0b10 << 62)
        | (rand & ((1 << 62) - 1))
    )
    return uuid.UUID(int=value)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware in Python on both databases; SQLite keeps naive UTC text."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        # asyncpg hands a timestamptz back aware and in UTC already, which is all the
        # conversion above would make of it; without a processor no Python runs per value (a
        # page of 50 leads reads about 460 of them). Every column of this type is timestamptz
        # (tests/test_stored_datetimes.py).
        if dialect.driver == "asyncpg":
            return None
        return super().result_processor(dialect, coltype)


# The C scanner json.loads runs (typeshed has its argument as the pure-Python class).
_SCAN_JSON = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def decode_json(text: str) -> Any:
    """``json.loads`` of a document the database hands back, without its type checks and
    whitespace scans around the C scanner: a page reads about 300 small stored documents,
    and this takes half the time each (0.3-0.8 µs against 1.3-1.6). Whatever the scanner does
    not take whole (leading or trailing whitespace, bad JSON) goes to ``json.loads``, which
    answers or raises as usual."""
    try:
        value, end = _SCAN_JSON(text, 0)
    except StopIteration:
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


class JSONDocument(TypeDecorator[Any]):
    """JSONB on PostgreSQL, JSON text on SQLite."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


# A stored document as the database's text of it, for a list that may not show it: a page of
# 50 leads with their contacts holds 300 of them, and each costs a JSON decode when read as
# JSON, shown or not. ``parsed`` decodes it where it is shown.
DocumentText = NewType("DocumentText", str)


def as_text(column: Any) -> Any:
    """``column``, a ``JSONDocument``, read as its text (``DocumentText``): the database
    writes it out, and nothing decodes it until ``parsed``."""
    return cast(column, Text)


def parsed(document: Any) -> Any:
    """A document as its column holds it: decoded from a ``DocumentText``; as it is when the
    ORM already decoded it (or it is NULL). The columns read as text hold JSON objects, never
    a bare string (their services store dicts alone), so a ``str`` here is always the text."""
    return decode_json(document) if isinstance(document, str) else document


# Errors that mean "the database cannot be reached right now", as opposed to a bug.
_UNREACHABLE = (OSError, ConnectionError, asyncio.TimeoutError, TimeoutError)
# SQLSTATE classes of a server that is there but cannot serve: 08 connection exception, 53
# insufficient resources (too many connections), 57 operator intervention (starting up, shutting
# down, terminated by an administrator, statement timeout).
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")
# How long a caller should wait before trying again; the widget and clients read Retry-After.
RETRY_AFTER_SECONDS = 5


def is_database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, _UNREACHABLE):
        return True
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATE_CLASSES):
        return True
    orig = getattr(exc, "orig", None) or exc.__cause__
    return orig is not None and orig is not exc and is_database_unavailable(orig)


def unavailable(exc: BaseException) -> ServiceUnavailable:
    if isinstance(exc, PoolTimeout):
        message = "The service is busy: no database connection came free in time."
    else:
        message = "The database is unavailable."
    return ServiceUnavailable(message, retry_after=RETRY_AFTER_SECONDS)


class RequestConnection:
    """One pooled connection that every transaction of one request takes in turn.

    A GraphQL request resolves many fields at once; without this each would check out a
    connection of its own, and one nested query could hold most of the pool. Here the request
    holds at most one, checked out on its first transaction, and its transactions queue for it
    (DataLoaders still batch: a batch is one transaction). Once the database has failed for the
    request, the remaining fields fail at once instead of each waiting out the pool again.
    """

    def __init__(self, engine: AsyncEngine, *, one_transaction: bool = False) -> None:
        self.engine = engine
        self.turn = asyncio.Lock()
        self.connection: AsyncConnection | None = None
        self.failure: BaseException | None = None
        self.released = False
        # A query's reads share one transaction, committed when the request ends: a BEGIN and
        # a COMMIT per request rather than per statement (each a round trip and its Python),
        # and the page and its relations and count read from one snapshot.
        self.one_transaction = one_transaction
        # False once a transaction block was interrupted (cancelled): what it left open is
        # never committed.
        self.clean = True

    async def checkout(self) -> AsyncConnection:
        if self.failure is not None:
            raise unavailable(self.failure) from self.failure
        if self.connection is None or self.connection.closed or self.connection.invalidated:
            self.connection = await self.engine.connect()
        return self.connection

    async def release(self) -> None:
        """Give the connection back; shielded, so a cancelled request still returns it."""
        self.released = True
        await asyncio.shield(self._release())

    async def _release(self) -> None:
        # After the transaction that has the turn now, if any (a task the request started).
        async with self.turn:
            connection, self.connection = self.connection, None
            if (
                connection is not None
                and self.one_transaction
                and self.clean
                and self.failure is None
                and connection.in_transaction()
            ):
                try:
                    await connection.commit()
                except Exception:
                    await connection.invalidate()
        if connection is not None:
            await _close_or_discard(connection)


async def _close_or_discard(connection: AsyncConnection) -> None:
    try:
        if connection.in_transaction():
            # Only a cancelled transaction is left open here: its connection may be mid-query.
            await connection.invalidate()
        await connection.close()
    except Exception:
        await connection.invalidate()


_request_connection: ContextVar[RequestConnection | None] = ContextVar(
    "embedcrm_request_connection", default=None
)

_REPLAY_LAG_SQL = """
SELECT CASE
  WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
  ELSE greatest(0, extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()))
END
"""

# Row-level security (migration 0017): the policy on every workspace-owned table lets a
# transaction see the rows of the workspace this setting names, or of every workspace when it
# is "*". Unset, a role the policies bind sees nothing.
ROW_SECURITY_SETTING = "embedcrm.workspace_id"
ALL_WORKSPACES = "*"
# The workspace the transactions of this context are bound to. A panel member's request binds
# its own; everything else (platform keys, the public form routes, the worker, the dispatcher,
# the scheduled jobs, the CLI) works across workspaces by design and keeps "*".
_workspace_scope: ContextVar[str] = ContextVar("embedcrm_workspace_scope", default=ALL_WORKSPACES)


@contextlib.contextmanager
def bound_to_workspace(workspace_id: uuid.UUID) -> Iterator[None]:
    """Inside this block, row-level security shows this workspace's rows only."""
    token = _workspace_scope.set(str(workspace_id))
    try:
        yield
    finally:
        _workspace_scope.reset(token)


class Database:
    """The engine and its session factory. Services open short transactions through it."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        read_engine: AsyncEngine | None = None,
        row_security: bool = False,
        transaction_pooler: bool = False,
    ) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        # A streaming replica for reports and exports; without one they read the primary.
        self.read_engine = read_engine
        self.read_sessions = (
            async_sessionmaker(read_engine, expire_on_commit=False, autoflush=False)
            if read_engine is not None
            else None
        )
        self.row_security = row_security and engine.dialect.name == "postgresql"
        # Behind PgBouncer in transaction mode a session lasts one transaction: nothing can be
        # kept on a connection between statements.
        self.transaction_pooler = transaction_pooler
        self._statements: StatementConnection | None = None
        # Every StatementConnection handed out: dispose closes those their owners did not.
        self._kept: list[StatementConnection] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        read_engine = (
            create_engine(settings, settings.read_database_url)
            if settings.read_database_url
            else None
        )
        return cls(
            create_engine(settings),
            read_engine=read_engine,
            row_security=settings.database_row_security,
            transaction_pooler=settings.database_pooler == "pgbouncer",
        )

    def statements(self) -> StatementConnection | None:
        """The process's connection for frequent one-statement steps (``StatementConnection``),
        on PostgreSQL reached directly and without row security; None elsewhere, where such
        steps take ``transaction`` as any other."""
        if self._statements is None:
            self._statements = self.statement_connection()
        return self._statements

    def statement_connection(self) -> StatementConnection | None:
        """A ``StatementConnection`` of the caller's own, where one may be kept: for a loop
        whose statements must not queue behind the shared one's. ``dispose`` closes it."""
        if not self.keeps_connections:
            return None
        kept = StatementConnection(self.engine)
        self._kept.append(kept)
        return kept

    @property
    def keeps_connections(self) -> bool:
        """Whether a connection may be kept between statements: on PostgreSQL reached directly
        (behind PgBouncer a session lasts one transaction) and without row security (which
        binds each transaction to its workspace)."""
        return (
            self.dialect == "postgresql" and not self.row_security and not self.transaction_pooler
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def one_connection(
        self, *, one_transaction: bool = False
    ) -> AsyncIterator[RequestConnection]:
        """Inside this block (one request), every transaction shares one pooled connection;
        with ``one_transaction`` (a request that only reads) they are one transaction too,
        committed when the block ends. A transaction block that fails ends it (rolled back)
        and the next block begins another."""
        scope = RequestConnection(self.engine, one_transaction=one_transaction)
        token = _request_connection.set(scope)
        try:
            yield scope
        finally:
            _request_connection.reset(token)
            await scope.release()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        A database that cannot be reached surfaces as ``ServiceUnavailable`` so that every
        caller answers "retry later" instead of a traceback.
        """
        scope = _request_connection.get()
        if scope is not None and not scope.released:
            async with scope.turn:
                # Checked again with the turn: the request may have ended while this waited.
                if not scope.released:
                    async with self._shared(scope) as session:
                        yield session
                    return
        # No request around, or one that is over: a task started during a request (a queue's
        # consumer) inherits its context, and afterwards uses the pool like any other.
        async with self._pooled() as session:
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction for reports and exports: on the replica when there is one
        (its data are behind the primary's by the replay lag), else like ``transaction``."""
        if self.read_sessions is None:
            async with self.transaction() as session:
                yield session
            return
        async with self._pooled(self.read_sessions) as session:
            yield session

    async def read_lag_seconds(self) -> float:
        """How far the data ``reading`` sees are behind the primary: 0 without a replica, or
        when the replica has replayed all the WAL it received; otherwise the time since the
        last transaction it replayed was committed (the primary was writing meanwhile)."""
        if self.read_sessions is None:
            return 0.0
        async with self.reading() as session:
            lag = await session.scalar(text(_REPLAY_LAG_SQL))
        return float(lag or 0.0)

    @asynccontextmanager
    async def _pooled(
        self, sessions: async_sessionmaker[AsyncSession] | None = None
    ) -> AsyncIterator[AsyncSession]:
        try:
            async with (sessions or self.sessions)() as session, session.begin():
                await self._bind_row_security(session)
                yield session
        except Exception as exc:
            if is_database_unavailable(exc):
                raise unavailable(exc) from exc
            raise

    async def _bind_row_security(self, session: AsyncSession) -> None:
        """Name the workspace this transaction may see, for as long as it lasts (is_local)."""
        if self.row_security:
            await session.execute(
                select(func.set_config(ROW_SECURITY_SETTING, _workspace_scope.get(), True))
            )

    @asynccontextmanager
    async def _shared(self, scope: RequestConnection) -> AsyncIterator[AsyncSession]:
        # A transaction opened inside this one (rare) takes a pooled connection of its own
        # rather than wait for the turn this one holds.
        token = _request_connection.set(None)
        try:
            connection = await scope.checkout()
            if scope.one_transaction:
                async with self._joined(scope, connection) as session:
                    yield session
                return
            async with self.sessions(bind=connection) as session, session.begin():
                await self._bind_row_security(session)
                yield session
        except ServiceUnavailable:
            raise
        except Exception as exc:
            if is_database_unavailable(exc):
                scope.failure = scope.failure or exc
                raise unavailable(exc) from exc
            raise
        finally:
            _request_connection.reset(token)

    @asynccontextmanager
    async def _joined(
        self, scope: RequestConnection, connection: AsyncConnection
    ) -> AsyncIterator[AsyncSession]:
        """A session in the request's one transaction, begun by its first block. The session
        joins it (it neither begins nor commits it) and rolls it back on an error, as a
        transaction of its own would be; its rows are detached at the end, as they would be."""
        begun = not connection.in_transaction()
        if begun:
            await connection.begin()
        try:
            async with self.sessions(bind=connection) as session, session.begin():
                if begun:
                    await self._bind_row_security(session)
                yield session
                # What the block wrote is flushed now, as its own commit would: its errors
                # surface in the block that caused them, not when the request ends.
                await session.flush()
        except Exception:
            if connection.in_transaction():
                await connection.rollback()
            raise
        except BaseException:
            scope.clean = False
            raise

    async def dispose(self) -> None:
        for kept in self._kept:
            await kept.close()
        await self.engine.dispose()
        if self.read_engine is not None:
            await self.read_engine.dispose()


class StatementConnection:
    """One pooled connection kept in autocommit for a loop's frequent one-statement steps.

    A step through ``Database.transaction`` pays round trips around its statement: the pool's
    liveness check on checkout (``_ping_in_one_round_trip``), then BEGIN, and COMMIT after. A step that is one statement is atomic on its own; here it is prepared once and then
    sent alone. Statements take turns on the connection. A failure closes it, and the next
    statement takes a new one from the pool.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._connection: AsyncConnection | None = None
        self._turn = asyncio.Lock()

    async def execute(self, sql: str, parameters: tuple[Any, ...]) -> list[Any]:
        """Run ``sql`` (``$1``-style parameters) and return its rows, if it has any."""
        async with self._turn:
            try:
                if self._connection is None:
                    connection = await self.engine.connect()
                    self._connection = await connection.execution_options(
                        isolation_level="AUTOCOMMIT"
                    )
                result = await self._connection.exec_driver_sql(sql, parameters)
                return list(result.all()) if result.returns_rows else []
            except BaseException as exc:
                # Also when cancelled: the connection may be mid-statement.
                await self._discard()
                if isinstance(exc, Exception) and is_database_unavailable(exc):
                    raise unavailable(exc) from exc
                raise

    async def close(self) -> None:
        async with self._turn:
            await self._discard()

    async def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.invalidate()
                await connection.close()
            except Exception:
                log.debug("discarding a statement connection failed", exc_info=True)


def create_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    """The engine for ``settings`` (on ``url``, the primary's by default). Its errors never
    carry bound parameters (hide_parameters): a failed statement's values are visitors'
    e-mails and phones, and errors end up in logs."""
    engine = _create_engine(settings, url or settings.database_url)
    _count_pool_use(engine)
    return engine


def _count_pool_use(engine: AsyncEngine) -> None:
    """Keep the pool gauges of /metrics: connections checked out now, and the pool's size."""
    POOL_SIZE.set(engine.sync_engine.pool.size())  # type: ignore[attr-defined]

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(*_: Any) -> None:
        POOL_CHECKED_OUT.inc()

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(*_: Any) -> None:
        POOL_CHECKED_OUT.dec()


def _create_engine(settings: Settings, url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        keep_sqlite_files_private(url)
        # aiosqlite logs every call with its arguments at DEBUG: the bound parameters.
        logging.getLogger("aiosqlite").setLevel(max(logging.INFO, _AIOSQLITE_LOG.level))
        # Pooled: aiosqlite runs each connection on a thread of its own, and opening one per
        # transaction costs more than the query. WAL lets readers run beside the one writer.
        size = min(settings.db_pool_size, 5)
        engine = create_async_engine(
            url,
            # Error messages and logs never show parameters: they hold e-mails and phones.
            hide_parameters=True,
            pool_size=size,
            max_overflow=size,
            pool_timeout=settings.db_pool_timeout_seconds,
            pool_pre_ping=True,
            connect_args={"timeout": 30},
            json_deserializer=decode_json,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if settings.database_pooler == "pgbouncer":
        connect_args: dict[str, Any] = {
            "timeout": 5,
            # PgBouncer in transaction mode hands each transaction whichever server connection
            # is free: a statement prepared under asyncpg's counter name (__asyncpg_stmt_1__)
            # in one may meet another client's of the same name, or be missing, in the next.
            # Nothing is cached across transactions, and each statement gets a name no other
            # client will use (SQLAlchemy's asyncpg dialect, "Prepared Statement Name with
            # PGBouncer"); PgBouncer's server_reset_query drops them.
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": _unique_statement_name,
        }
    else:
        connect_args = {
            "timeout": 5,
            # Server-side backstops: a transaction left open by a lost client, or a statement
            # nobody waits for any more, ends on the server instead of holding locks and slots.
            # (PgBouncer refuses these startup parameters: behind it they are the role's.)
            "server_settings": {
                "idle_in_transaction_session_timeout": str(
                    int(settings.db_idle_in_transaction_timeout_seconds * 1000)
                ),
                "statement_timeout": str(int(settings.db_statement_timeout_seconds * 1000)),
            },
        }
    engine = create_async_engine(
        url,
        hide_parameters=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=connect_args,
        json_deserializer=decode_json,
    )
    engine.dialect.do_ping = _ping_in_one_round_trip  # type: ignore[method-assign]
    return engine


def _ping_in_one_round_trip(dbapi_connection: Any) -> bool:
    """The pool's check of a connection before each checkout (pool_pre_ping), as one simple
    query. SQLAlchemy's asyncpg ping prepares ``;`` inside a transaction of its own
    (BEGIN, the statement, ROLLBACK: three round trips, each with its Python, on every
    request); the transaction is there for PgBouncer, where a prepared statement must not
    outlive one. A simple query prepares nothing, and PgBouncer runs it as a transaction of
    its own. A dead connection fails it as it failed the other, and is replaced."""
    try:
        await_(dbapi_connection._connection.execute("SELECT 1"))
    except Exception as error:
        dbapi_connection._handle_exception(error)
    return True


def _unique_statement_name() -> str:
    return f"__embedcrm_{uuid.uuid4().hex}__"


_AIOSQLITE_LOG = logging.getLogger("aiosqlite")


def keep_sqlite_files_private(url: str) -> None:
    """Make the SQLite file (and its WAL and shared-memory files) readable by its owner only.

    It holds webhook secrets and visitors' data. SQLite gives the -wal and -shm files the mode
    of the database file, so creating that one 0600 before SQLite does is enough; files an
    older version made 0644 are narrowed too.
    """
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Never open an existing database here: closing any descriptor of the file would drop
        # the POSIX locks SQLite's own connections in this process hold on it.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    for each in (path, Path(f"{database}-wal"), Path(f"{database}-shm")):
        with contextlib.suppress(FileNotFoundError):
            if each.stat().st_mode & 0o077:
                each.chmod(0o600)


def insert_ignoring_conflicts(db: Database, table: Any, conflict_columns: list[str]) -> Any:
    """INSERT … ON CONFLICT (columns) DO NOTHING, in the dialect of ``db``."""
    if db.dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=conflict_columns)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing(index_elements=conflict_columns)


async def hold_sqlite_write_lock(session: AsyncSession, model: type[Base]) -> None:
    """On SQLite, take the database's write lock now and hold it to the end of the transaction.

    The driver begins a transaction only at the first write, so reads before it see whatever
    is committed at that moment and nothing stops another connection or process from writing
    in between; SQLite has no row locks, so ``FOR UPDATE`` is ignored. A write that matches no
    row still takes the lock (waiting up to the busy timeout), and the reads after it see every
    earlier commit. Elsewhere this does nothing: PostgreSQL has row and advisory locks.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    key = inspect(model).primary_key[0]
    await session.execute(update(model).where(false()).values({key.name: key}))
