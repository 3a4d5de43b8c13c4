"""The committed event schemas (webhooks/schemas), applied strictly: every emitted body must
match its schema, with no property the schema does not declare."""

from __future__ import annotations

import copy
import functools
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "webhooks" / "schemas"
EXAMPLES = ROOT / "webhooks" / "examples"

RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)

# jsonschema checks "date-time" only when an optional RFC 3339 package is installed; this
# checker makes the format assertion hold regardless.
FORMAT_CHECKER = FormatChecker()


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@functools.cache
def validator_for(event_type: str) -> Draft202012Validator:
    schema = load(SCHEMAS / f"{event_type}.json")
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


def problems(payload: dict[str, Any]) -> list[str]:
    """What is wrong with one body, as ``path: message`` lines; empty when it is valid."""
    path = SCHEMAS / f"{payload.get('type')}.json"
    if not path.is_file():
        return [f"$.type: no schema for {payload.get('type')!r}"]
    return [
        f"{error.json_path}: {error.message}"
        for error in validator_for(payload["type"]).iter_errors(payload)
    ]


def validate(payload: dict[str, Any]) -> None:
    """Raise AssertionError naming every difference between the body and its schema."""
    found = problems(payload)
    assert not found, f"{payload.get('type')} does not match its schema: {found}"


def example_of(event_type: str) -> dict[str, Any]:
    """A fresh copy of the committed example body of one event type."""
    body: dict[str, Any] = copy.deepcopy(load(EXAMPLES / f"{event_type}.json"))
    return body
