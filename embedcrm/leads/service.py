"""The client card: a lead's value, cart and order; a contact's details; timelines; tags."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.catalog.models import Product
from embedcrm.catalog.repository import ProductRepository
from embedcrm.contacts.events import contact_payloads
from embedcrm.contacts.models import Contact
from embedcrm.contacts.service import (
    Person,
    Sighting,
    check_custom_fields_shape,
    find_or_create_contacts,
    get_contact,
    require_contact_writer,
)
from embedcrm.db import Database, new_id, utcnow
from embedcrm.errors import ConfigurationError, NotFound, ValidationFailed
from embedcrm.events import Event
from embedcrm.fields.filters import LeadSpec
from embedcrm.fields.models import FieldEntity, FieldType
from embedcrm.fields.service import definitions_of, validate_custom_fields
from embedcrm.kit.grouping import grouped
from embedcrm.kit.repository import Page, Viewer, Window
from embedcrm.leads.assignment import Assigner
from embedcrm.leads.events import emit_lead_event, lead_payload, person_payload
from embedcrm.leads.models import (
    Activity,
    ActivityKind,
    Lead,
    LeadItem,
    LeadRecord,
    LeadSort,
    LeadStatus,
    PageRelations,
)
from embedcrm.leads.moves import get_lead
from embedcrm.leads.repository import (
    ActivityRepository,
    ItemRepository,
    LeadRepository,
    StageChangeRepository,
)
from embedcrm.pipelines.service import MAX_BULK, default_entry_stage, stage_of
from embedcrm.tasks.events import task_payload
from embedcrm.tasks.first_response import ANSWER_KINDS, close_answered
from embedcrm.tasks.models import Task, TaskKind
from embedcrm.tasks.service import add_task
from embedcrm.webhooks.outbox import OutboxRepository
from embedcrm.workspaces.access import get_member, load_actor, readable_row, viewer_of
from embedcrm.workspaces.repository import WorkspaceDirectory
from embedcrm.workspaces.words import word

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
    """A cart line. With ``product_id`` the catalogue fills what the line leaves out (name,
    SKU, price, cost) as a snapshot; without it the line is free text."""

    product: str
    quantity: Decimal
    unit_price: Decimal | None
    sku: str | None = None
    unit_cost: Decimal | None = None
    product_id: uuid.UUID | None = None


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


async def picked_products(
    session: AsyncSession, workspace_id: uuid.UUID, items: Sequence[ItemSpec]
) -> dict[uuid.UUID, Product]:
    """The catalogue products the lines pick; an unknown or inactive one is refused."""
    wanted = [item.product_id for item in items if item.product_id is not None]
    found = await ProductRepository(session, workspace_id).get_many(wanted)
    for i, item in enumerate(items):
        if item.product_id is None:
            continue
        product = found.get(item.product_id)
        if product is None:
            raise NotFound("Nothing has this id.", field=f"items[{i}].productId")
        if not product.active:
            raise ValidationFailed(
                "This product is no longer sold (inactive).", field=f"items[{i}].productId"
            )
    return found


async def workspace_currency(session: AsyncSession, workspace_id: uuid.UUID) -> str:
    workspace = await WorkspaceDirectory(session).get(workspace_id)
    return workspace.currency if workspace is not None else "RUB"


class LeadService:
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
        check_custom_fields_shape(changes)
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
            await emit_lead_event(
                session, lead, "lead.updated", now=now, stage=await stage_of(session, lead)
            )
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
            if len(item.product.strip()) > 300 or (
                item.product_id is None and not item.product.strip()
            ):
                raise ValidationFailed("A product name is required.", field=f"items[{i}].product")
            if (
                not item.quantity.is_finite()
                or item.quantity <= 0
                or item.quantity >= Decimal("1e9")
            ):
                raise ValidationFailed(
                    "A positive quantity is required.", field=f"items[{i}].quantity"
                )
            if item.unit_price is not None:
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
            picked = await picked_products(session, workspace_id, items)
            now = utcnow()
            cart: list[LeadItem] = []
            for i, item in enumerate(items):
                product = picked.get(item.product_id) if item.product_id else None
                line = repo.add(
                    LeadItem(
                        lead_id=lead.id,
                        position=i,
                        product_id=item.product_id,
                        product=item.product.strip() or (product.name if product else ""),
                        sku=(item.sku or "").strip() or (product.sku if product else None),
                        quantity=item.quantity.quantize(Decimal("0.001")),
                        unit_price=_money(item.unit_price, "unitPrice")
                        if item.unit_price is not None
                        else (product.price if product else Decimal("0.00")),
                        unit_cost=_money(item.unit_cost, "unitCost")
                        if item.unit_cost is not None or product is None
                        else product.cost,
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
            await emit_lead_event(
                session, lead, "lead.updated", now=now, stage=await stage_of(session, lead)
            )
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
                    stage=await stage_of(session, lead),
                    extra={"assignee": person_payload(member) if member else None},
                )
            return leads

    # ---- contacts ------------------------------------------------------------------------

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
        window: Window,
    ) -> Page[Activity]:
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id)
            repo = ActivityRepository(session, workspace_id)
            stmt = repo.readable(viewer, repo.of(lead_id=lead_id, contact_id=contact_id))
            return await repo.newest_first(stmt, window=window)

    async def count_timeline(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        lead_id: uuid.UUID | None = None,
        contact_id: uuid.UUID | None = None,
    ) -> int:
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id)
            repo = ActivityRepository(session, workspace_id)
            return await repo.count(
                repo.readable(viewer, repo.of(lead_id=lead_id, contact_id=contact_id))
            )

    async def first_leads_of_contacts(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        contact_ids: Sequence[uuid.UUID],
        size: int,
    ) -> dict[uuid.UUID, Page[Lead]]:
        """The newest ``size`` leads the caller sees of each contact, in one statement."""
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id)
            repo = LeadRepository(session, workspace_id)
            return await repo.first_page_per(
                repo.readable(viewer), Lead.contact_id, contact_ids, size
            )

    async def count_leads_of_contacts(
        self, principal: Principal, workspace_id: uuid.UUID, contact_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        """How many leads the caller sees of each contact, in one statement."""
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id)
            repo = LeadRepository(session, workspace_id)
            return await repo.count_per(repo.readable(viewer), Lead.contact_id, contact_ids)

    async def items_of_leads(
        self, workspace_id: uuid.UUID, lead_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[LeadItem]]:
        async with self.db.transaction() as session:
            rows = await ItemRepository(session, workspace_id).of_leads(lead_ids)
        return grouped(lead_ids, rows, attrgetter("lead_id"))

    # ---- tags ----------------------------------------------------------------------------

    async def leads_by_id(
        self, workspace_id: uuid.UUID, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, Lead]:
        async with self.db.transaction() as session:
            return await LeadRepository(session, workspace_id).get_many(ids)

    async def visible_lead(
        self, principal: Principal, workspace_id: uuid.UUID, lead_id: uuid.UUID
    ) -> Lead | None:
        """The lead, if ``principal`` may see it: a MANAGER sees their own and unassigned ones."""
        return await readable_row(self.db, principal, LeadRepository, workspace_id, lead_id)

    async def visible_activity(
        self, principal: Principal, workspace_id: uuid.UUID, activity_id: uuid.UUID
    ) -> Activity | None:
        """One timeline entry, if it is on a timeline ``principal`` reads."""
        return await readable_row(self.db, principal, ActivityRepository, workspace_id, activity_id)


@dataclass(frozen=True)
class Attribution:
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    referrer: str | None = None
    landing_page: str | None = None
    click_ids: Mapping[str, str] = field(default_factory=dict)
    first_touch: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewLead:
    person: Person
    attribution: Attribution
    title: str
    form: str | None = None
    message: str | None = None
    site_id: uuid.UUID | None = None
    # How it reached the business when not by a web form: CALL, CHAT, SOCIAL, EMAIL, OTHER.
    channel: str | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None
    # The timeline entry that explains where the lead came from.
    activity_kind: ActivityKind = ActivityKind.SUBMISSION
    activity_data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreatedLead:
    lead: Lead
    contact: Contact
    contact_created: bool
    task: Task


def touch_of(attribution: Attribution) -> dict[str, Any]:
    """The attribution as kept on a contact: only what is known."""
    touch = {
        "utm_source": attribution.utm_source,
        "utm_medium": attribution.utm_medium,
        "utm_campaign": attribution.utm_campaign,
        "utm_term": attribution.utm_term,
        "utm_content": attribution.utm_content,
        "referrer": attribution.referrer,
        "landing_page": attribution.landing_page,
        "click_ids": dict(attribution.click_ids) or None,
    }
    return {k: v for k, v in touch.items() if v}


async def create_lead(session: AsyncSession, workspace_id: uuid.UUID, new: NewLead) -> CreatedLead:
    """Contact, lead on the first stage, assignee, first-response task, timeline entry and
    events, all in the caller's transaction."""
    [created] = await create_leads(session, workspace_id, [new])
    return created


