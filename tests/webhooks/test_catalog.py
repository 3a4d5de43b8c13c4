"""The event catalog: one JSON Schema and one valid example per event type under webhooks/."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from embedcrm.events import ALL_EVENT_TYPES, EVENT_TYPES, OPERATIONAL_EVENT_TYPES, Event

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "webhooks" / "schemas"
EXAMPLES = ROOT / "webhooks" / "examples"

RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)
TYPE_NAME = re.compile(r"^[a-zA-Z0-9_]+(\.[a-zA-Z0-9_]+)*$")

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


def validator_for(event_type: str) -> Draft202012Validator:
    schema = load(SCHEMAS / f"{event_type}.json")
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


def test_catalog_names() -> None:
    assert EVENT_TYPES == (
        "lead.created",
        "lead.updated",
        "lead.stage_changed",
        "lead.assigned",
        "lead.won",
        "lead.lost",
        "contact.created",
        "contact.updated",
        "contact.merged",
        "task.created",
        "task.completed",
        "task.overdue",
        "submission.quarantined",
        "message.requested",
        "webhook.test",
    )
    assert OPERATIONAL_EVENT_TYPES == ("endpoint.disabled", "message.attempt.exhausted")
    assert len(set(ALL_EVENT_TYPES)) == len(ALL_EVENT_TYPES)
    assert all(TYPE_NAME.match(name) for name in ALL_EVENT_TYPES)


def test_files_match_the_catalog_exactly() -> None:
    expected = set(ALL_EVENT_TYPES)
    assert {path.name.removesuffix(".json") for path in SCHEMAS.glob("*.json")} == expected
    assert {path.name.removesuffix(".json") for path in EXAMPLES.glob("*.json")} == expected


@pytest.mark.parametrize("event_type", ALL_EVENT_TYPES)
def test_example_validates_against_its_schema(event_type: str) -> None:
    example = load(EXAMPLES / f"{event_type}.json")
    validator_for(event_type).validate(example)
    assert example["type"] == event_type


@pytest.mark.parametrize("event_type", ALL_EVENT_TYPES)
def test_schema_rejects_the_wrong_type_and_missing_data(event_type: str) -> None:
    validator = validator_for(event_type)
    example = load(EXAMPLES / f"{event_type}.json")
    other = next(name for name in ALL_EVENT_TYPES if name != event_type)
    assert not validator.is_valid({**example, "type": other})
    assert not validator.is_valid({key: v for key, v in example.items() if key != "data"})
    assert not validator.is_valid({**example, "timestamp": "yesterday"})
    for required in validator.schema["properties"]["data"]["required"]:
        data = {key: v for key, v in example["data"].items() if key != required}
        assert not validator.is_valid({**example, "data": data}), required


@pytest.mark.parametrize("event_type", [name for name in EVENT_TYPES if name.startswith("lead.")])
def test_lead_events_require_a_sequence(event_type: str) -> None:
    validator = validator_for(event_type)
    example = load(EXAMPLES / f"{event_type}.json")
    assert example["data"]["sequence"] >= 1
    assert not validator.is_valid({**example, "data": {**example["data"], "sequence": 0}})
    bad_status = {**example["data"], "lead": {**example["data"]["lead"], "status": "closed"}}
    assert not validator.is_valid({**example, "data": bad_status})


def test_data_accepts_additional_properties() -> None:
    example = load(EXAMPLES / "lead.created.json")
    example["data"]["future_field"] = {"anything": [1, 2]}
    example["data"]["lead"]["another"] = True
    validator_for("lead.created").validate(example)


@pytest.mark.parametrize("event_type", ALL_EVENT_TYPES)
def test_event_to_json_validates(event_type: str) -> None:
    example = load(EXAMPLES / f"{event_type}.json")
    occurred_at = datetime(2026, 11, 27, 13, 15, tzinfo=timezone(timedelta(hours=3)))
    body = Event(type=event_type, occurred_at=occurred_at, data=example["data"]).to_json()

    payload = json.loads(body.decode("utf-8"))
    compact = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    assert body == compact
    validator_for(event_type).validate(payload)
    assert payload["timestamp"] == "2026-11-27T10:15:00Z"
    assert list(payload) == ["type", "timestamp", "data"]


def test_to_json_keeps_unicode_and_converts_rich_values() -> None:
    lead_id = UUID("c7e3a1d2-58b4-4f96-8e0a-3d2b1c9f4e77")
    event = Event(
        type="lead.won",
        occurred_at=datetime(2026, 11, 27, 10, 15, 0, 123456, tzinfo=UTC),
        data={
            "workspace_id": UUID(int=1),
            "site_id": None,
            "sequence": 2,
            "reason": None,
            "lead": {
                "id": lead_id,
                "title": "Сделка",
                "status": "won",
                "stage": {"id": "s", "name": "Успешно"},
                "value": Decimal("1500.50"),
                "currency": "RUB",
                "contact_id": None,
                "assignee_id": None,
                "created_at": datetime(2026, 11, 1, tzinfo=UTC),
                "closes_on": date(2026, 12, 1),
            },
        },
    )
    body = event.to_json()

    assert "Сделка".encode() in body
    payload = json.loads(body)
    assert payload["timestamp"] == "2026-11-27T10:15:00.123456Z"
    assert payload["data"]["lead"]["id"] == str(lead_id)
    assert payload["data"]["lead"]["value"] == "1500.50"
    assert payload["data"]["lead"]["created_at"] == "2026-11-01T00:00:00Z"
    assert payload["data"]["lead"]["closes_on"] == "2026-12-01"
    validator_for("lead.won").validate(payload)
    assert event.to_dict() == payload


def test_unknown_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        Event(type="lead.deleted", occurred_at=datetime.now(UTC), data={})


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Event(type="lead.created", occurred_at=datetime(2026, 11, 27, 10, 0), data={})


def test_values_that_are_not_json_are_refused() -> None:
    event = Event(type="webhook.test", occurred_at=datetime.now(UTC), data={"x": object()})
    with pytest.raises(TypeError):
        event.to_json()
    with pytest.raises(ValueError, match="NaN"):
        Event(
            type="webhook.test", occurred_at=datetime.now(UTC), data={"x": float("nan")}
        ).to_json()
