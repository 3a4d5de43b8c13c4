"""Settings, built once from the environment and passed in: nothing here is global."""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from embedcrm.errors import ConfigurationError

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./embedcrm.db"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
# What may stand between the app and PostgreSQL: nothing, or PgBouncer in transaction mode.
POOLERS = ("", "pgbouncer")
# The operations the panel and the documented host calls send (schema/operations/*.graphql).
DEFAULT_PERSISTED_OPERATIONS = str(Path(__file__).resolve().parents[1] / "schema" / "operations")


@dataclass(frozen=True)
class Settings:
    """Everything embedcrm reads from its environment, resolved once at start-up."""

    secret_keys: tuple[str, ...]
    database_url: str = DEFAULT_DATABASE_URL
    public_url: str = DEFAULT_PUBLIC_URL
    webhook_allowed_networks: str = ""
    redis_url: str | None = None
    # Proxies (IPs/CIDRs, comma-separated) whose X-Forwarded-For / Forwarded name the visitor.
    forwarded_allow_ips: str = ""
    graphiql: bool = False
    # Production may run only the operations of this directory (EMBEDCRM_PERSISTED_ONLY), by
    # their SHA-256 or in full; otherwise any operation, and any hash a client registers.
    persisted_only: bool = False
    persisted_operations: str = DEFAULT_PERSISTED_OPERATIONS
    # Largest accepted body on the public submission route; checked before buffering.
    max_submission_bytes: int = 16 * 1024
    max_graphql_bytes: int = 256 * 1024
    panel_token_max_ttl_seconds: int = 24 * 3600
    graphql_max_depth: int = 10
    graphql_max_tokens: int = 2000
    graphql_max_aliases: int = 15
    # Rows a query may ask for: each `first` counts, times the `first` of every connection it
    # sits in (leads(first: 100) { contact { timeline(first: 20) } } costs 100 + 100 × 20).
    graphql_max_cost: int = 1000
    # GraphQL requests one credential may have running at once; more answer 429 at once.
    graphql_concurrency_per_panel_token: int = 4
    graphql_concurrency_per_platform_key: int = 16
    # Pool: connections kept (and as many again on demand), and how long a request waits for
    # one before it answers 503 with Retry-After.
    db_pool_size: int = 10
    db_pool_timeout_seconds: float = 5.0
    # PostgreSQL ends a statement running longer, and a session idle inside a transaction.
    db_statement_timeout_seconds: float = 30.0
    db_idle_in_transaction_timeout_seconds: float = 10.0
    # "pgbouncer": the URL names a PgBouncer in transaction mode, so no statement is prepared
    # under a name another client could meet on the same server connection, and no session
    # setting is sent at connect (the timeouts above are then the role's: ALTER ROLE … SET).
    database_pooler: str = ""
    # Reports and exports read from this server (a streaming replica) when it is set.
    read_database_url: str | None = None
    # The app's role is not the tables' owner and row-level security binds it: every
    # transaction names the workspace it may see (docs/operations.md, "Row-level security").
    database_row_security: bool = False
    # Webhook delivery: how long a receiver has to answer, how long a claimed delivery stays
    # leased to its worker (longer than the timeout, so a live worker never loses it), how many
    # requests one dispatcher keeps in flight, and how many of them may go to one endpoint.
    webhook_timeout_seconds: float = 15.0
    webhook_lease_seconds: float = 60.0
    webhook_concurrency: int = 8
    webhook_endpoint_concurrency: int = 4
    webhook_poll_seconds: float = 0.05
    # The built-in e-mail channel (smtp://user:password@host:587, smtps://host:465); without it
    # e-mails go to the host's gateway as `message.requested`. The sender defaults to
    # noreply@ the public URL's host.
    smtp_url: str | None = None
    smtp_from: str | None = None
    # Public form route: limits in the `limits` notation, ";" between several.
    rate_limit_per_visitor: str = "10/minute;2/second"
    rate_limit_per_site: str = "600/minute"
    # Form views and starts (analytics beacons) of one visitor address per site; past it they
    # are answered 429 and not counted, so one address cannot inflate a form's views.
    rate_limit_events_per_visitor: str = "30/minute;200/hour"
    # A form sent sooner than this after it was shown is a bot's.
    min_fill_seconds: float = 2.0
    form_token_max_age_seconds: int = 2 * 3600
    # Submissions one form token vouches for over its life (0: no bound). A page keeps one
    # token: a visitor may send a few forms from it (a callback, then an order; a form sent
    # again after a correction; the widget's retries), never dozens. Past the bound submissions
    # are kept in quarantine, so a token copied out of a page cannot vouch for a flood.
    form_token_max_uses: int = 10
    # Turn submissions into leads in this process right after answering; when off, only
    # `embedcrm worker` does it (app processes then do nothing but accept).
    process_submissions_inline: bool = True
    # Origins (scheme://host[:port]) whose pages may call /graphql and the panel's stream from
    # a browser with a bearer token; empty: any origin. Never with cookies, so a page that
    # holds no token gains nothing from being allowed.
    panel_origins: tuple[str, ...] = ()
    # Serve Prometheus metrics at /metrics, to clients from these addresses only (the client
    # as ForwardedClient resolved it, so a visitor behind a trusted proxy is never let in).
    metrics: bool = False
    metrics_allow_ips: str = "127.0.0.1,::1"
    # One JSON object per log line ("json") or the plain text format ("text").
    log_format: str = "text"
    # Where a YooKassa notification's payment is fetched back from to be believed.
    yookassa_api_url: str = "https://api.yookassa.ru/v3"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the EMBEDCRM_* variables of docs/contract.md (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        database_url = env.get("EMBEDCRM_DATABASE_URL") or DEFAULT_DATABASE_URL
        keys = tuple(k.strip() for k in env.get("EMBEDCRM_SECRET_KEYS", "").split(",") if k.strip())
        forwarded_allow_ips = env.get("EMBEDCRM_FORWARDED_ALLOW_IPS", "")
        for part in filter(None, (p.strip() for p in forwarded_allow_ips.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError as exc:
                raise ConfigurationError(
                    f"EMBEDCRM_FORWARDED_ALLOW_IPS: {part!r} is not an IP address or CIDR."
                ) from exc
        if not keys:
            keys = (_dev_secret_beside_database(database_url),)
        pooler = env.get("EMBEDCRM_DATABASE_POOLER", "").strip().lower()
        if pooler not in POOLERS:
            raise ConfigurationError(
                f"EMBEDCRM_DATABASE_POOLER: {pooler!r} is not one of {', '.join(POOLERS[1:])}."
            )
        return cls(
            secret_keys=keys,
            database_url=database_url,
            database_pooler=pooler,
            read_database_url=env.get("EMBEDCRM_READ_DATABASE_URL") or None,
            database_row_security=_flag(env.get("EMBEDCRM_DATABASE_ROW_SECURITY")),
            public_url=(env.get("EMBEDCRM_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/"),
            webhook_allowed_networks=env.get("EMBEDCRM_WEBHOOK_ALLOWED_NETWORKS", ""),
            redis_url=env.get("EMBEDCRM_REDIS_URL") or None,
            forwarded_allow_ips=forwarded_allow_ips,
            graphiql=_flag(env.get("EMBEDCRM_GRAPHIQL")),
            persisted_only=_flag(env.get("EMBEDCRM_PERSISTED_ONLY")),
            persisted_operations=env.get("EMBEDCRM_PERSISTED_OPERATIONS")
            or DEFAULT_PERSISTED_OPERATIONS,
            # An empty value turns that limit off.
            rate_limit_per_visitor=env.get(
                "EMBEDCRM_RATE_LIMIT_VISITOR", cls.rate_limit_per_visitor
            ),
            rate_limit_per_site=env.get("EMBEDCRM_RATE_LIMIT_SITE", cls.rate_limit_per_site),
            rate_limit_events_per_visitor=env.get(
                "EMBEDCRM_RATE_LIMIT_EVENTS", cls.rate_limit_events_per_visitor
            ),
            process_submissions_inline=_flag(env.get("EMBEDCRM_PROCESS_INLINE", "1")),
            yookassa_api_url=(env.get("EMBEDCRM_YOOKASSA_API_URL") or cls.yookassa_api_url).rstrip(
                "/"
            ),
            panel_origins=tuple(
                origin.strip().rstrip("/")
                for origin in env.get("EMBEDCRM_PANEL_ORIGINS", "").split(",")
                if origin.strip()
            ),
            smtp_url=env.get("EMBEDCRM_SMTP_URL") or None,
            smtp_from=env.get("EMBEDCRM_SMTP_FROM") or None,
            webhook_timeout_seconds=float(
                env.get("EMBEDCRM_WEBHOOK_TIMEOUT_SECONDS", cls.webhook_timeout_seconds)
            ),
            webhook_lease_seconds=float(
                env.get("EMBEDCRM_WEBHOOK_LEASE_SECONDS", cls.webhook_lease_seconds)
            ),
            webhook_concurrency=int(
                env.get("EMBEDCRM_WEBHOOK_CONCURRENCY", cls.webhook_concurrency)
            ),
            webhook_endpoint_concurrency=int(
                env.get("EMBEDCRM_WEBHOOK_ENDPOINT_CONCURRENCY", cls.webhook_endpoint_concurrency)
            ),
            graphql_max_cost=int(env.get("EMBEDCRM_GRAPHQL_MAX_COST", cls.graphql_max_cost)),
            graphql_concurrency_per_panel_token=int(
                env.get(
                    "EMBEDCRM_GRAPHQL_CONCURRENCY_PANEL", cls.graphql_concurrency_per_panel_token
                )
            ),
            graphql_concurrency_per_platform_key=int(
                env.get(
                    "EMBEDCRM_GRAPHQL_CONCURRENCY_PLATFORM",
                    cls.graphql_concurrency_per_platform_key,
                )
            ),
            metrics=_flag(env.get("EMBEDCRM_METRICS")),
            metrics_allow_ips=env.get("EMBEDCRM_METRICS_ALLOW_IPS", cls.metrics_allow_ips),
            log_format=env.get("EMBEDCRM_LOG_FORMAT", cls.log_format).strip().lower() or "text",
            db_pool_size=int(env.get("EMBEDCRM_DB_POOL_SIZE", cls.db_pool_size)),
            db_pool_timeout_seconds=float(
                env.get("EMBEDCRM_DB_POOL_TIMEOUT_SECONDS", cls.db_pool_timeout_seconds)
            ),
            db_statement_timeout_seconds=float(
                env.get("EMBEDCRM_DB_STATEMENT_TIMEOUT_SECONDS", cls.db_statement_timeout_seconds)
            ),
            db_idle_in_transaction_timeout_seconds=float(
                env.get(
                    "EMBEDCRM_DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS",
                    cls.db_idle_in_transaction_timeout_seconds,
                )
            ),
        )


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _dev_secret_beside_database(database_url: str) -> str:
    """Make (once) and reuse a signing key stored next to the SQLite file.

    Only the embedded default gets this convenience; a server database needs real keys,
    because several processes must share them.
    """
    url = make_url(database_url)
    if not url.get_backend_name().startswith("sqlite"):
        raise ConfigurationError(
            "EMBEDCRM_SECRET_KEYS is required when the database is not SQLite "
            "(comma-separated keys, oldest first; the last one signs)."
        )
    database = url.database or ""
    if database in {"", ":memory:"}:
        raise ConfigurationError("EMBEDCRM_SECRET_KEYS is required for an in-memory database.")
    secret_path = Path(database + ".secret")
    if secret_path.exists():
        key = secret_path.read_text().strip()
    else:
        key = secrets.token_urlsafe(48)
        secret_path.parent.mkdir(parents=True, exist_ok=True)
        secret_path.touch(mode=0o600)
        secret_path.write_text(key + "\n")
    log.warning(
        "EMBEDCRM_SECRET_KEYS is not set: using the development key kept in %s. "
        "Set EMBEDCRM_SECRET_KEYS in production.",
        secret_path,
    )
    return key
