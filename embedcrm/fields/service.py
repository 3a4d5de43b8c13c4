"""Custom fields: typed definitions per workspace, and the check every write goes through."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.contacts.models import Contact
from embedcrm.db import Database
from embedcrm.errors import Conflict, NotFound, ValidationFailed
from embedcrm.fields.filters import FieldCondition, FieldOp
from embedcrm.fields.models import CustomFieldDefinition, FieldEntity, FieldType, Tag
from embedcrm.fields.repository import FieldRepository, TagRepository
from embedcrm.kit.grouping import grouped_pairs
from embedcrm.kit.models import fold
from embedcrm.leads.models import Lead
from embedcrm.leads.moves import leads_by_id
from embedcrm.pipelines.service import MAX_BULK
from embedcrm.workspaces.access import load_actor, reader_workspace

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_TEXT = 2000


def coerce_value(definition: CustomFieldDefinition, value: Any, field: str) -> Any:
    """The stored (JSON) form of ``value``, or ValidationFailed naming ``field``."""
    if value is None:
        return None
    kind = definition.type
    if kind is FieldType.TEXT:
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise ValidationFailed(f"Text of at most {MAX_TEXT} characters.", field=field)
        return value
    if kind is FieldType.NUMBER:
        if isinstance(value, bool):
            raise ValidationFailed("A number is required.", field=field)
        if isinstance(value, str):
            try:
                value = float(value.replace(",", ".").replace(" ", ""))
            except ValueError as exc:
                raise ValidationFailed("A number is required.", field=field) from exc
        if not isinstance(value, (int, float)) or value != value or abs(value) > 1e15:
            raise ValidationFailed("A number is required.", field=field)
        return int(value) if float(value).is_integer() else float(value)
    if kind is FieldType.DATE:
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise ValidationFailed("A date as YYYY-MM-DD is required.", field=field) from exc
    if kind is FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        raise ValidationFailed("true or false is required.", field=field)
    if not isinstance(value, str) or value not in definition.options:
        raise ValidationFailed(f"One of: {', '.join(definition.options)}.", field=field)
    return value


def validate_custom_fields(
    definitions: Sequence[CustomFieldDefinition],
    entity: FieldEntity,
    current: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    field: str = "customFields",
) -> dict[str, Any]:
    """``current`` with ``changes`` applied; defined keys are typed, null removes a key.

    Keys without a definition are kept as they come: forms send fields nobody defined yet,
    and losing them would lose what a visitor typed.
    """
    by_key = {d.key: d for d in definitions if d.entity is entity}
    result = dict(current)
    for key, value in changes.items():
        if not isinstance(key, str) or not 0 < len(key) <= 64:
            raise ValidationFailed("Field keys are 1 to 64 characters.", field=field)
        definition = by_key.get(key)
        stored = coerce_value(definition, value, f"{field}.{key}") if definition else value
        if stored is None:
            result.pop(key, None)
        else:
            result[key] = stored
    return result


async def definitions_of(
    session: AsyncSession, workspace_id: uuid.UUID
) -> list[CustomFieldDefinition]:
    return await FieldRepository(session, workspace_id).all()


def typed_conditions(
    definitions: Sequence[CustomFieldDefinition],
    entity: FieldEntity,
    conditions: Sequence[FieldCondition],
) -> tuple[tuple[FieldCondition, ...], dict[str, FieldType]]:
    """Conditions with values typed by their definitions; an undefined key is an error."""
    by_key = {d.key: d for d in definitions if d.entity is entity}
    typed: list[FieldCondition] = []
    for i, condition in enumerate(conditions):
        definition = by_key.get(condition.key)
        if definition is None:
            raise ValidationFailed("No custom field has this key.", field=f"custom[{i}].key")
        value = condition.value
        if condition.op is FieldOp.IS_SET:
            value = (
                None
                if value is None
                else coerce_value(
                    CustomFieldDefinition(type=FieldType.BOOLEAN, options=[]),
                    value,
                    f"custom[{i}].value",
                )
            )
        elif condition.op is FieldOp.CONTAINS:
            value = str(value)
        else:
            value = coerce_value(definition, value, f"custom[{i}].value")
            if value is None:
                raise ValidationFailed("A value is required.", field=f"custom[{i}].value")
        typed.append(FieldCondition(condition.key, condition.op, value))
    return tuple(typed), {k: d.type for k, d in by_key.items()}


class FieldService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(
        self, principal: Principal, workspace_id: uuid.UUID
    ) -> list[CustomFieldDefinition]:
        reader_workspace(principal, workspace_id, field="workspaceId")
        async with self.db.transaction() as session:
            return await FieldRepository(session, workspace_id).all()

    async def create(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        entity: FieldEntity,
        key: str,
        label: str,
        type: FieldType,
        options: Sequence[str],
    ) -> CustomFieldDefinition:
        if not _KEY.match(key):
            raise ValidationFailed(
                "A key of lower-case letters, digits and _ is required.", field="key"
            )
        label = label.strip()
        if not 0 < len(label) <= 200:
            raise ValidationFailed("A label of 1 to 200 characters is required.", field="label")
        cleaned = _options(type, options)
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="workspaceId")
            repo = FieldRepository(session, workspace_id)
            existing = await repo.all()
            if any(d.entity is entity and d.key == key for d in existing):
                raise Conflict("A field with this key exists.", field="key")
            definition = repo.add(
                CustomFieldDefinition(
                    entity=entity,
                    key=key,
                    label=label,
                    type=type,
                    options=cleaned,
                    position=len(existing),
                )
            )
            await session.flush()
            return definition

    async def update(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        field_id: uuid.UUID,
        *,
        label: str | None,
        options: Sequence[str] | None,
    ) -> CustomFieldDefinition:
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id)
            definition = await FieldRepository(session, workspace_id).get(field_id)
            if definition is None:
                raise NotFound("Nothing has this id.", field="id")
            if label is not None:
                if not 0 < len(label.strip()) <= 200:
                    raise ValidationFailed(
                        "A label of 1 to 200 characters is required.", field="label"
                    )
                definition.label = label.strip()
            if options is not None:
                definition.options = _options(definition.type, options)
            await session.flush()
            return definition

    async def delete(
        self, principal: Principal, workspace_id: uuid.UUID, field_id: uuid.UUID
    ) -> None:
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id)
            definition = await FieldRepository(session, workspace_id).get(field_id)
            if definition is None:
                raise NotFound("Nothing has this id.", field="id")
            # Values stay on the records: deleting a definition must not destroy data.
            await session.delete(definition)


def _options(kind: FieldType, options: Sequence[str]) -> list[str]:
    cleaned = list(dict.fromkeys(o.strip() for o in options if o.strip()))
    if kind is FieldType.CHOICE and not cleaned:
        raise ValidationFailed("A choice field needs its options.", field="options")
    if kind is not FieldType.CHOICE and cleaned:
        raise ValidationFailed("Only a choice field has options.", field="options")
    if any(len(o) > 200 for o in cleaned) or len(cleaned) > 200:
        raise ValidationFailed("At most 200 options of 200 characters.", field="options")
    return cleaned


class ContactsById(Protocol):
    """The contacts domain's read of contacts by id, in the caller's transaction: contacts
    stand above fields (their custom fields are checked here), so it is handed in."""

    async def __call__(
        self, session: AsyncSession, workspace_id: uuid.UUID, contact_ids: Sequence[uuid.UUID]
    ) -> Mapping[uuid.UUID, Contact]: ...


class TagService:
    def __init__(self, db: Database, contacts_by_id: ContactsById) -> None:
        self.db = db
        self.contacts_by_id = contacts_by_id

    async def tags(self, principal: Principal, workspace_id: uuid.UUID) -> list[Tag]:
        reader_workspace(principal, workspace_id, field="workspaceId")
        async with self.db.transaction() as session:
            return await TagRepository(session, workspace_id).all()

    async def tags_of_leads(
        self, workspace_id: uuid.UUID, lead_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[Tag]]:
        async with self.db.transaction() as session:
            rows = await TagRepository(session, workspace_id).lead_tag_ids(lead_ids)
        return grouped_pairs(lead_ids, rows)

    async def tags_of_contacts(
        self, workspace_id: uuid.UUID, contact_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[Tag]]:
        async with self.db.transaction() as session:
            rows = await TagRepository(session, workspace_id).contact_tag_ids(contact_ids)
        return grouped_pairs(contact_ids, rows)

    async def tag(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        lead_ids: Sequence[uuid.UUID],
        contact_ids: Sequence[uuid.UUID],
        add: Sequence[str],
        remove: Sequence[str],
    ) -> tuple[list[Lead], list[Contact]]:
        """Add and remove tags on many leads and contacts: all of them, or none on a refusal."""
        if not 0 < len(lead_ids) + len(contact_ids) <= MAX_BULK:
            raise ValidationFailed(f"Tag 1 to {MAX_BULK} objects at a time.", field="ids")
        names = [n.strip() for n in add if n.strip()]
        if any(len(n) > 100 for n in names) or len(names) > 50:
            raise ValidationFailed("At most 50 tags of 100 characters.", field="add")
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="ids")
            found_leads = await leads_by_id(session, workspace_id, lead_ids)
            found_contacts = await self.contacts_by_id(session, workspace_id, contact_ids)
            for i, lead_id in enumerate(lead_ids):
                lead = found_leads.get(lead_id)
                if lead is None:
                    raise NotFound("Nothing has this id.", field=f"ids[{i}]")
                actor.require_assigned(lead.assignee_id, "lead")
            for i, contact_id in enumerate(contact_ids):
                contact = found_contacts.get(contact_id)
                if contact is None:
                    raise NotFound("Nothing has this id.", field=f"ids[{len(lead_ids) + i}]")
                actor.require_assigned(contact.manager_id, "contact")
            repo = TagRepository(session, workspace_id)
            existing = await repo.by_names(names)
            for name in names:
                if fold(name) not in existing and name.casefold() not in existing:
                    existing[name.casefold()] = repo.add(
                        Tag(name=name, name_folded=name.casefold())
                    )
            await session.flush()
            await repo.link(
                lead_ids=list(lead_ids),
                contact_ids=list(contact_ids),
                tag_ids=[existing[n.casefold()].id for n in names],
            )
            removing = await repo.by_names(remove)
            if removing:
                await repo.unlink(
                    lead_ids=list(lead_ids),
                    contact_ids=list(contact_ids),
                    tag_ids=[t.id for t in removing.values()],
                )
            return [found_leads[i] for i in lead_ids], [found_contacts[i] for i in contact_ids]

    async def delete_tag(
        self, principal: Principal, workspace_id: uuid.UUID, tag_id: uuid.UUID
    ) -> None:
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id)
            tag = await TagRepository(session, workspace_id).get(tag_id)
            if tag is None:
                raise NotFound("Nothing has this id.", field="id")
            await session.delete(tag)


# What other domains do to a contact's tags inside their own transaction.


async def contact_tags(
    session: AsyncSession, workspace_id: uuid.UUID, contact_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, Tag]]:
    return await TagRepository(session, workspace_id).contact_tag_ids(contact_ids)


async def move_contact_tags(
    session: AsyncSession, workspace_id: uuid.UUID, source: uuid.UUID, target: uuid.UUID
) -> list[str]:
    return await TagRepository(session, workspace_id).move_contact_tags(source, target)


async def give_back_contact_tags(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    source: uuid.UUID,
    target: uuid.UUID,
    tag_ids: Sequence[uuid.UUID],
) -> None:
    await TagRepository(session, workspace_id).give_back_contact_tags(source, target, tag_ids)
