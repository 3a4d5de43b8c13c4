"""The embedcrm command: serve | worker | migrate | import-csv | platform-key create/list/revoke/rotate."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import logging
import os
import sys
import tempfile
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from embedcrm.config import Settings
from embedcrm.db import is_database_unavailable, utcnow
from embedcrm.errors import ConfigurationError, NotFound, ValidationFailed
from embedcrm.logs import configure_logging
from embedcrm.migrations import is_up_to_date, upgrade_to_head
from embedcrm.services import Services
from embedcrm.workspaces.models import PlatformKey
from embedcrm.workspaces.service import DEFAULT_ROTATION_OVERLAP

log = logging.getLogger("embedcrm")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="embedcrm", description="The embeddable CRM.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-dispatcher", action="store_true", help="leave webhooks to `worker`")
    serve.add_argument(
        "--no-jobs", action="store_true", help="leave scheduled jobs (overdue tasks…) to `worker`"
    )
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes sharing the port (each with its dispatcher and jobs unless turned off)",
    )
    commands.add_parser("worker", help="run the webhook dispatcher and scheduled jobs")
    commands.add_parser("migrate", help="apply database migrations")
    imports = commands.add_parser(
        "import-csv", help="import contacts or leads from a CSV file, with a dry run first"
    )
    imports.add_argument("file", help="the CSV file (encoding and delimiter are detected)")
    imports.add_argument("--workspace", required=True, help="the workspace's externalId or id")
    imports.add_argument("--entity", choices=["leads", "contacts"], default="leads")
    imports.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="map a column to a field (or to 'skip'); the suggested mapping fills the rest",
    )
    imports.add_argument("--commit", action="store_true", help="write; without it, a dry run")
    imports.add_argument(
        "--skip-invalid", action="store_true", help="import the valid rows when some are not"
    )
    keys = commands.add_parser("platform-key", help="manage platform API keys")
    key_commands = keys.add_subparsers(dest="key_command", required=True)
    create = key_commands.add_parser("create", help="create a key; printed alone on the last line")
    create.add_argument("--name", required=True)
    key_commands.add_parser("list", help="list keys: id, name, prefix, state (never secrets)")
    revoke = key_commands.add_parser("revoke", help="revoke a key; it stops working")
    revoke.add_argument("id", help="the key's id, as `platform-key list` shows it")
    rotate = key_commands.add_parser(
        "rotate", help="issue a new key under the same name; the old one works until --overlap ends"
    )
    rotate.add_argument("id", help="the id of the key to replace")
    rotate.add_argument(
        "--overlap-hours",
        type=float,
        default=DEFAULT_ROTATION_OVERLAP.total_seconds() / 3600,
        help="how long the old key keeps working (default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Before the settings, so that an error reading them is logged in the chosen format.
    configure_logging(os.environ.get("EMBEDCRM_LOG_FORMAT"), os.environ.get("EMBEDCRM_LOG_LEVEL"))
    try:
        settings = Settings.from_env()
        if args.command == "migrate":
            upgrade_to_head(settings)
            print("database is up to date")
            return 0
        _ensure_schema(settings)
        if args.command == "serve":
            return _serve(
                settings,
                host=args.host,
                port=args.port,
                dispatcher=not args.no_dispatcher,
                jobs=not args.no_jobs,
                access_log=args.access_log,
                workers=args.workers,
            )
        if args.command == "worker":
            from embedcrm.worker import run_worker

            prepare_heap()
            asyncio.run(run_worker(settings))
            return 0
        if args.command == "import-csv":
            from embedcrm.cli_import import import_csv

            raw = Path(args.file).read_bytes()
            return asyncio.run(import_csv(settings, args, raw))
        if args.command == "platform-key":
            return asyncio.run(_platform_key(settings, args))
    except ConfigurationError as exc:
        print(f"embedcrm: {exc.message}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not is_database_unavailable(exc):
            raise
        print(
            f"embedcrm: the database is unavailable or refused the operation: {exc}",
            file=sys.stderr,
        )
        return 3
    return 1


def _ensure_schema(settings: Settings) -> None:
    """SQLite migrates itself; a server database is migrated on purpose, by `embedcrm migrate`."""
    if settings.is_sqlite:
        upgrade_to_head(settings)
    elif not is_up_to_date(settings):
        raise ConfigurationError("The database is not migrated: run `embedcrm migrate` first.")


async def _platform_key(settings: Settings, args: argparse.Namespace) -> int:
    services = Services.create(settings)
    keys = services.workspaces
    try:
        if args.key_command == "create":
            key = await keys.create_platform_key(args.name)
            print(f"created platform key {args.name!r}; keep it secret, it is shown once:")
            print(key)
            return 0
        if args.key_command == "list":
            print("\t".join(("id", "name", "prefix", "created", "state")))
            now = utcnow()
            for row in await keys.list_platform_keys():
                print(
                    "\t".join(
                        (
                            str(row.id),
                            row.name,
                            row.prefix,
                            _moment(row.created_at),
                            _state(row, now),
                        )
                    )
                )
            return 0
        try:
            key_id = uuid.UUID(args.id)
        except ValueError:
            print(
                f"embedcrm: {args.id!r} is not a key id (see `platform-key list`)", file=sys.stderr
            )
            return 2
        try:
            if args.key_command == "revoke":
                revoked = await keys.revoke_platform_key(key_id)
                print(f"revoked platform key {revoked.id} ({revoked.name!r})")
                return 0
            rotated = await keys.rotate_platform_key(key_id, timedelta(hours=args.overlap_hours))
        except (NotFound, ValidationFailed) as exc:
            print(f"embedcrm: {exc.message}", file=sys.stderr)
            return 1
        assert rotated.old_key.expires_at is not None
        print(
            f"rotated platform key {rotated.old_key.id}: it works until "
            f"{_moment(rotated.old_key.expires_at)}; the new key {rotated.new_key.id} "
            "is shown once:"
        )
        print(rotated.key)
        return 0
    finally:
        await services.db.dispose()


def _moment(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _state(key: PlatformKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return f"revoked {_moment(key.revoked_at)}"
    if key.expires_at is not None:
        verb = "expires" if key.expires_at > now else "expired"
        return f"{verb} {_moment(key.expires_at)}"
    return "active"


def _serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    dispatcher: bool = True,
    jobs: bool = True,
    access_log: bool = False,
    workers: int = 1,
) -> int:
    import uvicorn

    if not os.environ.get("EMBEDCRM_PUBLIC_URL"):
        # The snippet must point where this process answers, not at the default port.
        reachable = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104
        if ":" in reachable:
            reachable = f"[{reachable}]"
        settings = dataclasses.replace(settings, public_url=f"http://{reachable}:{port}")
        log.info(
            "EMBEDCRM_PUBLIC_URL is not set: the widget snippet points at %s", settings.public_url
        )
    options = {"public_url": settings.public_url, "dispatcher": dispatcher, "jobs": jobs}
    multiprocess_dir: tempfile.TemporaryDirectory[str] | None = None
    if workers > 1:
        # Each worker process builds its app from these; they share the port and the database.
        os.environ[_SERVE_OPTIONS] = json.dumps(options)
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # /metrics in any of them then answers for all of them (embedcrm/metrics.py).
            multiprocess_dir = tempfile.TemporaryDirectory(prefix="embedcrm-metrics-")
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiprocess_dir.name
        app: Any = "embedcrm.cli:app_of_serve_worker"
    else:
        app = _app(settings, options)
    try:
        _run_uvicorn(uvicorn, app, host=host, port=port, workers=workers, access_log=access_log)
    finally:
        if multiprocess_dir is not None:
            multiprocess_dir.cleanup()
    return 0


_SERVE_OPTIONS = "EMBEDCRM_SERVE_OPTIONS"


def _app(settings: Settings, options: dict[str, Any]) -> Any:
    from embedcrm.app import create_app

    settings = dataclasses.replace(settings, public_url=options["public_url"])
    app = create_app(settings, run_background=options["dispatcher"], run_jobs=options["jobs"])
    prepare_heap()
    return app


def prepare_heap() -> None:
    """Ready a long-running process (``serve``'s app processes, ``worker``) for its work.

    Take what startup built (modules, the GraphQL schema, the ORM's mappers: objects that live
    as long as the process) out of the garbage collector's sight, so that its full collections,
    which the work triggers by allocating, no longer walk them: a page of 50 leads with their
    relations took about a third less CPU (bench/graphql.py).

    Then let the youngest generation grow to 50 000 objects before it is collected, rather than
    700. Each collection walks every young object the work in flight still holds and promotes
    the survivors, whose older generations then cost more to collect: at 700 a page of 50 leads
    ran the collector three times and spent about a tenth of its CPU there, and the worker
    spent about 0.3 ms a lead (bench/capture.py). What cycles are left wait a little longer to
    be freed: a few megabytes at most."""
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, 20, 10)


# The collector's first threshold in a long-running process (``prepare_heap``).
YOUNG_GENERATION_THRESHOLD = 50_000


def app_of_serve_worker() -> Any:
    """The app of one process of `serve --workers N` (uvicorn imports and calls this)."""
    configure_logging(os.environ.get("EMBEDCRM_LOG_FORMAT"), os.environ.get("EMBEDCRM_LOG_LEVEL"))
    return _app(Settings.from_env(), json.loads(os.environ[_SERVE_OPTIONS]))


def server_stack() -> dict[str, str]:
    """uvicorn's event loop and HTTP parser: uvloop and httptools (uvicorn[standard], a
    dependency), which take about a quarter less CPU per request than asyncio and h11. Named
    outright, not left to uvicorn's "auto", so that an install missing them fails to start
    instead of serving quietly slower; where uvloop does not exist (Windows) asyncio is used."""
    return {"loop": "asyncio" if sys.platform == "win32" else "uvloop", "http": "httptools"}


def _run_uvicorn(
    uvicorn: Any, app: Any, *, host: str, port: int, workers: int, access_log: bool
) -> None:
    stack = server_stack()
    log.info("serving with the %s event loop and the %s HTTP parser", stack["loop"], stack["http"])
    uvicorn.run(
        app,
        **stack,
        factory=workers > 1,
        workers=workers if workers > 1 else None,
        # On SIGTERM: stop accepting, let requests in flight finish for this long, then run the
        # shutdown (the dispatcher hands back its leases, queued submissions are processed or
        # left to the worker's retry).
        timeout_graceful_shutdown=30,
        host=host,
        port=port,
        proxy_headers=False,
        # The root logger, configured by configure_logging, formats uvicorn's lines too.
        log_config=None,
        log_level=os.environ.get("EMBEDCRM_LOG_LEVEL", "info").lower(),
        # One log line per request costs as much CPU as accepting a submission.
        access_log=access_log,
    )
