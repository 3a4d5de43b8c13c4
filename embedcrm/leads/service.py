"""The client card: a lead's value, cart and order; a contact's details; timelines; tags."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.contacts.models import Contact
from embedcrm.contacts.repository import ContactRepository
from embedcrm.crm.emit import emit_contact_event, emit_lead_event
from embedcrm.db import Database, utcnow
from embedcrm.errors import NotFound, ValidationFailed
from embedcrm.fields.models import FieldEntity, Tag
from embedcrm.fields.repository import TagRepository
from embedcrm.fields.service import definitions_of, validate_custom_fields
from embedcrm.kit.models import fold
from embedcrm.kit.repository import Page
from embedcrm.leads.models import Activity, ActivityKind, Lead, LeadItem
from embedcrm.leads.repository import ActivityRepository, ItemRepository, LeadRepository
from embedcrm.pipelines.service import MAX_BULK, get_lead
from embedcrm.tasks.first_response import ANSWER_KINDS, close_answered
from embedcrm.workspaces.access import Actor, load_actor, reader_workspace
from embedcrm.workspaces.models import Member
from embedcrm.workspaces.repository import MemberRepository, WorkspaceDirectory

WRITABLE_KINDS = {
    ActivityKind.NOTE,
    ActivityKind.CALL,
    ActivityKind.EMAIL,
    ActivityKind.MEETING,
    ActivityKind.MESSAGE,
}
LEAD_TEXT_FIELDS = {
    "title": 300,
    "payment_method": 100,
    "delivery_method": 100,
    "delivery_address": 2000,
}
LEAD_TIME_FIELDS = {"ordered_at", "delivery_from", "delivery_to"}


@dataclass(frozen=True)
class ItemSpec:
    product: str
    quantity: Decimal
    unit_price: Decimal
    sku: str | None = None
    unit_cost: Decimal | None = None


def normalise_email(value: str, field: str = "email") -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed("Not an e-mail address.", field=field) from exc


def normalise_phone(value: str, region: str = "RU", field: str = "phone") -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed("Not a phone number.", field=field) from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationFailed("Not a phone number.", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _currency(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().upper()
    if len(value) != 3 or not value.isalpha():
        raise ValidationFailed("An ISO 4217 code such as RUB is required.", field="currency")
    return value


def _money(value: Decimal | None, field: str) -> Decimal | None:
    if value is None:
        return None
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise ValidationFailed("A non-negative amount below 10^12 is required.", field=field)
    return value.quantize(Decimal("0.01"))


def cart_total(items: Sequence[LeadItem]) -> Decimal | None:
    """What the cart's lines come to (price × quantity); None for an empty cart."""
    if not items:
        return None
    total = sum((item.unit_price * item.quantity for item in items), Decimal(0))
    return _money(total, "items")


async def workspace_currency(session: AsyncSession, workspace_id: uuid.UUID) -> str:
    workspace = await WorkspaceDirectory(session).get(workspace_id)
    return workspace.currency if workspace is not None else "RUB"


async def get_contact(
    session: AsyncSession, workspace_id: uuid.UUID, contact_id: uuid.UUID, field: str = "contactId"
) -> Contact:
    contact = await ContactRepository(session, workspace_id).get(contact_id)
    if contact is None:
        raise NotFound("Nothing has this id.", field=field)
    return contact


async def get_member(
    session: AsyncSession, workspace_id: uuid.UUID, member_id: uuid.UUID, field: str
) -> Member:
    member = await MemberRepository(session, workspace_id).get(member_id)
    if member is None:
        raise NotFound("Nothing has this id.", field=field)
    return member


def require_contact_writer(actor: Actor, contact: Contact) -> None:
    actor.require_assigned(contact.manager_id, "contact")


