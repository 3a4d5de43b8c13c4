"""Contacts: matching a person to the contact they already are, and editing one."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.contacts.events import emit_contact_event
from embedcrm.contacts.models import (
    POINT_COLUMNS,
    Contact,
    ContactPoint,
    MergeProposal,
    PointKind,
)
from embedcrm.contacts.repository import (
    ContactRepository,
    MergeProposalRepository,
    MergeRepository,
)
from embedcrm.db import Database, new_id, utcnow
from embedcrm.errors import NotFound, ValidationFailed
from embedcrm.fields.filters import ContactSpec
from embedcrm.fields.models import FieldEntity, FieldType
from embedcrm.fields.service import definitions_of, validate_custom_fields
from embedcrm.kit.grouping import grouped
from embedcrm.kit.repository import MAX_PAGE_SIZE, Page, Viewer, Window
from embedcrm.workspaces.access import Actor, get_member, load_actor, readable_row, viewer_of


@dataclass(frozen=True)
class Person:
    """Who a lead is about, already normalised (e-mail lower-cased, phone in E.164)."""

    name: str | None = None
    email: str | None = None
    email_normalized: str | None = None
    phone: str | None = None
    phone_e164: str | None = None
    company: str | None = None


@dataclass(frozen=True)
class Sighting:
    """A person as one lead names them, when, and where they came from (the touch)."""

    person: Person
    now: datetime
    touch: Mapping[str, Any] | None = None


async def find_or_create_contact(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    person: Person,
    *,
    now: datetime,
    touch: Mapping[str, Any] | None = None,
) -> tuple[Contact, bool]:
    """The contact with the same e-mail, else the same phone: ``find_or_create_contacts`` of
    one person."""
    [found] = await find_or_create_contacts(session, workspace_id, [Sighting(person, now, touch)])
    await session.flush()
    return found


async def find_or_create_contacts(
    session: AsyncSession, workspace_id: uuid.UUID, sightings: Sequence[Sighting]
) -> list[tuple[Contact, bool]]:
    """For each sighting in turn, the contact with the same e-mail, else the same phone,
    within this workspace only, and whether it was created for it. New contacts are added to
    the session, not flushed.

    The lookup runs under the identity locks of every person of the batch, taken at once, so
    concurrent submissions of one person, in this process or any other, make one contact; the
    contacts are then read in one query, and a person named twice in the batch (in two
    notations of the phone, say) matches the contact the first sighting made.

    When the e-mail points at one contact and the phone at another, nothing is merged
    silently: the e-mail's contact is used and a merge proposal is recorded for a person to
    decide.
    """
    contacts = ContactRepository(session, workspace_id)
    emails = {s.person.email_normalized for s in sightings if s.person.email_normalized}
    phones = {s.person.phone_e164 for s in sightings if s.person.phone_e164}
    await contacts.lock_identities(emails, phones)
    known = _ContactIndex(*await contacts.with_identities(emails, phones))
    found: list[tuple[Contact, bool]] = []
    # E-mails and phones new to the workspace that known people arrive with, kept beside
    # their primary ones; written once their contacts' rows are.
    added: list[ContactPoint] = []
    for sighting in sightings:
        person, now, touch = sighting.person, sighting.now, sighting.touch
        by_email = known.by_email(person.email_normalized)
        by_phone = known.by_phone(person.phone_e164)
        contact = by_email or by_phone
        if by_email is not None and by_phone is not None and by_email.id != by_phone.id:
            # The proposal lookup reads what earlier sightings of the batch proposed.
            await session.flush()
            await propose_merge(session, workspace_id, by_email, by_phone, now=now)
        if contact is not None:
            # Fill what the contact lacks; never overwrite what someone may have corrected.
            contact.name = contact.name or person.name
            contact.company = contact.company or person.company
            if by_email is None and person.email_normalized:
                if contact.email is None:
                    contact.email, contact.email_normalized = person.email, person.email_normalized
                else:
                    added.append(
                        known.add_point(
                            contact, PointKind.EMAIL, person.email, person.email_normalized, now
                        )
                    )
            if by_phone is None and person.phone_e164:
                if contact.phone is None:
                    contact.phone, contact.phone_e164 = person.phone, person.phone_e164
                else:
                    added.append(
                        known.add_point(
                            contact, PointKind.PHONE, person.phone, person.phone_e164, now
                        )
                    )
            if touch:
                contact.last_touch = dict(touch)
                contact.first_touch = contact.first_touch or dict(touch)
            contact.updated_at = now
            known.add(contact)
            found.append((contact, False))
            continue
        contact = contacts.add(
            Contact(
                id=new_id(),
                name=person.name,
                email=person.email,
                email_normalized=person.email_normalized,
                phone=person.phone,
                phone_e164=person.phone_e164,
                company=person.company,
                custom_fields={},
                first_touch=dict(touch or {}),
                last_touch=dict(touch or {}),
                created_at=now,
                updated_at=now,
            )
        )
        known.add(contact)
        found.append((contact, True))
    if added:
        await session.flush()
        session.add_all(added)
    return found


class _ContactIndex:
    """The earliest contact of each e-mail and phone (any of a contact's, primary or not), as
    ``by_email``/``by_phone`` find them, kept current as a batch fills and creates contacts."""

    def __init__(self, contacts: Sequence[Contact], points: Sequence[ContactPoint] = ()) -> None:
        self._emails: dict[str, Contact] = {}
        self._phones: dict[str, Contact] = {}
        by_id = {contact.id: contact for contact in contacts}
        for contact in contacts:
            self.add(contact)
        for point in points:
            owner = by_id.get(point.contact_id)
            if owner is not None and point.normalized is not None:
                self._index(point.kind, point.normalized, owner)

    def add(self, contact: Contact) -> None:
        self._index(PointKind.EMAIL, contact.email_normalized, contact)
        self._index(PointKind.PHONE, contact.phone_e164, contact)

    def add_point(
        self,
        contact: Contact,
        kind: PointKind,
        value: str | None,
        normalized: str,
        now: datetime,
    ) -> ContactPoint:
        """A new, not primary, e-mail or phone of the contact, as typed; indexed at once."""
        point = ContactPoint(
            workspace_id=contact.workspace_id,
            id=new_id(),
            contact_id=contact.id,
            kind=kind,
            value=(value or normalized)[:320],
            normalized=normalized,
            is_primary=False,
            created_at=now,
        )
        self._index(kind, point.normalized, contact)
        return point

    def _index(self, kind: PointKind, key: str | None, contact: Contact) -> None:
        if key is None:
            return
        index = self._emails if kind is PointKind.EMAIL else self._phones
        earliest = index.get(key)
        if earliest is None or contact.created_at < earliest.created_at:
            index[key] = contact

    def by_email(self, email_normalized: str | None) -> Contact | None:
        return self._emails.get(email_normalized) if email_normalized else None

    def by_phone(self, phone_e164: str | None) -> Contact | None:
        return self._phones.get(phone_e164) if phone_e164 else None


async def propose_merge(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    contact: Contact,
    other: Contact,
    *,
    now: datetime,
) -> None:
    proposals = MergeProposalRepository(session, workspace_id)
    if await proposals.open_between(contact.id, other.id) is None:
        proposals.add(
            MergeProposal(
                contact_id=contact.id,
                other_contact_id=other.id,
                reason="The e-mail matches one contact and the phone another.",
                created_at=now,
            )
        )


class ContactService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def contacts_by_id(
        self, workspace_id: uuid.UUID, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, Contact]:
        async with self.db.transaction() as session:
            return await ContactRepository(session, workspace_id).get_many(ids)

    async def visible_contact(
        self, principal: Principal, workspace_id: uuid.UUID, contact_id: uuid.UUID
    ) -> Contact | None:
        """The contact, if ``principal`` may see it (ContactRepository.own_rows for a MANAGER)."""
        return await readable_row(self.db, principal, ContactRepository, workspace_id, contact_id)

    async def update_contact(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        contact_id: uuid.UUID,
        changes: Mapping[str, Any],
    ) -> Contact:
        check_custom_fields_shape(changes)
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
            await emit_contact_event(session, contact, "contact.updated", now=now)
            return contact


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


async def get_contact(
    session: AsyncSession, workspace_id: uuid.UUID, contact_id: uuid.UUID, field: str = "contactId"
) -> Contact:
    contact = await ContactRepository(session, workspace_id).get(contact_id)
    if contact is None:
        raise NotFound("Nothing has this id.", field=field)
    return contact


async def surviving_contact(
    session: AsyncSession, workspace_id: uuid.UUID, contact_id: uuid.UUID
) -> Contact | None:
    """The contact a link made out to ``contact_id`` reaches now: that contact, or the one it
    was merged into (through every merge since); None once the person is erased. An
    unsubscribe or feedback link in a message sent before a merge still reaches the person."""
    contacts = ContactRepository(session, workspace_id)
    merges = MergeRepository(session, workspace_id)
    followed: set[uuid.UUID] = set()
    current: uuid.UUID | None = contact_id
    while current is not None and current not in followed:
        followed.add(current)
        contact = await contacts.get(current)
        if contact is not None:
            return contact
        current = await merges.kept_instead_of(current)
    return None


async def sees_contact(
    session: AsyncSession,
    principal: Principal,
    workspace_id: uuid.UUID,
    contact_id: uuid.UUID,
    field: str = "contactId",
) -> bool:
    """Whether the caller reads what hangs off this contact (its messages, its answers): a
    MANAGER only what hangs off the contacts they see; the others all, at no query."""
    viewer = await viewer_of(session, principal, workspace_id, field=field)
    if viewer.sees_only_own is None:
        return True
    return (
        await ContactRepository(session, workspace_id).get_readable(viewer, contact_id) is not None
    )


async def readable_contact(
    session: AsyncSession, actor: Actor, contact_id: uuid.UUID, field: str = "contactId"
) -> Contact:
    """The contact if the actor sees it; one they do not see answers like a missing one."""
    repo = ContactRepository(session, actor.workspace_id)
    contact = await repo.get_readable(actor, contact_id)
    if contact is None:
        raise NotFound("Nothing has this id.", field=field)
    return contact


def require_contact_writer(actor: Actor, contact: Contact) -> None:
    actor.require_assigned(contact.manager_id, "contact")


def check_custom_fields_shape(changes: Mapping[str, Any]) -> None:
    # Each value is checked against its definition later; this is about the container.
    if "custom_fields" in changes and not isinstance(changes["custom_fields"], dict):
        raise ValidationFailed("customFields is an object.", field="customFields")


async def contacts_by_id(
    session: AsyncSession, workspace_id: uuid.UUID, contact_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Contact]:
    return await ContactRepository(session, workspace_id).get_many(contact_ids)


async def erase_merges_of(
    session: AsyncSession, workspace_id: uuid.UUID, contact_id: uuid.UUID
) -> int:
    """Delete the audit entries of merges that folded this contact into another."""
    return await MergeRepository(session, workspace_id).erase_merged(contact_id)


# Contacts matching a filter, for the lists, segments and exports of the fields domain.


async def filtered_contacts_page(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    spec: ContactSpec,
    kinds: dict[str, FieldType],
    *,
    viewer: Viewer,
    window: Window,
) -> Page[Contact]:
    repo = ContactRepository(session, workspace_id)
    stmt = repo.readable(viewer, repo.matching(spec, kinds))
    return await repo.newest_first(stmt, window=window)


async def all_contacts_page(
    session: AsyncSession, workspace_id: uuid.UUID, after: str | None
) -> Page[Contact]:
    """A workspace's contacts a page at a time, newest first (greetings on a date)."""
    repo = ContactRepository(session, workspace_id)
    return await repo.newest_first(repo.select(), window=Window(first=MAX_PAGE_SIZE, after=after))


async def count_filtered_contacts(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    spec: ContactSpec,
    kinds: dict[str, FieldType],
    *,
    viewer: Viewer,
    up_to: int | None = None,
) -> int:
    """How many contacts match: all of them, or no more than ``up_to`` (``up_to`` itself
    meaning at least that many)."""
    repo = ContactRepository(session, workspace_id)
    stmt = repo.readable(viewer, repo.matching(spec, kinds))
    if up_to is None:
        return await repo.count(stmt)
    return await repo.count_up_to(stmt, up_to)


async def all_filtered_contacts(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    spec: ContactSpec,
    kinds: dict[str, FieldType],
    *,
    viewer: Viewer,
) -> list[Contact]:
    """Every matching contact, read in keyset batches (exports)."""
    repo = ContactRepository(session, workspace_id)
    return await repo.batches(repo.readable(viewer, repo.matching(spec, kinds)))


# What an import does to contacts inside its own transaction.


async def lock_contact_identities(session: AsyncSession, workspace_id: uuid.UUID) -> None:
    """Hold off submissions creating contacts until the caller's transaction ends."""
    await ContactRepository(session, workspace_id).lock_all_identities()


async def contact_by_email(
    session: AsyncSession, workspace_id: uuid.UUID, email: str
) -> Contact | None:
    return await ContactRepository(session, workspace_id).by_email(email)


async def contact_by_phone(
    session: AsyncSession, workspace_id: uuid.UUID, phone: str
) -> Contact | None:
    return await ContactRepository(session, workspace_id).by_phone(phone)


def add_contact(session: AsyncSession, workspace_id: uuid.UUID, contact: Contact) -> Contact:
    return ContactRepository(session, workspace_id).add(contact)


# Every e-mail and phone of a contact: the card adds, relabels, makes primary and removes them.

MAX_PHONE_LENGTH = 64
MAX_LABEL_LENGTH = 40
_FIELD_OF_KIND = {PointKind.EMAIL: "e-mail", PointKind.PHONE: "phone number"}


def storable_text(value: str, field: str) -> str:
    """``value`` stripped, refused when a database cannot keep it: NUL (PostgreSQL text holds
    none) or a lone surrogate (not UTF-8)."""
    if "\x00" in value:
        raise ValidationFailed("The text may not hold a NUL character.", field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationFailed("The text holds an unpaired surrogate.", field=field) from exc
    return value.strip()


def checked_point(kind: PointKind, value: str, field: str = "value") -> tuple[str, str]:
    """The value as entered (stripped) and normalised, or a clear refusal."""
    raw = storable_text(value, field)
    if not raw:
        raise ValidationFailed(f"Give the {_FIELD_OF_KIND[kind]}.", field=field)
    if kind is PointKind.EMAIL:
        if len(raw) > 320:
            raise ValidationFailed("An e-mail address is at most 320 characters.", field=field)
        return raw, normalise_email(raw, field)
    if len(raw) > MAX_PHONE_LENGTH:
        raise ValidationFailed(
            f"A phone number is at most {MAX_PHONE_LENGTH} characters.", field=field
        )
    return raw, normalise_phone(raw, field=field)


def checked_label(label: str | None, field: str = "label") -> str | None:
    if label is None:
        return None
    text = storable_text(label, field)
    if len(text) > MAX_LABEL_LENGTH:
        raise ValidationFailed(f"A label is at most {MAX_LABEL_LENGTH} characters.", field=field)
    return text or None


class ContactPointService:
    """A contact's e-mails and phones, edited by whoever may edit the contact."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def points_by_contact(
        self, workspace_id: uuid.UUID, contact_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[ContactPoint]]:
        async with self.db.transaction() as session:
            points = await ContactRepository(session, workspace_id).points_of(contact_ids)
        return grouped(contact_ids, points, attrgetter("contact_id"))

    async def add(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        contact_id: uuid.UUID,
        *,
        kind: PointKind,
        value: str,
        label: str | None = None,
        primary: bool = False,
    ) -> Contact:
        """Another e-mail or phone of the contact; primary when asked, or when it is the
        contact's first of its kind."""
        raw, normalized = checked_point(kind, value)
        label = checked_label(label)
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="contactId")
            contact = await get_contact(session, workspace_id, contact_id)
            require_contact_writer(actor, contact)
            contacts = ContactRepository(session, workspace_id)
            is_email = kind is PointKind.EMAIL
            # As capture does, so a submission matching on this value waits for this edit.
            await contacts.lock_identities(
                [normalized] if is_email else [], [] if is_email else [normalized]
            )
            points = await contacts.points_of([contact.id])
            if any(p.kind is kind and p.normalized == normalized for p in points):
                raise ValidationFailed(
                    f"The contact already has this {'e-mail' if is_email else 'phone'}.",
                    field="value",
                )
            now = utcnow()
            contacts.add_point(
                ContactPoint(
                    contact_id=contact.id,
                    kind=kind,
                    value=raw,
                    normalized=normalized,
                    label=label,
                    is_primary=False,
                    created_at=now,
                )
            )
            await session.flush()
            if primary or not any(p.kind is kind for p in points):
                _make_primary(contact, kind, raw, normalized)
            return await _changed(session, contact, now)

    async def update(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        point_id: uuid.UUID,
        changes: Mapping[str, Any],
    ) -> Contact:
        """Relabel an e-mail or phone (``label``), or make it the primary one (``primary``)."""
        label = checked_label(changes["label"]) if "label" in changes else None
        if changes.get("primary") is False:
            raise ValidationFailed(
                "Make another one primary instead; a contact keeps a primary one.",
                field="primary",
            )
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="id")
            point, contact = await _point_and_contact(session, workspace_id, point_id)
            require_contact_writer(actor, contact)
            if "label" in changes:
                point.label = label
            if changes.get("primary") and not point.is_primary:
                _make_primary(contact, point.kind, point.value, point.normalized)
            return await _changed(session, contact, utcnow())

    async def remove(
        self, principal: Principal, workspace_id: uuid.UUID, point_id: uuid.UUID
    ) -> Contact:
        """Remove an e-mail or phone; the primary one gives way to the oldest other one."""
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="id")
            point, contact = await _point_and_contact(session, workspace_id, point_id)
            require_contact_writer(actor, contact)
            was_primary, kind = point.is_primary, point.kind
            await session.delete(point)
            await session.flush()
            if was_primary:
                # The listener promotes the next one, if any, into these columns.
                _make_primary(contact, kind, None, None)
            return await _changed(session, contact, utcnow())