async def create_leads(
    session: AsyncSession, workspace_id: uuid.UUID, news: Sequence[NewLead]
) -> list[CreatedLead]:
    """``create_lead`` of many leads of one workspace, in the caller's transaction, in order.

    What every lead shares (the workspace, its entry stage, the assignment rules, the scope of
    the events) is read once; the contacts of all of them are matched under one round of
    identity locks and one lookup; contacts, leads, timeline entries, tasks and events are each
    inserted in one statement (one flush per table, as leads need their contacts' rows first).
    """
    if not news:
        return []
    workspace = await WorkspaceDirectory(session).get(workspace_id)
    entry = await default_entry_stage(session, workspace_id)
    if workspace is None or entry is None:
        raise ConfigurationError("The workspace has no default pipeline.")
    pipeline, stage = entry
    nows = [new.occurred_at or utcnow() for new in news]
    found = await find_or_create_contacts(
        session,
        workspace_id,
        [
            Sighting(new.person, now, touch_of(new.attribution))
            for new, now in zip(news, nows, strict=True)
        ],
    )
    assignees = Assigner(session, workspace_id)
    leads = LeadRepository(session, workspace_id)
    made: list[tuple[NewLead, Lead, Contact, bool]] = []
    for new, now, (contact, contact_created) in zip(news, nows, found, strict=True):
        attribution = new.attribution
        assignee_id = await assignees.choose(site_id=new.site_id, utm_source=attribution.utm_source)
        if assignee_id is not None and contact.manager_id is None:
            contact.manager_id = assignee_id
        lead = Lead(
            id=new_id(),
            contact_id=contact.id,
            site_id=new.site_id,
            pipeline_id=pipeline.id,
            stage_id=stage.id,
            assignee_id=assignee_id,
            title=new.title[:300],
            status=LeadStatus.OPEN,
            form=new.form,
            channel=new.channel,
            message=new.message,
            custom_fields=dict(new.custom_fields),
            utm_source=attribution.utm_source,
            utm_medium=attribution.utm_medium,
            utm_campaign=attribution.utm_campaign,
            utm_term=attribution.utm_term,
            utm_content=attribution.utm_content,
            referrer=attribution.referrer,
            landing_page=attribution.landing_page,
            click_ids=dict(attribution.click_ids),
            first_touch=dict(attribution.first_touch),
            event_sequence=1,
            created_at=now,
            updated_at=now,
        )
        made.append((new, lead, contact, contact_created))
    await session.flush()  # the contacts
    for _new, lead, _contact, _created in made:
        leads.add(lead)
    await session.flush()
    activities = ActivityRepository(session, workspace_id)
    created: list[CreatedLead] = []
    for new, lead, contact, contact_created in made:
        now = lead.created_at
        activities.add(
            Activity(
                contact_id=contact.id,
                lead_id=lead.id,
                kind=new.activity_kind,
                body=new.message,
                data=dict(new.activity_data),
                created_at=now,
            )
        )
        task = add_task(
            session,
            workspace_id,
            Task(
                kind=TaskKind.FIRST_RESPONSE,
                title=f"{word(workspace.language, 'reply')}: {lead.title}"[:300],
                lead_id=lead.id,
                contact_id=contact.id,
                assignee_id=lead.assignee_id,
                due_at=now + timedelta(minutes=workspace.first_response_minutes),
                created_at=now,
            ),
        )
        created.append(CreatedLead(lead, contact, contact_created, task))
    await session.flush()
    outbox = OutboxRepository(session, workspace_id)
    scopes: dict[uuid.UUID | None, dict[str, Any]] = {}
    # Every e-mail and phone of every contact of the batch, in one query.
    people = await contact_payloads(session, [one.contact for one in created])
    for one in created:
        lead, contact, now = one.lead, one.contact, one.lead.created_at
        if lead.site_id not in scopes:
            scopes[lead.site_id] = await outbox.scope(lead.site_id)
        common = scopes[lead.site_id]
        if one.contact_created:
            outbox.record(
                Event(
                    type="contact.created",
                    occurred_at=now,
                    data={**common, "contact": people[contact.id]},
                )
            )
        outbox.record(
            Event(
                type="lead.created",
                occurred_at=now,
                data={
                    **common,
                    "sequence": 1,
                    "lead": lead_payload(lead, stage),
                    "contact": people[contact.id],
                },
            ),
            lead_id=lead.id,
            sequence=1,
        )
        outbox.record(
            Event(
                type="task.created",
                occurred_at=now,
                data={**common, "task": task_payload(one.task)},
            )
        )
    return created


