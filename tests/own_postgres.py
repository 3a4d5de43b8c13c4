"""PostgreSQL clusters and a PgBouncer of a test's own, in temporary directories.

The shared server is never reconfigured: a test that must stop a server, stream it to a replica
or put a pooler in front of it makes its own, on a free port, run by the `postgres` OS user when
the tests run as root (PostgreSQL and PgBouncer refuse root), and removes it afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from browser_support import free_port
from sqlalchemy.engine import URL, make_url

from conftest import SECRET, run_admin_sql
from embedcrm.config import Settings
from embedcrm.migrations import upgrade_to_head

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def require_postgres_tools(*programs: str) -> None:
    """Skip on SQLite (these tests are about PostgreSQL); on PostgreSQL the tools must be there
    (scripts/install-postgres-tools installs them), so a missing one fails instead of passing
    unnoticed."""
    if not os.environ.get("EMBEDCRM_TEST_DATABASE_URL"):
        pytest.skip("this test is about PostgreSQL; this run is on SQLite")
    missing = [program for program in programs if not Path(program).exists()]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run scripts/install-postgres-tools")
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _has_user("postgres")):
        pytest.fail("running as root needs runuser and a postgres user: PostgreSQL refuses root")


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def private_directory(prefix: str) -> Path:
    """A temporary directory the server's OS user owns (root's would be closed to it)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    return root


def as_server_user(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


class OwnPostgres:
    """A throwaway cluster: data directory, socket and log in one temporary directory."""

    def __init__(self) -> None:
        self.root = private_directory("embedcrm-pg-")
        self.data = self.root / "data"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/embedcrm"

    def _run(self, *command: str) -> None:
        subprocess.run(as_server_user(*command), check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )

    def init_as_replica_of(self, primary: OwnPostgres) -> None:
        """A streaming replica: a base backup of ``primary`` that follows its WAL (-R writes
        primary_conninfo and standby.signal)."""
        self._run(
            str(PG_BIN / "pg_basebackup"), "-D", str(self.data), "-h", "127.0.0.1",
            "-p", str(primary.port), "-U", "postgres", "-R", "-X", "stream", "--no-sync",
            "--checkpoint=fast",
        )  # fmt: skip

    def start(self, *, durable: bool = False) -> None:
        """Start it; fast and crash-unsafe unless ``durable``, which commits as production
        does (a replica then receives each commit as it is flushed, not up to 200 ms later)."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
            str(self.root / "log"), "-w", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast", *, wait: bool = True) -> None:
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode,
            "-w" if wait else "-W", "stop",
        )  # fmt: skip

    def create_migrated_database(self) -> None:
        """The database ``url`` names, made and migrated to the head."""
        run_admin_sql(make_url(self.url), "CREATE DATABASE embedcrm")
        upgrade_to_head(Settings(secret_keys=(SECRET,), database_url=self.url))

    async def connect(self, database: str = "embedcrm") -> asyncpg.Connection:
        return await asyncpg.connect(
            host="127.0.0.1", port=self.port, user="postgres", database=database
        )

    def remove(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def in_thread(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coroutine`` to its end on a loop of its own (from sync fixtures)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class OwnPgBouncer:
    """PgBouncer in transaction mode in front of a server: few server connections, so the
    clients' transactions take turns on them the way they do in production."""

    def __init__(self, server_port: int, *, user: str, server_connections: int = 3) -> None:
        self.root = private_directory("embedcrm-pgbouncer-")
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        config = self.root / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={server_port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.root / 'users.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {server_connections}\nmin_pool_size = 0\n"
            "max_client_conn = 500\n"
            # Only for the test that shows what goes wrong without the pooler setting: the app
            # then sends its timeouts at connect, which PgBouncer would otherwise refuse.
            "ignore_startup_parameters = idle_in_transaction_session_timeout,statement_timeout\n"
            # The statements clients prepared under their one-off names go when a server
            # connection is given back, so they do not pile up.
            "server_reset_query = DEALLOCATE ALL\nserver_reset_query_always = 1\n"
            f"logfile = {self.root / 'log'}\n"
        )
        # Trust, as the test server: the user need only be listed.
        (self.root / "users.txt").write_text(f'"{user}" ""\n')
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for each in (config, self.root / "users.txt"):
                os.chown(each, owner.pw_uid, owner.pw_gid)
        self.config = config

    def url(self, database_url: str) -> str:
        """``database_url`` (a server URL) with PgBouncer in the server's place."""
        return (
            make_url(database_url)
            .set(host="127.0.0.1", port=self.port)
            .render_as_string(hide_password=False)
        )

    async def start(self) -> None:
        self.process = subprocess.Popen(
            as_server_user(PGBOUNCER, str(self.config)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"pgbouncer exited: {self.log()}") from None
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return
        raise RuntimeError(f"pgbouncer never listened: {self.log()}")

    def log(self) -> str:
        path = self.root / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def remove(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def role_without_ownership(server: URL) -> Iterator[URL]:
    """A login role with the app's privileges on ``server``'s database and no ownership, as
    docs/operations.md ("Row-level security") has an operator create; the URL connects as it.
    Its name is unique, and it is dropped afterwards."""
    role = f"embedcrm_app_{uuid.uuid4().hex[:10]}"
    database = server.database or "postgres"
    run_admin_sql(server, f'CREATE ROLE "{role}" LOGIN')
    try:
        run_admin_sql(
            server,
            f'GRANT CONNECT ON DATABASE "{server.database}" TO "{role}"; '
            f'GRANT USAGE ON SCHEMA public TO "{role}"; '
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"; '
            f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
            database=database,
        )
        yield server.set(username=role, password=None)
    finally:
        # Its grants first (a role that holds privileges cannot be dropped), then the role.
        with contextlib.suppress(asyncpg.InvalidCatalogNameError):
            run_admin_sql(server, f'DROP OWNED BY "{role}"', database=database)
        run_admin_sql(server, f'DROP ROLE IF EXISTS "{role}"')
