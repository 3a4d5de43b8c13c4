"""The event catalog: one JSON Schema and one valid example per event type under webhooks/."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, NotRequired, TypedDict, get_args
from uuid import UUID

import pytest

from embedcrm.events import (
    ALL_EVENT_CLASSES,
    ALL_EVENT_TYPES,
    EVENT_CLASSES,
    EVENT_TYPES,
    OPERATIONAL_EVENT_TYPES,
    Event,
    event_class,
)
from embedcrm.events.__main__ import schema_files
from embedcrm.events.catalog import LeadStatusName, Meta, TaskPayload, event_type_of
from embedcrm.events.schema import event_schema
from embedcrm.leads.models import LeadStatus
from embedcrm.tasks.models import TaskKind
from event_schemas import (
    EXAMPLES,
    ROOT,
    SCHEMAS,
    example_of,
    load,
    problems,
    validate,
    validator_for,
)

TYPE_NAME = re.compile(r"^[a-zA-Z0-9_]+(\.[a-zA-Z0-9_]+)*$")


def test_catalog_names() -> None:
    assert EVENT_TYPES == tuple(event_type_of(cls) for cls in EVENT_CLASSES)
    assert ALL_EVENT_TYPES == EVENT_TYPES + OPERATIONAL_EVENT_TYPES
    assert OPERATIONAL_EVENT_TYPES and not set(OPERATIONAL_EVENT_TYPES) & set(EVENT_TYPES)
    assert len(set(ALL_EVENT_TYPES)) == len(ALL_EVENT_TYPES)
    assert all(TYPE_NAME.match(name) for name in ALL_EVENT_TYPES)
    assert all(event_class(event_type_of(cls)) is cls for cls in ALL_EVENT_CLASSES)


def test_committed_schemas_are_what_the_generator_writes() -> None:
    committed = {path.name: path.read_text(encoding="utf-8") for path in SCHEMAS.glob("*.json")}
    assert committed == schema_files(), "run: python -m embedcrm.events"


def test_the_generator_writes_every_schema(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "embedcrm.events", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert f"wrote {len(ALL_EVENT_TYPES)} schemas" in done.stdout
    written = {path.name: path.read_text(encoding="utf-8") for path in tmp_path.iterdir()}
    assert written == schema_files()
    assert set(written) == {f"{name}.json" for name in ALL_EVENT_TYPES}


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


def objects_in(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """The path of every JSON object in ``value``, the body itself first."""
    if isinstance(value, dict):
        yield path
        for key, item in value.items():
            yield from objects_in(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from objects_in(item, (*path, index))


def with_extra_key(body: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
    changed = json.loads(json.dumps(body))
    target = changed
    for step in path:
        target = target[step]
    target["undeclared_field"] = "x"
    return changed


# The free-form maps of the catalog: their keys are data, not part of the shape.
OPEN_MAPS = {("data", "message", "variables")}


@pytest.mark.parametrize("event_type", ALL_EVENT_TYPES)
def test_an_undeclared_property_fails_at_every_level(event_type: str) -> None:
    body = example_of(event_type)
    paths = list(objects_in(body))
    assert ("data",) in paths
    for path in paths:
        found = problems(with_extra_key(body, path))
        if path in OPEN_MAPS:
            assert found == [], path
        else:
            assert found, f"{event_type}: an extra key at {path} went unnoticed"
            assert all("undeclared_field" in line for line in found), found


def test_a_new_lead_field_fails_until_its_class_declares_it() -> None:
    body = example_of("lead.created")
    body["data"]["lead"]["priority"] = "high"
    assert problems(body) == [
        "$.data.lead: Additional properties are not allowed ('priority' was unexpected)"
    ]
    with pytest.raises(AssertionError, match="priority"):
        validate(body)


def test_free_form_maps_stay_open() -> None:
    body = example_of("message.requested")
    body["data"]["message"]["variables"] = {"any_name": 1, "nested": {"x": [True]}}
    validate(body)


def test_lead_statuses_are_the_models_statuses() -> None:
    assert get_args(LeadStatusName) == tuple(status.value.lower() for status in LeadStatus)


def test_task_kinds_are_the_models_kinds() -> None:
    kinds = event_schema(event_class("task.created"))["$defs"]["task"]["properties"]["kind"]
    assert kinds["enum"] == [kind.value for kind in TaskKind]
    assert "kind" in TaskPayload.__required_keys__


class SampleInner(TypedDict):
    """An inner object."""

    code: Annotated[str, Meta(min_length=2, description="A code.")]
    note: NotRequired[str | None]


class SampleEvent(TypedDict):
    """A sample event."""

    type: Literal["sample.happened"]
    timestamp: Annotated[str, Meta(format="date-time")]
    data: SampleData


class SampleData(TypedDict):
    count: Annotated[int, Meta(minimum=1)]
    when: datetime | None
    inner: SampleInner | None
    again: SampleInner
    flag: bool
    level: Literal["low", "high"]
    extra: Mapping[str, Any]


def test_schema_derivation_from_annotations() -> None:
    assert event_schema(SampleEvent) == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "sample.happened",
        "description": "A sample event.",
        "type": "object",
        "required": ["type", "timestamp", "data"],
        "properties": {
            "type": {"const": "sample.happened"},
            "timestamp": {"type": "string", "format": "date-time"},
            "data": {
                "type": "object",
                "required": ["count", "when", "inner", "again", "flag", "level", "extra"],
                "properties": {
                    "count": {"type": "integer", "minimum": 1},
                    "when": {
                        "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]
                    },
                    "inner": {"anyOf": [{"$ref": "#/$defs/sample_inner"}, {"type": "null"}]},
                    "again": {"$ref": "#/$defs/sample_inner"},
                    "flag": {"type": "boolean"},
                    "level": {"enum": ["low", "high"]},
                    "extra": {"type": "object"},
                },
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
        "$defs": {
            "sample_inner": {
                "type": "object",
                "description": "An inner object.",
                "required": ["code"],
                "properties": {
                    "code": {"type": "string", "minLength": 2, "description": "A code."},
                    "note": {"type": ["string", "null"]},
                },
                "additionalProperties": False,
            }
        },
    }


class UnsupportedEvent(TypedDict):
    """An event with a field the derivation has no rule for."""

    type: Literal["sample.unsupported"]
    timestamp: str
    data: UnsupportedData


class UnsupportedData(TypedDict):
    amount: Decimal


def test_an_annotation_without_a_rule_is_refused() -> None:
    with pytest.raises(TypeError, match="no JSON Schema"):
        event_schema(UnsupportedEvent)


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
    data = example_of("lead.won")["data"]
    data["workspace_id"] = UUID(int=1)
    data["lead"].update(
        id=lead_id,
        title="Сделка",
        value=Decimal("1500.50"),
        created_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    event = Event(
        type="lead.won",
        occurred_at=datetime(2026, 11, 27, 10, 15, 0, 123456, tzinfo=UTC),
        data=data,
    )
    body = event.to_json()

    assert "Сделка".encode() in body
    payload = json.loads(body)
    assert payload["timestamp"] == "2026-11-27T10:15:00.123456Z"
    assert payload["data"]["workspace_id"] == str(UUID(int=1))
    assert payload["data"]["lead"]["id"] == str(lead_id)
    assert payload["data"]["lead"]["value"] == "1500.50"
    assert payload["data"]["lead"]["created_at"] == "2026-11-01T00:00:00Z"
    validate(payload)
    assert event.to_dict() == payload


def test_dates_travel_as_iso_strings() -> None:
    event = Event(
        type="webhook.test", occurred_at=datetime.now(UTC), data={"closes_on": date(2026, 12, 1)}
    )
    assert event.to_dict()["data"] == {"closes_on": "2026-12-01"}


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