# What other domains do to a contact's leads and timeline inside their own transaction:
# merging contacts moves them, erasing a person removes them.


async def leads_of_contact(
    session: AsyncSession, workspace_id: uuid.UUID, contact_id: uuid.UUID
) -> list[Lead]:
    return await LeadRepository(session, workspace_id).of_contact(contact_id)


async def activities_of_contact(
    session: AsyncSession, workspace_id: uuid.UUID, contact_id: uuid.UUID
) -> list[Activity]:
    return await ActivityRepository(session, workspace_id).of_contact(contact_id)


async def items_of_leads(
    session: AsyncSession, workspace_id: uuid.UUID, lead_ids: Sequence[uuid.UUID]
) -> list[LeadItem]:
    return await ItemRepository(session, workspace_id).of_leads(lead_ids)


async def erase_lead_history(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    contact_id: uuid.UUID,
    lead_ids: Sequence[uuid.UUID],
) -> None:
    """Delete the stage history of these leads and the contact's timeline."""
    await StageChangeRepository(session, workspace_id).erase_of_leads(lead_ids)
    await ActivityRepository(session, workspace_id).erase_of_contact(contact_id)


def add_activity(session: AsyncSession, workspace_id: uuid.UUID, activity: Activity) -> Activity:
    return ActivityRepository(session, workspace_id).add(activity)


