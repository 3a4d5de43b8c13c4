"""The catalog of events sent to the host platform as webhooks.

Each type is one typed class in :mod:`embedcrm.events.catalog`; ``python -m embedcrm.events``
writes its JSON Schema to ``webhooks/schemas/`` at the repository root, beside a hand-written
example under ``webhooks/examples/``. The names are part of the public contract: add new ones,
never rename. This package is a leaf: it imports nothing from the rest of embedcrm, so any layer
can use it.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from embedcrm.events.catalog import (
    ALL_EVENT_CLASSES,
    ALL_EVENT_TYPES,
    EVENT_CLASSES,
    EVENT_TYPES,
    OPERATIONAL_EVENT_CLASSES,
    OPERATIONAL_EVENT_TYPES,
    event_class,
)

__all__ = [
    "ALL_EVENT_CLASSES",
    "ALL_EVENT_TYPES",
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "OPERATIONAL_EVENT_CLASSES",
    "OPERATIONAL_EVENT_TYPES",
    "Event",
    "event_class",
    "format_timestamp",
]

_KNOWN_TYPES = frozenset(ALL_EVENT_TYPES)


def format_timestamp(moment: datetime) -> str:
    """Format an aware datetime as ISO 8601 in UTC with a ``Z`` suffix.

    Whole seconds are written without a fraction (``2026-11-27T10:15:00Z``), otherwise with
    microseconds. A naive datetime raises ValueError: its zone would be a guess.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    utc = moment.astimezone(UTC)
    timespec = "seconds" if utc.microsecond == 0 else "microseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


def _plain(value: Any) -> Any:
    """Convert a payload value to plain JSON types, so that stored and sent bodies agree."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("NaN and infinity are not JSON")
        return value
    if isinstance(value, Mapping):
        plain: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"payload keys must be strings, not {type(key).__name__}")
            plain[key] = _plain(item)
        return plain
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        # Money travels as a string so that no receiver rounds it through a float.
        return str(value)
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    raise TypeError(f"{type(value).__name__} is not allowed in an event payload")


@dataclass(frozen=True)
class Event:
    """One event of the catalog: what happened, when, and the data receivers get."""

    type: str
    occurred_at: datetime
    data: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in _KNOWN_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")
        if not isinstance(self.data, Mapping):
            raise TypeError("data must be a mapping")

    def to_dict(self) -> dict[str, Any]:
        """Return the webhook body as plain JSON types: ``{"type", "timestamp", "data"}``."""
        return {
            "type": self.type,
            "timestamp": format_timestamp(self.occurred_at),
            "data": _plain(self.data),
        }

    def to_json(self) -> bytes:
        """Return the webhook body as compact UTF-8 JSON, the exact bytes that get signed."""
        return json.dumps(
            self.to_dict(), ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode("utf-8")
