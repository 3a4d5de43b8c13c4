"""GraphQL types of contacts: the card, the contact list, and merging two contacts into one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry.scalars import JSON

from embedcrm.contacts import models as contact_models
from embedcrm.contacts.merge import UNDO_WINDOW
from embedcrm.db import parsed
from embedcrm.graphql.batching import load_ahead, ready_or_load, related, selected_under
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, Node, node_id
from embedcrm.graphql.fields.types import Tag, contact_tags
from embedcrm.graphql.ids import to_global_id
from embedcrm.graphql.leads import types as lead_types
from embedcrm.graphql.nodes import loads_visible
from embedcrm.graphql.tasks import types as task_types
from embedcrm.graphql.workspaces.types import Member, load_member
from embedcrm.kit.repository import Window

if TYPE_CHECKING:
    from embedcrm.graphql.leads.types import Activity, Lead
    from embedcrm.graphql.tasks.types import Task


@strawberry.interface(name="ContactPoint", description="One e-mail or phone of a contact.")
class ContactPointFields:
    id: strawberry.ID = strawberry.field(
        description="What updateContactPoint and removeContactPoint take."
    )
    value: str = strawberry.field(description="As entered.")
    label: str | None = strawberry.field(description="Work, home, mobile… as the team writes it.")
    primary: bool = strawberry.field(
        description="The one Contact.email / Contact.phone show, and messages go to."
    )
    created_at: datetime


@strawberry.type(description="One e-mail address of a contact.")
class ContactEmail(ContactPointFields):
    normalized: str | None = strawberry.field(description="Lower-cased, as matching uses it.")


@strawberry.type(description="One phone number of a contact.")
class ContactPhone(ContactPointFields):
    e164: str | None = strawberry.field(description="E.164, when the number could be read.")


def _email(row: contact_models.ContactPoint) -> ContactEmail:
    return ContactEmail(
        id=node_id("ContactPoint", row),
        value=row.value,
        label=row.label,
        primary=row.is_primary,
        created_at=row.created_at,
        normalized=row.normalized,
    )


def _phone(row: contact_models.ContactPoint) -> ContactPhone:
    return ContactPhone(
        id=node_id("ContactPoint", row),
        value=row.value,
        label=row.label,
        primary=row.is_primary,
        created_at=row.created_at,
        e164=row.normalized,
    )


def _points_of(
    rows: list[contact_models.ContactPoint] | None, kind: contact_models.PointKind
) -> list[contact_models.ContactPoint]:
    return [row for row in rows or [] if row.kind is kind]


@strawberry.type
class Contact(Node):
    name: str | None
    email: str | None
    phone: str | None
    company: str | None

    # Stored documents are decoded when asked for: a list's records hold them as text.
    @strawberry.field
    def custom_fields(self) -> JSON:
        return cast(JSON, parsed(self._row.custom_fields))

    @strawberry.field(description="Where the person first came from.")
    def first_touch(self) -> JSON:
        return cast(JSON, parsed(self._row.first_touch))

    @strawberry.field(description="Where their latest lead came from.")
    def last_touch(self) -> JSON:
        return cast(JSON, parsed(self._row.last_touch))

    created_at: datetime

    _row: strawberry.Private[contact_models.Contact | contact_models.ContactRecord]

    # The manager, tags and first page of leads come at once when the contact list loaded
    # them ahead (``load_contact_relations``), else from their DataLoaders; graphql-core
    # awaits what a field returns when it is awaitable, hence the casts.
    @strawberry.field(description="The client's personal manager.")
    def manager(self, info: Info) -> Member | None:
        if self._row.manager_id is None:
            return None
        key = (self._row.workspace_id, self._row.manager_id)
        loaders = info.context.loaders
        return cast("Member | None", related(loaders.converted, loaders.members, key, Member.of))

    @strawberry.field
    def tags(self, info: Info) -> list[Tag]:
        return contact_tags(info, self._row)

    @strawberry.field(description="Every e-mail of the person, the primary one first.")
    def emails(self, info: Info) -> list[ContactEmail]:
        return cast(
            "list[ContactEmail]", self._points(info, contact_models.PointKind.EMAIL, _email)
        )

    @strawberry.field(description="Every phone of the person, the primary one first.")
    def phones(self, info: Info) -> list[ContactPhone]:
        return cast(
            "list[ContactPhone]", self._points(info, contact_models.PointKind.PHONE, _phone)
        )

    def _points(
        self,
        info: Info,
        kind: contact_models.PointKind,
        convert: Callable[[contact_models.ContactPoint], ContactEmail | ContactPhone],
    ) -> object:
        """The contact's e-mails or phones: one loader holds both kinds."""
        return ready_or_load(
            info.context.loaders.contact_points,
            (self._row.workspace_id, self._row.id),
            lambda rows: [convert(r) for r in _points_of(rows, kind)],
        )

    @strawberry.field(description="The contact's leads, newest first.")
    def leads(
        self,
        info: Info,
        first: int | None = lead_types.CONTACT_LEADS_PAGE,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Lead, strawberry.lazy("embedcrm.graphql.leads.types")]]:
        return cast(
            "Connection[Lead]",
            lead_types.contact_leads(info, self._row, window=Window(first, after, last, before)),
        )

    @strawberry.field(description="Everything that happened with the person, newest first.")
    async def timeline(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Activity, strawberry.lazy("embedcrm.graphql.leads.types")]]:
        return await lead_types.timeline(
            info, self._row, lead=False, window=Window(first, after, last, before)
        )

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
            info, self._row, lead=False, window=Window(first, after, last, before)
        )

    @classmethod
    def of(cls, row: contact_models.Contact | contact_models.ContactRecord) -> Contact:
        return cls(
            id=strawberry.ID(to_global_id("Contact", row.workspace_id, row.id)),
            name=row.name,
            email=row.email_normalized or row.email,
            phone=row.phone_e164 or row.phone,
            company=row.company,
            created_at=row.created_at,
            _row=row,
        )


