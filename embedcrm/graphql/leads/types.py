"""GraphQL types of leads: the card, its cart, its timeline, its stage history and the lead list."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Sequence
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from embedcrm.contacts import models as contact_models
from embedcrm.db import parsed
from embedcrm.fields.filters import LeadSpec
from embedcrm.graphql.batching import (
    load_ahead,
    ready_or_load,
    related,
    selected_at,
)
from embedcrm.graphql.contacts import types as contact_types
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, Node, node_id
from embedcrm.graphql.fields.types import Tag, lead_tags
from embedcrm.graphql.ids import to_global_id
from embedcrm.graphql.messages.types import Message
from embedcrm.graphql.nodes import loads_visible
from embedcrm.graphql.pipelines.types import Stage
from embedcrm.graphql.support import connection
from embedcrm.graphql.tasks import types as task_types
from embedcrm.graphql.workspaces.types import Member, load_member
from embedcrm.kit.repository import MAX_PAGE_SIZE, Window, page_size
from embedcrm.leads import models as lead_models

# What a contact's ``leads`` field shows when ``first`` is left out.
CONTACT_LEADS_PAGE = 20

if TYPE_CHECKING:
    from strawberry.types.nodes import SelectedField

    from embedcrm.graphql.contacts.types import Contact
    from embedcrm.graphql.tasks.types import Task


LeadStatus = strawberry.enum(lead_models.LeadStatus, name="LeadStatus")
LeadSort = strawberry.enum(
    lead_models.LeadSort,
    name="LeadSort",
    description="NEWEST: newest first. UNANSWERED_FIRST: the open leads no member has answered "
    "yet (no note, call, meeting, e-mail or message by a member, no first-response task done), "
    "newest first, then the others, newest first; pages forward only.",
)


@strawberry.type(description="Where a lead came from: its last touch, and the visitor's first.")
class LeadSource:
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    referrer: str | None
    landing_page: str | None
    _row: strawberry.Private[lead_models.Lead | lead_models.LeadRecord]

    # Stored documents are decoded when asked for: a list's records hold them as text.
    @strawberry.field
    def click_ids(self) -> JSON:
        return cast(JSON, parsed(self._row.click_ids))

    @strawberry.field
    def first_touch(self) -> JSON:
        return cast(JSON, parsed(self._row.first_touch))


@strawberry.type
class Lead(Node):
    title: str
    status: LeadStatus  # type: ignore[valid-type]
    form: str | None
    message: str | None
    value: str | None
    currency: str | None

    @strawberry.field
    def custom_fields(self) -> JSON:
        return cast(JSON, parsed(self._row.custom_fields))

    source: LeadSource
    created_at: datetime
    updated_at: datetime
    _row: strawberry.Private[lead_models.Lead | lead_models.LeadRecord]

    # The contact, stage and assignee come at once when the list loaded them ahead
    # (``load_relations_of``), else from their DataLoaders; strawberry and graphql-core await
    # what a field returns when it is awaitable, hence the casts.
    @strawberry.field
    def contact(
        self, info: Info
    ) -> Annotated[Contact, strawberry.lazy("embedcrm.graphql.contacts.types")] | None:
        key = (self._row.workspace_id, self._row.contact_id)
        loaders = info.context.loaders
        return cast(
            "Contact | None",
            related(loaders.converted, loaders.contacts, key, contact_types.Contact.of),
        )

    @strawberry.field
    def stage(self, info: Info) -> Stage | None:
        key = (self._row.workspace_id, self._row.stage_id)
        loaders = info.context.loaders
        return cast("Stage | None", related(loaders.converted, loaders.stages, key, Stage.of))

    @strawberry.field
    def assignee(self, info: Info) -> Member | None:
        if self._row.assignee_id is None:
            return None
        key = (self._row.workspace_id, self._row.assignee_id)
        loaders = info.context.loaders
        return cast("Member | None", related(loaders.converted, loaders.members, key, Member.of))

    @strawberry.field(description="How the lead reached the business: web form, call, chat.")
    def channel(self) -> str | None:
        return self._row.channel

    @strawberry.field(
        description="Why it was won or lost, as given with the move; null while open."
    )
    def close_reason(self) -> str | None:
        return self._row.close_reason

    @strawberry.field(
        description="True once a person set the value; until then it follows the cart."
    )
    def value_set_by_hand(self) -> bool:
        return bool(self._row.value_set_by_hand)

    @strawberry.field(
        description="When a member first answered it (a note, call, meeting, e-mail or message, "
        "or its first-response task done); null until then."
    )
    def first_response_at(self) -> datetime | None:
        return self._row.first_response_at

    @strawberry.field
    def pipeline_id(self) -> strawberry.ID:
        return strawberry.ID(
            to_global_id("Pipeline", self._row.workspace_id, self._row.pipeline_id)
        )

    @strawberry.field(description="Payment and delivery of the order.")
    def order(self) -> LeadOrder:
        return lead_order(self._row)

    @strawberry.field(description="The cart.")
    async def items(self, info: Info) -> list[LeadItem]:
        return await lead_items(info, self._row)

    @strawberry.field(description="The sum of the cart's line totals, as a decimal string.")
    async def items_total(self, info: Info) -> str:
        return await lead_items_total(info, self._row)

    @strawberry.field
    def tags(self, info: Info) -> list[Tag]:
        return lead_tags(info, self._row)

    @strawberry.field(description="Notes, calls, e-mails, meetings, messages, stage changes.")
    async def timeline(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Activity]:
        return await timeline(info, self._row, lead=True, window=Window(first, after, last, before))

    @strawberry.field(description="Every move between stages, oldest first.")
    async def stage_history(self, info: Info) -> list[StageChange]:
        return await stage_history(info, self._row)

    @strawberry.field
    async def tasks(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Task, strawberry.lazy("embedcrm.graphql.tasks.types")]]:
        return await task_types.tasks_of(
            info, self._row, lead=True, window=Window(first, after, last, before)
        )

    @strawberry.field
    def site_id(self) -> strawberry.ID | None:
        row = self._row
        if row.site_id is None:
            return None
        return strawberry.ID(to_global_id("Site", row.workspace_id, row.site_id))

    @classmethod
    def of(cls, row: lead_models.Lead | lead_models.LeadRecord) -> Lead:
        return cls(
            id=strawberry.ID(to_global_id("Lead", row.workspace_id, row.id)),
            title=row.title,
            status=row.status,
            form=row.form,
            message=row.message,
            value=None if row.value is None else str(row.value),
            currency=row.currency,
            source=LeadSource(
                utm_source=row.utm_source,
                utm_medium=row.utm_medium,
                utm_campaign=row.utm_campaign,
                utm_term=row.utm_term,
                utm_content=row.utm_content,
                referrer=row.referrer,
                landing_page=row.landing_page,
                _row=row,
            ),
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )


ActivityKind = strawberry.enum(lead_models.ActivityKind, name="ActivityKind")


@strawberry.type(description="A line of the cart: money as decimal strings.")
class LeadItem:
    product: str
    product_id: strawberry.ID | None = strawberry.field(
        description="The catalogue product the line was picked from; the name and prices "
        "are a snapshot taken then."
    )
    sku: str | None
    quantity: str
    unit_price: str
    unit_cost: str | None
    line_total: str

    @classmethod
    def of(cls, row: lead_models.LeadItem) -> LeadItem:
        return cls(
            product=row.product,
            product_id=None
            if row.product_id is None
            else strawberry.ID(to_global_id("Product", row.workspace_id, row.product_id)),
            sku=row.sku,
            quantity=str(row.quantity.normalize()),
            unit_price=str(row.unit_price),
            unit_cost=None if row.unit_cost is None else str(row.unit_cost),
            line_total=str((row.quantity * row.unit_price).quantize(Decimal("0.01"))),
        )


@strawberry.type(description="Payment and delivery of the lead's order.")
class LeadOrder:
    payment_method: str | None
    ordered_at: datetime | None
    delivery_method: str | None
    delivery_address: str | None
    delivery_from: datetime | None
    delivery_to: datetime | None


@strawberry.type(description="One entry of a timeline: note, call, e-mail, meeting, message, …")
class Activity(Node):
    kind: ActivityKind  # type: ignore[valid-type]
    body: str | None
    data: JSON
    created_at: datetime
    _row: strawberry.Private[lead_models.Activity]

    @strawberry.field
    async def author(self, info: Info) -> Member | None:
        return await load_member(info, self._row.workspace_id, self._row.author_id)

    @strawberry.field
    def lead_id(self) -> strawberry.ID | None:
        row = self._row
        return (
            None
            if row.lead_id is None
            else strawberry.ID(to_global_id("Lead", row.workspace_id, row.lead_id))
        )

    @strawberry.field
    def contact_id(self) -> strawberry.ID:
        row = self._row
        return strawberry.ID(to_global_id("Contact", row.workspace_id, row.contact_id))

    @strawberry.field(
        description="On a MESSAGE entry the CRM sent: the message, with its channel and its "
        "status (queued, sent, delivered or failed) as it is now; null on other entries."
    )
    async def message(self, info: Info) -> Message | None:
        row = self._row
        # Entries members write may carry any data: only the CRM's own entry names a message,
        # and only one sent to this entry's contact.
        if row.kind is not lead_models.ActivityKind.MESSAGE or row.author_id is not None:
            return None
        try:
            message_id = uuid.UUID(str(row.data.get("message_id")))
        except ValueError:
            return None
        found = await info.context.loaders.messages.load((row.workspace_id, message_id))
        if found is None or found.contact_id != row.contact_id:
            return None
        return Message.of(found)

    @classmethod
    def of(cls, row: lead_models.Activity) -> Activity:
        return cls(
            id=node_id("Activity", row),
            kind=row.kind,
            body=row.body,
            data=cast(JSON, row.data),
            created_at=row.created_at,
            _row=row,
        )


@strawberry.type
class StageRef:
    id: strawberry.ID | None
    name: str | None


@strawberry.type(description="One move of a lead between stages.")
class StageChange:
    from_stage: StageRef | None
    to_stage: StageRef
    changed_at: datetime
    _row: strawberry.Private[lead_models.LeadStageChange]

    @strawberry.field
    async def changed_by(self, info: Info) -> Member | None:
        return await load_member(info, self._row.workspace_id, self._row.changed_by_id)

    @classmethod
    def of(cls, row: lead_models.LeadStageChange) -> StageChange:
        ws = row.workspace_id
        return cls(
            from_stage=None
            if row.from_stage_id is None
            else StageRef(
                id=strawberry.ID(to_global_id("Stage", ws, row.from_stage_id)),
                name=row.from_stage_name,
            ),
            to_stage=StageRef(
                id=strawberry.ID(to_global_id("Stage", ws, row.to_stage_id)), name=row.to_stage_name
            ),
            changed_at=row.changed_at,
            _row=row,
        )


def lead_order(row: lead_models.Lead | lead_models.LeadRecord) -> LeadOrder:
    return LeadOrder(
        payment_method=row.payment_method,
        ordered_at=row.ordered_at,
        delivery_method=row.delivery_method,
        delivery_address=row.delivery_address,
        delivery_from=row.delivery_from,
        delivery_to=row.delivery_to,
    )


async def lead_items(info: Info, row: lead_models.Lead | lead_models.LeadRecord) -> list[LeadItem]:
    items = await info.context.loaders.lead_items.load((row.workspace_id, row.id))
    return [LeadItem.of(i) for i in items or []]


async def lead_items_total(info: Info, row: lead_models.Lead | lead_models.LeadRecord) -> str:
    items = await info.context.loaders.lead_items.load((row.workspace_id, row.id))
    return str(
        sum((i.quantity * i.unit_price for i in items or []), start=Decimal("0")).quantize(
            Decimal("0.01")
        )
    )


async def timeline(
    info: Info,
    row: Any,
    *,
    lead: bool,
    window: Window,
) -> Connection[Activity]:
    leads = info.context.services.leads
    principal = info.context.principal
    page = await leads.timeline(
        principal,
        row.workspace_id,
        lead_id=row.id if lead else None,
        contact_id=None if lead else row.id,
        window=window,
    )

    async def count() -> int:
        return await leads.count_timeline(
            principal,
            row.workspace_id,
            lead_id=row.id if lead else None,
            contact_id=None if lead else row.id,
        )

    return connection(page, Activity.of, count)


async def stage_history(
    info: Info, row: lead_models.Lead | lead_models.LeadRecord
) -> list[StageChange]:
    rows = await info.context.services.pipelines.stage_history(row.workspace_id, row.id)
    return [StageChange.of(r) for r in rows]


def contact_leads(
    info: Info,
    row: contact_models.Contact | contact_models.ContactRecord,
    *,
    window: Window,
) -> Connection[Lead] | Awaitable[Connection[Lead]]:
    """A contact's leads: the first page at once when the contact list loaded it ahead
    (``load_contact_leads``), else through the loader that batches it over the list; any
    other page on its own."""
    loaders = info.context.loaders
    key = (row.workspace_id, row.id)

    def count() -> int | Awaitable[int]:
        return ready_or_load(loaders.contact_lead_counts, key, lambda found: found or 0)

    if window.after is None and window.before is None and window.last is None:
        size = page_size(MAX_PAGE_SIZE if window.first is None else window.first)
        return ready_or_load(
            loaders.contact_leads, (*key, size), lambda page: connection(page, Lead.of, count)
        )

    async def other_page() -> Connection[Lead]:
        lists = info.context.services.lists
        spec = LeadSpec(contact_id=row.id)
        page, _ = await lists.leads_page_and_total(
            info.context.principal, row.workspace_id, spec, window=window, total=False
        )
        return connection(page, Lead.of, count)

    return other_page()


async def load_contact_leads(
    info: Info, rows: Sequence[contact_models.Contact], *path: str
) -> None:
    """Load the first page of each contact's leads now, as every ``leads`` field at ``path``
    (``"edges", "node"`` in a connection) asks for it, with their count and their own
    relations: one statement each, however many contacts the list shows."""
    loaders = info.context.loaders
    for field in selected_at(info.selected_fields, *path):
        if field.name != "leads":
            continue
        arguments = field.arguments
        if any(arguments.get(name) is not None for name in ("after", "last", "before")):
            continue  # not a first page: read on its own
        # As written in the document (a literal's digits) or as a variable holds it: a guess
        # that misses (a declared variable left unset) only leaves the field to its loader.
        first = arguments["first"] if "first" in arguments else CONTACT_LEADS_PAGE
        size = page_size(MAX_PAGE_SIZE if first is None else int(first))
        keys = [(r.workspace_id, r.id, size) for r in rows]
        wanted = {child.name for child in selected_at([field])}
        await load_ahead(
            [
                (loaders.contact_leads, keys),
                (
                    loaders.contact_lead_counts,
                    [(r.workspace_id, r.id) for r in rows] if "totalCount" in wanted else [],
                ),
            ]
        )
        loaded = [loaders.contact_leads.cache_map.get(key) for key in keys]
        leads = [
            lead
            for future in loaded
            if future is not None and future.done() and future.exception() is None
            for lead in future.result().rows
        ]
        await load_relations_of(info, leads, selected_at([field], "edges", "node"))


def prime_page_relations(
    info: Info, rows: Sequence[lead_models.LeadRecord], relations: lead_models.PageRelations
) -> None:
    """Hand the request what a page read along with its leads (``PageRelations``), converted
    once each: the leads' ``contact``, ``stage`` and ``assignee`` then find it at once, and
    ``load_relations_of`` reads none of it again. The loaders keep ORM rows for every other
    field; these records go to the fields of this page alone."""
    converted = info.context.loaders.converted
    primed: tuple[tuple[bool, Any, dict[Any, Any], attrgetter[Any]], ...] = (
        (relations.contact, contact_types.Contact.of, relations.contacts, attrgetter("contact_id")),
        (relations.stage, Stage.of, relations.stages, attrgetter("stage_id")),
        (relations.assignee, Member.of, relations.members, attrgetter("assignee_id")),
    )
    for asked, convert, found, named in primed:
        if not asked:
            continue
        for row in rows:
            row_id = named(row)
            memo = (convert, (row.workspace_id, row_id))
            if row_id is not None and memo not in converted and row_id in found:
                converted[memo] = convert(found[row_id])


async def load_relations_of(
    info: Info,
    rows: Sequence[lead_models.Lead | lead_models.LeadRecord],
    asked: Sequence[SelectedField],
    primed: lead_models.PageRelations | None = None,
) -> None:
    """Load the contacts (and their e-mails and phones), stages, assignees and tags of ``rows``
    that ``asked`` (the fields asked of each lead) names, one statement each; what the page's
    own statement read (``primed``, handed to the loaders by ``prime_page_relations``) is not
    asked for again."""
    wanted = {field.name for field in asked}
    if primed is not None:
        wanted -= {name for name in ("contact", "stage", "assignee") if getattr(primed, name)}
    asked_of_contact = {
        child.name for field in asked if field.name == "contact" for child in selected_at([field])
    }
    loaders = info.context.loaders
    await load_ahead(
        [
            (
                loaders.contacts,
                [(r.workspace_id, r.contact_id) for r in rows] if "contact" in wanted else [],
            ),
            (
                loaders.stages,
                [(r.workspace_id, r.stage_id) for r in rows] if "stage" in wanted else [],
            ),
            (
                loaders.members,
                [(r.workspace_id, r.assignee_id) for r in rows if r.assignee_id is not None]
                if "assignee" in wanted
                else [],
            ),
            (loaders.lead_tags, [(r.workspace_id, r.id) for r in rows] if "tags" in wanted else []),
            # Every e-mail and phone of those contacts, when the query asks the contact for them.
            (
                loaders.contact_points,
                [(r.workspace_id, r.contact_id) for r in rows]
                if {"emails", "phones"} & asked_of_contact
                else [],
            ),
        ]
    )


loads_visible("Lead", Lead.of, lambda s: s.leads.visible_lead)


loads_visible("Activity", Activity.of, lambda s: s.leads.visible_activity)