class CardService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- leads ---------------------------------------------------------------------------

    async def update_lead(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        lead_id: uuid.UUID,
        changes: Mapping[str, Any],
    ) -> Lead:
        _check_custom_fields_shape(changes)
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id)
            lead = await get_lead(session, workspace_id, lead_id, "id")
            actor.require_assigned(lead.assignee_id, "lead")
            for key, value in changes.items():
                if key in LEAD_TEXT_FIELDS:
                    if value is not None:
                        value = value.strip()
                        if key == "title" and not value:
                            raise ValidationFailed("A title is required.", field="title")
                        if len(value) > LEAD_TEXT_FIELDS[key]:
                            raise ValidationFailed(
                                f"At most {LEAD_TEXT_FIELDS[key]} characters.", field=key
                            )
                    elif key == "title":
                        raise ValidationFailed("A title is required.", field="title")
                    setattr(lead, key, value or None if key != "title" else value)
                elif key in LEAD_TIME_FIELDS:
                    setattr(lead, key, value)
                elif key == "value":
                    # A value given by hand stays; clearing it lets the cart set it again.
                    lead.value = _money(value, "value")
                    lead.value_set_by_hand = lead.value is not None
                    if lead.value is None:
                        items = await ItemRepository(session, workspace_id).of_leads([lead.id])
                        lead.value = cart_total(items)
                elif key == "currency":
                    lead.currency = _currency(value)
                elif key == "custom_fields":
                    lead.custom_fields = validate_custom_fields(
                        await definitions_of(session, workspace_id),
                        FieldEntity.LEAD,
                        lead.custom_fields,
                        value,
                    )
                else:
                    raise ValidationFailed("This field cannot be changed.", field=key)
            if lead.delivery_from and lead.delivery_to and lead.delivery_from > lead.delivery_to:
                raise ValidationFailed(
                    "The delivery window ends before it starts.", field="deliveryTo"
                )
            if lead.value is not None and lead.currency is None:
                lead.currency = await workspace_currency(session, workspace_id)
            now = utcnow()
            lead.updated_at = now
            await session.flush()
            await emit_lead_event(session, lead, "lead.updated", now=now)
            return lead

    async def set_items(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        lead_id: uuid.UUID,
        items: Sequence[ItemSpec],
    ) -> Lead:
        if len(items) > 200:
            raise ValidationFailed("A cart holds at most 200 lines.", field="items")
        for i, item in enumerate(items):
            if not 0 < len(item.product.strip()) <= 300:
                raise ValidationFailed("A product name is required.", field=f"items[{i}].product")
            if (
                not item.quantity.is_finite()
                or item.quantity <= 0
                or item.quantity >= Decimal("1e9")
            ):
                raise ValidationFailed(
                    "A positive quantity is required.", field=f"items[{i}].quantity"
                )
            _money(item.unit_price, f"items[{i}].unitPrice")
            _money(item.unit_cost, f"items[{i}].unitCost")
            if item.sku is not None and len(item.sku) > 100:
                raise ValidationFailed("A SKU is at most 100 characters.", field=f"items[{i}].sku")
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="leadId")
            lead = await get_lead(session, workspace_id, lead_id)
            actor.require_assigned(lead.assignee_id, "lead")
            repo = ItemRepository(session, workspace_id)
            await repo.clear(lead.id)
            now = utcnow()
            cart: list[LeadItem] = []
            for i, item in enumerate(items):
                line = repo.add(
                    LeadItem(
                        lead_id=lead.id,
                        position=i,
                        product=item.product.strip(),
                        sku=(item.sku or "").strip() or None,
                        quantity=item.quantity.quantize(Decimal("0.001")),
                        unit_price=_money(item.unit_price, "unitPrice"),
                        unit_cost=_money(item.unit_cost, "unitCost"),
                        created_at=now,
                    )
                )
                cart.append(line)
            # The value follows the cart until a person sets it by hand (updateLead).
            if not lead.value_set_by_hand:
                lead.value = cart_total(cart)
                if lead.value is not None and lead.currency is None:
                    lead.currency = await workspace_currency(session, workspace_id)
            lead.updated_at = now
            await session.flush()
            await emit_lead_event(session, lead, "lead.updated", now=now)
            return lead

    async def assign_leads(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        lead_ids: Sequence[uuid.UUID],
        assignee_id: uuid.UUID | None,
    ) -> list[Lead]:
        if not 0 < len(lead_ids) <= MAX_BULK:
            raise ValidationFailed(f"Assign 1 to {MAX_BULK} leads at a time.", field="leadIds")
        async with self.db.transaction() as session:
            actor = await load_actor(
                session, principal, workspace_id, field="leadIds" if len(lead_ids) > 1 else "leadId"
            )
            member = (
                await get_member(session, workspace_id, assignee_id, "assigneeId")
                if assignee_id
                else None
            )
            found = await LeadRepository(session, workspace_id).get_many(lead_ids)
            leads = []
            for i, lead_id in enumerate(lead_ids):
                lead = found.get(lead_id)
                if lead is None:
                    raise NotFound(
                        "Nothing has this id.",
                        field=f"leadIds[{i}]" if len(lead_ids) > 1 else "leadId",
                    )
                if not actor.may_take(lead.assignee_id, assignee_id):
                    actor.require_assigned(lead.assignee_id, "lead")
                leads.append(lead)
            if member is not None and not member.active:
                raise ValidationFailed(
                    "This member was deactivated: assign the lead to someone else.",
                    field="assigneeId",
                )
            now = utcnow()
            for lead in leads:
                if lead.assignee_id == assignee_id:
                    continue
                lead.assignee_id = assignee_id
                lead.updated_at = now
                await session.flush()
                await emit_lead_event(
                    session,
                    lead,
                    "lead.assigned",
                    now=now,
                    extra={
                        "assignee": {"id": str(member.id), "name": member.name} if member else None
                    },
                )
            return leads

    # ---- contacts ------------------------------------------------------------------------

    async def update_contact(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        contact_id: uuid.UUID,
        changes: Mapping[str, Any],
    ) -> Contact:
        _check_custom_fields_shape(changes)
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id)
            contact = await get_contact(session, workspace_id, contact_id, "id")
            require_contact_writer(actor, contact)
            for key, value in changes.items():
                if key == "name":
                    contact.name = (value or "").strip()[:200] or None
                elif key == "company":
                    contact.company = (value or "").strip()[:200] or None
                elif key == "email":
                    contact.email = value.strip() if value else None
                    contact.email_normalized = normalise_email(value) if value else None
                elif key == "phone":
                    contact.phone = value.strip() if value else None
                    contact.phone_e164 = normalise_phone(value) if value else None
                elif key == "manager_id":
                    if value is not None:
                        await get_member(session, workspace_id, value, "managerId")
                    contact.manager_id = value
                elif key == "custom_fields":
                    contact.custom_fields = validate_custom_fields(
                        await definitions_of(session, workspace_id),
                        FieldEntity.CONTACT,
                        contact.custom_fields,
                        value,
                    )
                else:
                    raise ValidationFailed("This field cannot be changed.", field=key)
            now = utcnow()
            contact.updated_at = now
            await session.flush()
            emit_contact_event(session, contact, "contact.updated", now=now)
            return contact

    # ---- timeline ------------------------------------------------------------------------

    async def add_activity(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        lead_id: uuid.UUID | None,
        contact_id: uuid.UUID | None,
        kind: ActivityKind,
        body: str,
        occurred_at: datetime | None,
        data: Mapping[str, Any],
    ) -> Activity:
        if kind not in WRITABLE_KINDS:
            raise ValidationFailed(
                "Stage changes and submissions are recorded by embedcrm itself.", field="kind"
            )
        if not 0 < len(body.strip()) <= 20000:
            raise ValidationFailed("A text of 1 to 20000 characters is required.", field="body")
        if (lead_id is None) == (contact_id is None):
            raise ValidationFailed("Name a lead or a contact.", field="leadId")
        async with self.db.transaction() as session:
            actor = await load_actor(
                session, principal, workspace_id, field="leadId" if lead_id else "contactId"
            )
            if lead_id is not None:
                lead = await get_lead(session, workspace_id, lead_id)
                actor.require_assigned(lead.assignee_id, "lead")
                owner_contact = lead.contact_id
            else:
                assert contact_id is not None
                contact = await get_contact(session, workspace_id, contact_id)
                require_contact_writer(actor, contact)
                owner_contact = contact.id
            now = utcnow()
            activity = ActivityRepository(session, workspace_id).add(
                Activity(
                    contact_id=owner_contact,
                    lead_id=lead_id,
                    author_id=actor.member_id,
                    kind=kind,
                    body=body.strip(),
                    data=dict(data),
                    created_at=occurred_at or now,
                )
            )
            await session.flush()
            leads = LeadRepository(session, workspace_id)
            answered: set[uuid.UUID] = set()
            if kind in ANSWER_KINDS:
                answered = await close_answered(
                    session,
                    workspace_id,
                    [lead_id] if lead_id else await leads.open_ids_of_contact(owner_contact),
                    answered_at=activity.created_at,
                    now=now,
                )
            for answered_lead in sorted(answered | ({lead_id} if lead_id else set())):
                await leads.refresh_first_response(answered_lead)
            return activity

    async def timeline(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        lead_id: uuid.UUID | None = None,
        contact_id: uuid.UUID | None = None,
        first: int,
        after: str | None,
    ) -> Page[Activity]:
        reader_workspace(principal, workspace_id)
        async with self.db.transaction() as session:
            repo = ActivityRepository(session, workspace_id)
            stmt = repo.of(lead_id=lead_id, contact_id=contact_id)
            return await repo.newest_first(stmt, first=first, after=after)

    async def count_timeline(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        lead_id: uuid.UUID | None = None,
        contact_id: uuid.UUID | None = None,
    ) -> int:
        reader_workspace(principal, workspace_id)
        async with self.db.transaction() as session:
            repo = ActivityRepository(session, workspace_id)
            return await repo.count(repo.of(lead_id=lead_id, contact_id=contact_id))

    async def items_of_leads(
        self, workspace_id: uuid.UUID, lead_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[LeadItem]]:
        async with self.db.transaction() as session:
            rows = await ItemRepository(session, workspace_id).of_leads(lead_ids)
        out: dict[uuid.UUID, list[LeadItem]] = {i: [] for i in lead_ids}
        for row in rows:
            out[row.lead_id].append(row)
        return out

    # ---- tags ----------------------------------------------------------------------------

    async def tags(self, principal: Principal, workspace_id: uuid.UUID) -> list[Tag]:
        reader_workspace(principal, workspace_id, field="workspaceId")
        async with self.db.transaction() as session:
            return await TagRepository(session, workspace_id).all()

    async def tags_of_leads(
        self, workspace_id: uuid.UUID, lead_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[Tag]]:
        async with self.db.transaction() as session:
            rows = await TagRepository(session, workspace_id).lead_tag_ids(lead_ids)
        out: dict[uuid.UUID, list[Tag]] = {i: [] for i in lead_ids}
        for owner, tag in rows:
            out[owner].append(tag)
        return out

    async def tags_of_contacts(
        self, workspace_id: uuid.UUID, contact_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[Tag]]:
        async with self.db.transaction() as session:
            rows = await TagRepository(session, workspace_id).contact_tag_ids(contact_ids)
        out: dict[uuid.UUID, list[Tag]] = {i: [] for i in contact_ids}
        for owner, tag in rows:
            out[owner].append(tag)
        return out

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
            actor.require_writer()
            found_leads = await LeadRepository(session, workspace_id).get_many(lead_ids)
            found_contacts = await ContactRepository(session, workspace_id).get_many(contact_ids)
            for i, lead_id in enumerate(lead_ids):
                lead = found_leads.get(lead_id)
                if lead is None:
                    raise NotFound("Nothing has this id.", field=f"ids[{i}]")
                actor.require_assigned(lead.assignee_id, "lead")
            for i, contact_id in enumerate(contact_ids):
                contact = found_contacts.get(contact_id)
                if contact is None:
                    raise NotFound("Nothing has this id.", field=f"ids[{len(lead_ids) + i}]")
                require_contact_writer(actor, contact)
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
            actor = await load_actor(session, principal, workspace_id)
            tag = await TagRepository(session, workspace_id).get(tag_id)
            if tag is None:
                raise NotFound("Nothing has this id.", field="id")
            actor.require_owner()
            await session.delete(tag)

    async def set_managers_edit_all(
        self, principal: Principal, workspace_id: uuid.UUID, allowed: bool
    ) -> bool:
        from embedcrm.workspaces.repository import WorkspaceDirectory

        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="workspaceId")
            actor.require_owner()
            workspace = await WorkspaceDirectory(session).get(workspace_id)
            assert workspace is not None
            workspace.managers_edit_all = allowed
            return allowed


def _check_custom_fields_shape(changes: Mapping[str, Any]) -> None:
    # Each value is checked against its definition later; this is about the container.
    if "custom_fields" in changes and not isinstance(changes["custom_fields"], dict):
        raise ValidationFailed("customFields is an object.", field="customFields")
