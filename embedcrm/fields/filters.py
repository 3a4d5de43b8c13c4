"""Filters over leads and contacts: what lists, saved segments and CSV exports share.

A filter is plain data, so a saved segment stores it as JSON and re-runs it on every read.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from sqlalchemy import JSON, ColumnElement, func, or_, type_coerce

from embedcrm.errors import BadRequest, ValidationFailed
from embedcrm.fields.models import FieldType
from embedcrm.kit.models import fold
from embedcrm.kit.repository import like_pattern
from embedcrm.leads.models import LeadStatus


class FieldOp(enum.StrEnum):
    EQ = "EQ"
    NEQ = "NEQ"
    GT = "GT"
    GTE = "GTE"
    LT = "LT"
    LTE = "LTE"
    CONTAINS = "CONTAINS"
    IS_SET = "IS_SET"


@dataclass(frozen=True)
class FieldCondition:
    """``custom_fields[key] <op> value``; the value is typed by the field's definition."""

    key: str
    op: FieldOp
    value: Any = None


@dataclass(frozen=True)
class LeadSpec:
    pipeline_id: uuid.UUID | None = None
    stage_id: uuid.UUID | None = None
    status: LeadStatus | None = None
    site_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    contact_id: uuid.UUID | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    channel: str | None = None
    close_reason: str | None = None
    tags: tuple[str, ...] = ()
    search: str | None = None
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    custom: tuple[FieldCondition, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ContactSpec:
    manager_id: uuid.UUID | None = None
    unmanaged: bool = False
    company: str | None = None
    tags: tuple[str, ...] = ()
    search: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    custom: tuple[FieldCondition, ...] = field(default_factory=tuple)


Spec = LeadSpec | ContactSpec


def spec_to_json(spec: Spec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(spec):
        value = getattr(spec, f.name)
        if value is None or value is False or value == ():
            continue
        if f.name == "custom":
            out["custom"] = [{"key": c.key, "op": c.op.value, "value": c.value} for c in value]
        elif f.name == "tags":
            out["tags"] = list(value)
        elif isinstance(value, datetime):
            out[f.name] = value.isoformat()
        elif isinstance(value, (uuid.UUID, Decimal, enum.Enum)):
            out[f.name] = str(value.value if isinstance(value, enum.Enum) else value)
        else:
            out[f.name] = value
    return out


def spec_from_json(kind: type[Spec], data: dict[str, Any]) -> Spec:
    values: dict[str, Any] = {}
    for f in fields(kind):
        if f.name not in data:
            continue
        raw = data[f.name]
        if f.name == "custom":
            values["custom"] = tuple(
                FieldCondition(c["key"], FieldOp(c["op"]), c.get("value")) for c in raw
            )
        elif f.name == "tags":
            values["tags"] = tuple(raw)
        elif f.name.endswith("_id"):
            values[f.name] = uuid.UUID(raw)
        elif f.name.startswith("value_"):
            values[f.name] = Decimal(raw)
        elif f.name.startswith("created_"):
            values[f.name] = datetime.fromisoformat(raw)
        elif f.name == "status":
            values["status"] = LeadStatus(raw)
        else:
            values[f.name] = raw
    return kind(**values)


def merge_specs(base: Spec, extra: Spec) -> Spec:
    """A segment narrowed by the list's own filter: fields set in ``extra`` win."""
    changes = {
        f.name: getattr(extra, f.name)
        for f in fields(extra)
        if getattr(extra, f.name) not in (None, False, ())
    }
    if "tags" in changes:
        changes["tags"] = tuple(dict.fromkeys((*base.tags, *extra.tags)))
    if "custom" in changes:
        changes["custom"] = (*base.custom, *extra.custom)
    return replace(base, **changes)


@dataclass(frozen=True)
class SearchTerms:
    """What a search box held: an e-mail and a phone match exactly (by index), text by part."""

    email: str | None = None
    phone_e164: str | None = None
    text: str | None = None


_PHONEISH = re.compile(r"^[\d\s()+\-.]{5,}$")


# Longer than any name, e-mail or phone; a longer pattern is refused before it reaches a LIKE.
MAX_SEARCH_LENGTH = 200


def parse_search(query: str, *, region: str = "RU") -> SearchTerms:
    query = query.strip()
    if len(query) > MAX_SEARCH_LENGTH:
        raise ValidationFailed(
            f"A search is at most {MAX_SEARCH_LENGTH} characters.", field="search"
        )
    if not query:
        return SearchTerms()
    if "@" in query and " " not in query:
        return SearchTerms(email=query.casefold())
    if _PHONEISH.match(query) and sum(ch.isdigit() for ch in query) >= 5:
        try:
            number = phonenumbers.parse(query, region)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and phonenumbers.is_possible_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            return SearchTerms(phone_e164=e164)
    return SearchTerms(text=fold(query))


def parse_money(raw: str, field_name: str) -> Decimal:
    try:
        value = Decimal(raw.replace("\u00a0", "").replace(" ", "").replace(",", "."))
    except InvalidOperation as exc:
        raise ValidationFailed("Not an amount.", field=field_name) from exc
    if not value.is_finite() or abs(value) >= Decimal("1e12"):
        raise ValidationFailed("Not an amount.", field=field_name)
    return value.quantize(Decimal("0.01"))


def _json_value(column: Any, key: str, kind: FieldType) -> Any:
    value = type_coerce(column, JSON)[key]
    if kind is FieldType.NUMBER:
        return value.as_float()
    if kind is FieldType.BOOLEAN:
        return value.as_boolean()
    return value.as_string()


def custom_clause(column: Any, condition: FieldCondition, kind: FieldType) -> ColumnElement[bool]:
    """The SQL of one condition over a JSON column of custom fields, typed by the field."""
    value = _json_value(column, condition.key, kind)
    target = condition.value
    match condition.op:
        case FieldOp.IS_SET:
            return value.is_not(None) if target in (None, True) else value.is_(None)  # type: ignore[no-any-return]
        case FieldOp.EQ:
            return value == target  # type: ignore[no-any-return]
        case FieldOp.NEQ:
            return or_(value.is_(None), value != target)
        case FieldOp.GT:
            return value > target  # type: ignore[no-any-return]
        case FieldOp.GTE:
            return value >= target  # type: ignore[no-any-return]
        case FieldOp.LT:
            return value < target  # type: ignore[no-any-return]
        case FieldOp.LTE:
            return value <= target  # type: ignore[no-any-return]
        case FieldOp.CONTAINS:
            return func.lower(value).like(like_pattern(str(target).lower()), escape="\\")
    raise BadRequest("Unknown operator.", field="op")