async def move_contact_timeline(
    session: AsyncSession, workspace_id: uuid.UUID, source: uuid.UUID, target: uuid.UUID
) -> tuple[list[str], list[str]]:
    """Give ``target`` the leads and timeline of ``source``; answers the ids of both moved."""
    lead_ids = await LeadRepository(session, workspace_id).move_contact(source, target)
    activity_ids = await ActivityRepository(session, workspace_id).move_contact(source, target)
    return lead_ids, activity_ids


async def give_back_timeline(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    lead_ids: Sequence[uuid.UUID],
    activity_ids: Sequence[uuid.UUID],
    contact_id: uuid.UUID,
) -> None:
    """Undo of ``move_contact_timeline``: these leads and entries go back to ``contact_id``."""
    await LeadRepository(session, workspace_id).set_contact(lead_ids, contact_id)
    await ActivityRepository(session, workspace_id).set_contact(activity_ids, contact_id)


# Leads matching a filter, for the lists, segments and exports of the fields domain. ``own``
# narrows them to one manager's; ``kinds`` types the custom fields the filter names.


def _filtered(
    repo: LeadRepository, spec: LeadSpec, kinds: dict[str, FieldType], viewer: Viewer
) -> Select[Lead]:
    return repo.readable(viewer, repo.matching(spec, kinds))


async def filtered_leads_page(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    spec: LeadSpec,
    kinds: dict[str, FieldType],
    *,
    viewer: Viewer,
    window: Window,
    sort: LeadSort = LeadSort.NEWEST,
    relations: PageRelations | None = None,
) -> Page[LeadRecord]:
    """One page of the leads ``spec`` asks for; ``relations`` names what to read with them."""
    repo = LeadRepository(session, workspace_id, relations=relations)
    if repo.splits_text_search(spec):
        return await repo.page_of_either(
            [
                repo.readable(viewer, repo.matching(spec, kinds, text_in=place))
                for place in ("lead", "contact")
            ],
            sort,
            window=window,
        )
    return await repo.page(_filtered(repo, spec, kinds, viewer), sort, window=window)


async def count_filtered_leads(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    spec: LeadSpec,
    kinds: dict[str, FieldType],
    *,
    viewer: Viewer,
    up_to: int | None = None,
) -> int:
    """How many leads match: all of them, or no more than ``up_to`` (``up_to`` itself meaning
    at least that many), read as the page is (two searches apart on PostgreSQL)."""
    repo = LeadRepository(session, workspace_id)
    if up_to is None:
        return await repo.count(_filtered(repo, spec, kinds, viewer))
    if repo.splits_text_search(spec):
        halves = [
            repo.readable(viewer, repo.matching(spec, kinds, text_in=place))
            for place in ("lead", "contact")
        ]
        return await repo.count_up_to_of_either(halves, up_to)
    return await repo.count_up_to(_filtered(repo, spec, kinds, viewer), up_to)


async def all_filtered_leads(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    spec: LeadSpec,
    kinds: dict[str, FieldType],
    *,
    viewer: Viewer,
) -> list[Lead]:
    """Every matching lead, read in keyset batches (exports)."""
    repo = LeadRepository(session, workspace_id)
    return await repo.batches(_filtered(repo, spec, kinds, viewer))


async def leads_by_import_keys(
    session: AsyncSession, workspace_id: uuid.UUID, keys: Iterable[str]
) -> dict[str, Lead]:
    return await LeadRepository(session, workspace_id).by_import_keys(keys)


def add_lead(session: AsyncSession, workspace_id: uuid.UUID, lead: Lead) -> Lead:
    return LeadRepository(session, workspace_id).add(lead)
