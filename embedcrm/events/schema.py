"""JSON Schema (draft 2020-12) from the typed event classes of the catalog.

A deliberately small translation of the annotations the catalog uses, and only those: anything
else raises TypeError, so a new kind of field gets a decision here instead of a silent guess.

- ``str``, ``int``, ``bool``, ``float``, ``None``: their JSON types; ``datetime``: a
  ``date-time`` string (``Event.to_dict`` writes datetimes that way).
- ``Literal``: ``const`` for one value, ``enum`` for several.
- ``X | None``: ``"type": [x, "null"]`` when every member is a plain type, otherwise ``anyOf``.
- ``Annotated[T, Meta(...)]``: the schema of ``T`` with Meta's keywords added after it.
- a ``TypedDict``: a closed object (``additionalProperties: false``) under ``$defs``, named after
  the class; keys are required unless marked ``NotRequired``. Its docstring is its description.
- ``Mapping[str, Any]``: a free-form object, left open.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from datetime import datetime
from typing import (
    Annotated,
    Any,
    Literal,
    NotRequired,
    Required,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

from embedcrm.events.catalog import Meta, event_type_of

__all__ = ["JSON_SCHEMA_DIALECT", "event_schema"]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_PLAIN: dict[Any, str] = {
    str: "string",
    int: "integer",
    bool: "boolean",
    float: "number",
    type(None): "null",
}


class _Defs(dict[str, dict[str, Any]]):
    """The ``$defs`` of one schema, remembering which class took each name."""

    def __init__(self) -> None:
        super().__init__()
        self.owners: dict[str, type] = {}


def event_schema(cls: type) -> dict[str, Any]:
    """The schema of one event class: the body ``{"type", "timestamp", "data"}``, closed."""
    defs = _Defs()
    hints = get_type_hints(cls, include_extras=True)
    if set(hints) != {"type", "timestamp", "data"}:
        raise TypeError(f"{cls.__name__} must declare exactly type, timestamp and data")
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": event_type_of(cls),
        "description": _doc(cls),
        "type": "object",
        "required": ["type", "timestamp", "data"],
        "properties": {
            "type": _schema(hints["type"], defs),
            "timestamp": _schema(hints["timestamp"], defs),
            # In place rather than under $defs: the layout the published schemas always had.
            "data": _object(hints["data"], defs),
        },
        "additionalProperties": False,
    }
    if schema["description"] is None:
        raise TypeError(f"{cls.__name__} needs a docstring: it is the event's description")
    if defs:
        schema["$defs"] = dict(defs)
    return schema


def _doc(cls: type) -> str | None:
    # Only the class's own docstring: a TypedDict inherits none, and a base's would mislead.
    doc = cls.__dict__.get("__doc__")
    return " ".join(doc.split()) if doc else None


def _def_name(cls: type) -> str:
    base = cls.__name__.removesuffix("Payload")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", base).lower()


def _object(cls: Any, defs: _Defs) -> dict[str, Any]:
    if not is_typeddict(cls):
        raise TypeError(f"{cls!r} is not a TypedDict")
    hints = get_type_hints(cls, include_extras=True)
    schema: dict[str, Any] = {"type": "object"}
    description = _doc(cls)
    if description:
        schema["description"] = description
    schema["required"] = [key for key, hint in hints.items() if _is_required(cls, key, hint)]
    schema["properties"] = {key: _schema(hint, defs) for key, hint in hints.items()}
    schema["additionalProperties"] = False
    return schema


def _is_required(cls: Any, key: str, hint: Any) -> bool:
    # Under postponed annotations, Python 3.11 cannot see NotRequired when it builds
    # __required_keys__ (the annotations are still strings then), so the resolved hint decides.
    origin = get_origin(hint)
    if origin is NotRequired:
        return False
    if origin is Required:
        return True
    return key in cls.__required_keys__


def _schema(hint: Any, defs: _Defs) -> dict[str, Any]:
    origin = get_origin(hint)
    if origin is Annotated:
        inner, *extras = get_args(hint)
        schema = _schema(inner, defs)
        for extra in extras:
            if isinstance(extra, Meta):
                schema.update(_keywords(extra))
        return schema
    if origin in (NotRequired, Required):
        return _schema(get_args(hint)[0], defs)
    if hint in _PLAIN:
        return {"type": _PLAIN[hint]}
    if hint is datetime:
        return {"type": "string", "format": "date-time"}
    if origin is Literal:
        values = list(get_args(hint))
        return {"const": values[0]} if len(values) == 1 else {"enum": values}
    if origin in (Union, types.UnionType):
        members = [_schema(member, defs) for member in get_args(hint)]
        if all(set(member) == {"type"} and isinstance(member["type"], str) for member in members):
            return {"type": [member["type"] for member in members]}
        return {"anyOf": members}
    if origin in (Mapping, dict) and get_args(hint) == (str, Any):
        return {"type": "object"}
    if origin is list:
        return {"type": "array", "items": _schema(get_args(hint)[0], defs)}
    if is_typeddict(hint):
        name = _def_name(hint)
        if defs.owners.setdefault(name, hint) is not hint:
            raise TypeError(f"two classes are named {name!r} in $defs")
        if name not in defs:
            defs[name] = {}  # reserved first: the order of $defs is the order of first use
            defs[name] = _object(hint, defs)
        return {"$ref": f"#/$defs/{name}"}
    raise TypeError(f"no JSON Schema for the annotation {hint!r}")


def _keywords(meta: Meta) -> dict[str, Any]:
    keywords: dict[str, Any] = {}
    if meta.min_length is not None:
        keywords["minLength"] = meta.min_length
    if meta.minimum is not None:
        keywords["minimum"] = meta.minimum
    if meta.format is not None:
        keywords["format"] = meta.format
    if meta.description is not None:
        keywords["description"] = meta.description
    return keywords
