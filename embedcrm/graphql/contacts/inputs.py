"""GraphQL inputs and payloads of contacts: the card, the contact list, and merging two contacts into one."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from embedcrm.contacts.models import PointKind
from embedcrm.fields.filters import ContactSpec
from embedcrm.graphql.contacts.types import Contact, ContactMerge, MergeProposal
from embedcrm.graphql.core import UserError
from embedcrm.graphql.fields.filters import CustomFieldFilter, custom_conditions
from embedcrm.graphql.support import UNSET, scoped_id


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
        custom=custom_conditions(value.custom),
    )


@strawberry.type
class ContactPayload:
    contact: Contact | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ContactMergePayload:
    merge: ContactMerge | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MergeProposalPayload:
    proposal: MergeProposal | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateContactInput:
    id: strawberry.ID
    name: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    company: str | None = UNSET
    manager_id: strawberry.ID | None = UNSET
    custom_fields: JSON | None = UNSET


ContactPointKind = strawberry.enum(PointKind, name="ContactPointKind")


@strawberry.input(description="Another e-mail or phone for a contact.")
class AddContactPointInput:
    contact_id: strawberry.ID
    kind: ContactPointKind  # type: ignore[valid-type]
    value: str = strawberry.field(description="An e-mail address, or a phone in any notation.")
    label: str | None = strawberry.field(default=None, description="Work, home, mobile…")
    primary: bool = strawberry.field(
        default=False,
        description="Make it the contact's email/phone (the first of its kind always is).",
    )


@strawberry.input(description="Relabel an e-mail or phone, or make it the primary one.")
class UpdateContactPointInput:
    id: strawberry.ID = strawberry.field(description="A ContactEmail's or ContactPhone's id.")
    label: str | None = UNSET
    primary: bool | None = strawberry.field(
        default=UNSET, description="true makes it the contact's email/phone."
    )


@strawberry.input
class MergeContactsInput:
    keep_id: strawberry.ID
    merge_id: strawberry.ID = strawberry.field(description="Merged into keepId, then removed.")


@strawberry.input
class AcceptMergeProposalInput:
    id: strawberry.ID
    keep_id: strawberry.ID | None = None
