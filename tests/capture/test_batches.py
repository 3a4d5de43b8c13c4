"""Leads made in batches: one transaction for many submissions, with dedupe and failure
isolation as when each is made alone."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import delete, select, update

from conftest import GraphQL
from embedcrm.app import create_app
from embedcrm.capture.models import Submission, SubmissionStatus
from embedcrm.config import Settings
from embedcrm.contacts.models import Contact, ContactPoint
from embedcrm.graphql.ids import parse_global_id
from embedcrm.services import Services
from embedcrm.webhooks.models import OutboxEvent
from factories import Tenant, form_token, make_tenant, submission


@pytest.fixture
async def stored_only(settings: Settings) -> AsyncIterator[Services]:
    """Services that store submissions and leave their leads to be made (as `worker` does)."""
    services = Services.create(dataclasses.replace(settings, process_submissions_inline=False))
    yield services
    await services.capture.close()
    await services.db.dispose()


async def store(
    services: Services, tenant: Tenant, bodies: list[dict[str, object]]
) -> list[uuid.UUID]:
    """Store these submissions through the public endpoint; answers their row ids in order."""
    app = create_app(services.settings, services=services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://crm.test"
    ) as http:
        for body in bodies:
            response = await http.post(
                f"/v1/sites/{tenant.site_key}/submissions",
                json={**body, "form_token": form_token(http, tenant)},
                headers={"Origin": f"https://{tenant.domain}"},
            )
            assert response.status_code == 202, response.text
    wanted = [body["submission_id"] for body in bodies]
    async with services.db.transaction() as session:
        rows = {
            row.client_submission_id: row.id
            for row in await session.scalars(
                select(Submission).where(Submission.client_submission_id.in_(wanted))
            )
        }
    return [rows[str(submission_id)] for submission_id in wanted]


async def new_tenant_with(
    services: Services, platform: GraphQL, bodies: list[dict[str, object]]
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A new workspace with these submissions stored: its id and theirs."""
    tenant = await make_tenant(platform)
    return parse_global_id(tenant.workspace_id).row_id, await store(services, tenant, bodies)


async def rows_of(services: Services, ids: list[uuid.UUID]) -> list[Submission]:
    async with services.db.transaction() as session:
        found = {
            row.id: row
            for row in await session.scalars(select(Submission).where(Submission.id.in_(ids)))
        }
    return [found[i] for i in ids]


async def contacts_of(services: Services, workspace_id: uuid.UUID) -> list[Contact]:
    async with services.db.transaction() as session:
        return list(
            await session.scalars(select(Contact).where(Contact.workspace_id == workspace_id))
        )


async def test_one_person_twice_in_a_batch_in_two_phone_notations_makes_one_contact(
    stored_only: Services, platform: GraphQL
) -> None:
    workspace_id, ids = await new_tenant_with(
        stored_only,
        platform,
        [
            submission(email="", phone="+7 912 345-67-89", name="Анна"),
            submission(email="", phone="8 (912) 345 67 89", name="Анна Петрова"),
            submission(email="boris@example.com", phone="+7 913 000-00-01", name="Борис"),
        ],
    )

    await stored_only.capture.process_batch(workspace_id, ids)

    rows = await rows_of(stored_only, ids)
    assert [row.status for row in rows] == [SubmissionStatus.PROCESSED] * 3
    assert len({row.lead_id for row in rows}) == 3
    assert rows[0].contact_id == rows[1].contact_id != rows[2].contact_id
    contacts = await contacts_of(stored_only, workspace_id)
    assert sorted(c.phone_e164 or "" for c in contacts) == ["+79123456789", "+79130000001"]
    async with stored_only.db.transaction() as session:
        types = list(
            await session.scalars(
                select(OutboxEvent.type).where(OutboxEvent.workspace_id == workspace_id)
            )
        )
    assert sorted(types) == sorted(
        ["contact.created"] * 2 + ["lead.created"] * 3 + ["task.created"] * 3
    )


async def test_a_bad_submission_fails_alone_and_the_rest_of_its_batch_make_leads(
    stored_only: Services, platform: GraphQL
) -> None:
    workspace_id, ids = await new_tenant_with(
        stored_only,
        platform,
        [submission(email=f"b{i}@example.com", phone=f"+7 912 000-00-0{i}") for i in range(3)],
    )
    async with stored_only.db.transaction() as session:
        # Stored rows no processing can read: the middle one's fields are gone.
        await session.execute(
            update(Submission).where(Submission.id == ids[1]).values(payload={"form": "contact"})
        )

    try:
        await stored_only.capture.process_batch(workspace_id, ids)

        rows = await rows_of(stored_only, ids)
        assert [row.status for row in rows] == [
            SubmissionStatus.PROCESSED,
            SubmissionStatus.FAILED,
            SubmissionStatus.PROCESSED,
        ]
        assert rows[1].lead_id is None and "KeyError" in (rows[1].failure_reason or "")
        assert len(await contacts_of(stored_only, workspace_id)) == 2
    finally:
        # A FAILED row is retried by any worker on this database, other tests' too.
        async with stored_only.db.transaction() as session:
            await session.execute(delete(Submission).where(Submission.id == ids[1]))


