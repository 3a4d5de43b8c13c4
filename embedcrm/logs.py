"""Logging for the embedcrm processes: plain text, or one JSON object per line.

Every record carries the id of the HTTP request it was written for (``request_id``, the
``X-Request-ID`` of the answer; empty outside a request). What is logged never holds tokens,
secrets or personal data: SQL statements and their parameters are never logged (the engine
hides parameters even in its error messages, see ``embedcrm.db``), and tests/test_logs.py drives
the whole loop at DEBUG and looks for every secret, token, e-mail and phone it used.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from asgi_correlation_id.context import correlation_id

# Loggers that would print SQL parameters, URLs or HTTP headers: never below WARNING.
_QUIET = (
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "aiosqlite",
    # httpx logs every request's URL at INFO: webhook URLs often carry a token.
    "httpx",
    "httpcore",
    "hpack",
    "asyncio",
)


class RequestIdFilter(logging.Filter):
    """Put the current request's id on every record as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = correlation_id.get() or ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and the exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def configure_logging(
    log_format: str | None = None, level: str | None = None, *, stream: IO[str] | None = None
) -> None:
    """Send every log record to stderr (or ``stream``) in ``log_format`` ("text" or "json")
    from ``level`` up.

    uvicorn's own loggers propagate here too (`serve` passes it no logging configuration).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    if (log_format or "text").strip().lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel((level or "INFO").strip().upper() or "INFO")
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