def _make_primary(
    contact: Contact, kind: PointKind, raw: str | None, normalized: str | None
) -> None:
    """Point the contact's primary columns at this value; the listeners of the model move
    the primary mark to its row (the former primary stays, as another one)."""
    raw_name, normalized_name = POINT_COLUMNS[kind]
    setattr(contact, raw_name, raw)
    setattr(contact, normalized_name, normalized)


async def _changed(session: AsyncSession, contact: Contact, now: datetime) -> Contact:
    contact.updated_at = now
    await session.flush()
    await emit_contact_event(session, contact, "contact.updated", now=now)
    return contact


async def _point_and_contact(
    session: AsyncSession, workspace_id: uuid.UUID, point_id: uuid.UUID
) -> tuple[ContactPoint, Contact]:
    contacts = ContactRepository(session, workspace_id)
    point = await contacts.point(point_id)
    if point is None:
        raise NotFound("Nothing has this id.", field="id")
    contact = await get_contact(session, workspace_id, point.contact_id, "id")
    return point, contact


async def contact_points(
    session: AsyncSession, workspace_id: uuid.UUID, contact_ids: Sequence[uuid.UUID]
) -> list[ContactPoint]:
    """The e-mails and phones of these contacts, each's primary first (export, merge)."""
    return await ContactRepository(session, workspace_id).points_of(contact_ids)


async def erase_contact_points(
    session: AsyncSession, workspace_id: uuid.UUID, contact_id: uuid.UUID
) -> None:
    """Delete every e-mail and phone of the contact (erasure, before the contact itself)."""
    contacts = ContactRepository(session, workspace_id)
    await contacts.delete_points([p.id for p in await contacts.points_of([contact_id])])


async def keep_contact_points(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    contact: Contact,
    *,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
) -> None:
    """Add these normalised e-mails and phones to the contact, beside its primary ones, unless
    it has them (an import's row with several phones)."""
    await session.flush()
    contacts = ContactRepository(session, workspace_id)
    have = {(p.kind, p.normalized) for p in await contacts.points_of([contact.id])}
    now = utcnow()
    for kind, values in ((PointKind.EMAIL, emails), (PointKind.PHONE, phones)):
        for value in dict.fromkeys(values):
            if (kind, value) not in have:
                have.add((kind, value))
                contacts.add_point(
                    ContactPoint(
                        contact_id=contact.id,
                        kind=kind,
                        value=value,
                        normalized=value,
                        is_primary=False,
                        created_at=now,
                    )
                )