async def test_batches_naming_the_same_people_in_crossed_order_make_one_contact_each(
    stored_only: Services, platform: GraphQL
) -> None:
    """Two batches at once, each holding both people, the first ones first in one batch and
    last in the other: the identity locks keep each person to one contact."""
    tenant = await make_tenant(platform)
    workspace_id = parse_global_id(tenant.workspace_id).row_id
    people = [(f"p{i}@example.com", f"+7 914 000-00-{i:02d}") for i in range(6)]
    first = await store(stored_only, tenant, [submission(email=e, phone=p) for e, p in people])
    second = await store(
        stored_only,
        tenant,
        # The same people, the phone in another notation and the e-mail in capitals.
        [
            submission(email=e.upper(), phone="8" + p.removeprefix("+7"))
            for e, p in reversed(people)
        ],
    )

    await asyncio.gather(
        stored_only.capture.process_batch(workspace_id, first),
        stored_only.capture.process_batch(workspace_id, second),
    )

    rows = await rows_of(stored_only, first + second)
    assert {row.status for row in rows} == {SubmissionStatus.PROCESSED}
    contacts = await contacts_of(stored_only, workspace_id)
    assert len(contacts) == len(people)
    assert {row.contact_id for row in rows} == {c.id for c in contacts}


async def points_of(services: Services, workspace_id: uuid.UUID) -> dict[uuid.UUID, set[str]]:
    """Each contact's normalised e-mails and phones, the primary ones marked with a "*"."""
    async with services.db.transaction() as session:
        rows = await session.scalars(
            select(ContactPoint).where(ContactPoint.workspace_id == workspace_id)
        )
        out: dict[uuid.UUID, set[str]] = {}
        for row in rows:
            out.setdefault(row.contact_id, set()).add(
                f"{'*' if row.is_primary else ''}{row.normalized}"
            )
    return out


async def test_a_known_person_with_a_second_email_or_phone_keeps_it_on_their_contact(
    stored_only: Services, platform: GraphQL
) -> None:
    """Matched by the phone, a new e-mail joins the contact, and the other way round, even
    within one batch; later submissions naming only the second ones find the same contact."""
    tenant = await make_tenant(platform)
    workspace_id = parse_global_id(tenant.workspace_id).row_id
    first = await store(
        stored_only, tenant, [submission(email="anna@example.com", phone="+7 912 111-11-11")]
    )
    await stored_only.capture.process_batch(workspace_id, first)
    second = await store(
        stored_only,
        tenant,
        [
            # By the phone, in another notation: the work e-mail is new.
            submission(email="Anna@Work.example", phone="8 (912) 111 11 11"),
            # By that work e-mail, which the batch has just learnt: the mobile is new.
            submission(email="anna@work.example", phone="+7 999 222-22-22"),
        ],
    )
    await stored_only.capture.process_batch(workspace_id, second)
    third = await store(
        stored_only,
        tenant,
        [
            submission(email="", phone="8 999 222 22 22"),
            submission(email="ANNA@WORK.EXAMPLE", phone=""),
        ],
    )
    await stored_only.capture.process_batch(workspace_id, third)

    (contact,) = await contacts_of(stored_only, workspace_id)
    # The primary ones are as first given; nothing was overwritten, nothing lost.
    assert (contact.email_normalized, contact.phone_e164) == ("anna@example.com", "+79121111111")
    assert await points_of(stored_only, workspace_id) == {
        contact.id: {"*anna@example.com", "anna@work.example", "*+79121111111", "+79992222222"}
    }
    rows = await rows_of(stored_only, first + second + third)
    assert {row.status for row in rows} == {SubmissionStatus.PROCESSED}
    assert {row.contact_id for row in rows} == {contact.id}
    # Search by the second ones, in any notation, finds the person.
    for search in ("anna@work.example", "+7 (999) 222-22-22", "89992222222"):
        found = await tenant.panel.data(
            "query($s: String!) { contacts(filter: {search: $s}) { totalCount } "
            "leads(filter: {search: $s}) { totalCount } }",
            s=search,
        )
        assert found["contacts"]["totalCount"] == 1, search
        assert found["leads"]["totalCount"] == 5, search


async def test_crossed_batches_of_one_person_with_different_second_phones_make_one_contact(
    stored_only: Services, platform: GraphQL
) -> None:
    """Two batches at once: a known person arrives in each with a different new phone, and a
    new person in each with the same e-mail and different phones. One contact each, every
    phone kept."""
    tenant = await make_tenant(platform)
    workspace_id = parse_global_id(tenant.workspace_id).row_id
    known = await store(
        stored_only, tenant, [submission(email="known@example.com", phone="+7 915 000-00-00")]
    )
    await stored_only.capture.process_batch(workspace_id, known)
    left = await store(
        stored_only,
        tenant,
        [
            submission(email="known@example.com", phone="+7 915 000-00-01"),
            submission(email="new@example.com", phone="+7 916 000-00-01"),
        ],
    )
    right = await store(
        stored_only,
        tenant,
        [
            submission(email="new@example.com", phone="+7 916 000-00-02"),
            submission(email="KNOWN@example.com", phone="8 915 000 00 02"),
        ],
    )

    await asyncio.gather(
        stored_only.capture.process_batch(workspace_id, left),
        stored_only.capture.process_batch(workspace_id, right),
    )

    contacts = {c.email_normalized: c for c in await contacts_of(stored_only, workspace_id)}
    assert sorted(contacts) == ["known@example.com", "new@example.com"]
    points = await points_of(stored_only, workspace_id)
    assert points[contacts["known@example.com"].id] == {
        "*known@example.com",
        "*+79150000000",
        "+79150000001",
        "+79150000002",
    }
    new_phones = {p for p in points[contacts["new@example.com"].id] if "@" not in p}
    # Whichever batch came first gave the primary phone; the other is kept beside it.
    assert {p.lstrip("*") for p in new_phones} == {"+79160000001", "+79160000002"}
    assert sum(p.startswith("*") for p in new_phones) == 1
