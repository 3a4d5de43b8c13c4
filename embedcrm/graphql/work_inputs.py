"""Filter inputs of the CRM workspace and their conversion into service filters."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON

from embedcrm.fields.filters import ContactSpec, FieldCondition, FieldOp, LeadSpec, parse_money
from embedcrm.graphql.ids import parse_global_id

CustomFieldOp = strawberry.enum(FieldOp, name="CustomFieldOp")

# Stands in for an id of another workspace: it matches nothing, exactly like an unknown id.
NOWHERE = uuid.UUID(int=0)


@strawberry.input(description="custom_fields[key] <op> value, typed by the field's definition.")
class CustomFieldFilter:
    key: str
    op: CustomFieldOp = FieldOp.EQ  # type: ignore[valid-type]
    value: JSON | None = None


@strawberry.input
class ContactFilter:
    manager_id: strawberry.ID | None = None
    unmanaged: bool = False
    company: str | None = None
    tags: list[str] | None = strawberry.field(default=None, description="Has every one of these.")
    search: str | None = strawberry.field(
        default=None, description="Name, e-mail, phone or company."
    )
    created_from: datetime | None = None
    created_to: datetime | None = None
    custom: list[CustomFieldFilter] | None = None


def scoped_id(
    raw: strawberry.ID | None, type_name: str, field: str, workspace_id: uuid.UUID
) -> uuid.UUID | None:
    if raw is None:
        return None
    parsed = parse_global_id(raw, expected=type_name, field=field)
    return parsed.row_id if parsed.workspace_id == workspace_id else NOWHERE


def required_id(
    raw: strawberry.ID, type_name: str, field: str, workspace_id: uuid.UUID
) -> uuid.UUID:
    found = scoped_id(raw, type_name, field, workspace_id)
    assert found is not None
    return found


def _conditions(custom: list[CustomFieldFilter] | None) -> tuple[FieldCondition, ...]:
    return tuple(FieldCondition(c.key, FieldOp(c.op), c.value) for c in custom or [])


def _money(value: str | None, field: str) -> Decimal | None:
    return None if value is None else parse_money(value, field)


def lead_spec(value: Any, workspace_id: uuid.UUID) -> LeadSpec:
    """LeadFilter (schema.py) -> LeadSpec; ``value`` is duck-typed to keep imports one way."""
    if value is None:
        return LeadSpec()
    ws = workspace_id
    return LeadSpec(
        pipeline_id=scoped_id(value.pipeline_id, "Pipeline", "filter.pipelineId", ws),
        stage_id=scoped_id(value.stage_id, "Stage", "filter.stageId", ws),
        status=value.status,
        site_id=scoped_id(value.site_id, "Site", "filter.siteId", ws),
        assignee_id=scoped_id(value.assignee_id, "Member", "filter.assigneeId", ws),
        unassigned=bool(value.unassigned),
        contact_id=scoped_id(value.contact_id, "Contact", "filter.contactId", ws),
        utm_source=value.utm_source,
        utm_medium=value.utm_medium,
        utm_campaign=value.utm_campaign,
        channel=value.channel,
        close_reason=(value.close_reason or "").strip() or None,
        tags=tuple(value.tags or ()),
        search=value.search,
        value_min=_money(value.value_min, "filter.valueMin"),
        value_max=_money(value.value_max, "filter.valueMax"),
        created_from=value.created_from,
        created_to=value.created_to,
        custom=_conditions(value.custom),
    )


def contact_spec(value: ContactFilter | None, workspace_id: uuid.UUID) -> ContactSpec:
    if value is None:
        return ContactSpec()
    return ContactSpec(
        manager_id=scoped_id(value.manager_id, "Member", "filter.managerId", workspace_id),
        unmanaged=value.unmanaged,
        company=value.company,
        tags=tuple(value.tags or ()),
        search=value.search,
        created_from=value.created_from,
        created_to=value.created_to,
        custom=_conditions(value.custom),
    )
