"""What no database of ours can store: checked at every edge, so a request is refused by name.

PostgreSQL refuses NUL in text and jsonb; a lone surrogate (which JSON's \\uD800 escape can
produce) cannot be encoded as UTF-8 at all; NaN and Infinity are not JSON, and in a SQLite JSON
column they break every later read of the row. Refused rather than cleaned: a silently altered
e-mail or phone is worse than a clear error.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")
# Deeper than any real argument or payload; stops a walk over a hostile document early.
MAX_DEPTH = 32


def unstorable_reason(value: Any) -> str | None:
    """Why this one value cannot be stored, or None (containers are not looked into)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "Numbers must be finite (no NaN or Infinity)."
    if isinstance(value, str) and UNSTORABLE_TEXT.search(value):
        return "Text may not hold NUL characters or unpaired surrogates."
    return None


def find_unstorable(value: Any, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """The dotted path and reason of the first unstorable value inside ``value``, or None.

    Looks into dicts (keys too), lists and dataclass instances (GraphQL input objects).
    """
    if depth > MAX_DEPTH:
        return (path, "Nested too deeply.")
    reason = unstorable_reason(value)
    if reason is not None:
        return (path, reason)
    children: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            if UNSTORABLE_TEXT.search(name):
                return (path, "Keys may not hold NUL characters or unpaired surrogates.")
            children.append((name, item))
    elif isinstance(value, list | tuple):
        children = [(str(i), item) for i, item in enumerate(value)]
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        children = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
    for name, item in children:
        found = find_unstorable(item, f"{path}.{name}" if path else name, depth + 1)
        if found is not None:
            return found
    return None