MergeProposalStatus = strawberry.enum(
    contact_models.MergeProposalStatus, name="MergeProposalStatus"
)


@strawberry.type
class MergeProposal(Node):
    reason: str
    status: MergeProposalStatus  # type: ignore[valid-type]
    created_at: datetime
    resolved_at: datetime | None
    _row: strawberry.Private[contact_models.MergeProposal]

    @strawberry.field
    async def contact(self, info: Info) -> Contact | None:
        row = await info.context.loaders.contacts.load(
            (self._row.workspace_id, self._row.contact_id)
        )
        return Contact.of(row) if row else None

    @strawberry.field
    async def other_contact(self, info: Info) -> Contact | None:
        row = await info.context.loaders.contacts.load(
            (self._row.workspace_id, self._row.other_contact_id)
        )
        return Contact.of(row) if row else None

    @classmethod
    def of(cls, row: contact_models.MergeProposal) -> MergeProposal:
        return cls(
            id=node_id("MergeProposal", row),
            reason=row.reason,
            status=row.status,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
            _row=row,
        )


@strawberry.type(description="The audit entry of a merge of two contacts.")
class ContactMerge(Node):
    merged_contact_id: strawberry.ID
    created_at: datetime
    undone_at: datetime | None
    undo_until: datetime
    _row: strawberry.Private[contact_models.ContactMerge]

    @strawberry.field
    async def kept_contact(self, info: Info) -> Contact | None:
        row = await info.context.loaders.contacts.load(
            (self._row.workspace_id, self._row.kept_contact_id)
        )
        return Contact.of(row) if row else None

    @strawberry.field
    async def merged_by(self, info: Info) -> Member | None:
        return await load_member(info, self._row.workspace_id, self._row.merged_by_id)

    @classmethod
    def of(cls, row: contact_models.ContactMerge) -> ContactMerge:
        return cls(
            id=node_id("ContactMerge", row),
            merged_contact_id=strawberry.ID(
                to_global_id("Contact", row.workspace_id, row.merged_contact_id)
            ),
            created_at=row.created_at,
            undone_at=row.undone_at,
            undo_until=row.created_at + UNDO_WINDOW,
            _row=row,
        )


async def load_contact_relations(
    info: Info, rows: Sequence[contact_models.Contact], *path: str
) -> None:
    """Load the managers, tags, e-mails and phones and first pages of leads of a list's
    contacts now, one statement each, if the query asks for them at ``path`` (``"edges", "node"``)."""
    wanted = selected_under(info.selected_fields, *path)
    loaders = info.context.loaders
    await load_ahead(
        [
            (
                loaders.members,
                [(r.workspace_id, r.manager_id) for r in rows if r.manager_id is not None]
                if "manager" in wanted
                else [],
            ),
            (
                loaders.contact_tags,
                [(r.workspace_id, r.id) for r in rows] if "tags" in wanted else [],
            ),
            (
                loaders.contact_points,
                [(r.workspace_id, r.id) for r in rows]
                if "emails" in wanted or "phones" in wanted
                else [],
            ),
        ]
    )
    if "leads" in wanted:
        await lead_types.load_contact_leads(info, rows, *path)


loads_visible("Contact", Contact.of, lambda s: s.contacts.visible_contact)


loads_visible("MergeProposal", MergeProposal.of, lambda s: s.merges.visible_proposal)


loads_visible("ContactMerge", ContactMerge.of, lambda s: s.merges.visible_merge)
