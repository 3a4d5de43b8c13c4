"""The custom-field filter the lead and contact filters share."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry.scalars import JSON

from embedcrm.fields.filters import FieldCondition, FieldOp, parse_money

CustomFieldOp = strawberry.enum(FieldOp, name="CustomFieldOp")


@strawberry.input(description="custom_fields[key] <op> value, typed by the field's definition.")
class CustomFieldFilter:
    key: str
    op: CustomFieldOp = FieldOp.EQ  # type: ignore[valid-type]
    value: JSON | None = None


def custom_conditions(custom: list[CustomFieldFilter] | None) -> tuple[FieldCondition, ...]:
    return tuple(FieldCondition(c.key, FieldOp(c.op), c.value) for c in custom or [])


def optional_money(value: str | None, field: str) -> Decimal | None:
    return None if value is None else parse_money(value, field)
