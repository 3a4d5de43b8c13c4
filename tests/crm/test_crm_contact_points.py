"""Every e-mail and phone of a contact: the card adds, relabels, makes primary and removes
them; merge and undo keep them; export lists them and erasure removes them."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from crm_support import errors_of, events, new_lead, panel_as
from sqlalchemy import func, select

from conftest import GraphQL
from embedcrm.contacts.models import ContactPoint, PointKind
from embedcrm.errors import ValidationFailed
from embedcrm.graphql.ids import parse_global_id
from embedcrm.services import Services
from factories import make_tenant, submission, submit

POINTS = "emails { id value label primary normalized } phones { id value label primary e164 }"
CARD = f"query($id: ID!) {{ node(id: $id) {{ ... on Contact {{ email phone {POINTS} }} }} }}"
ADD = f"""mutation($input: AddContactPointInput!) {{ addContactPoint(input: $input) {{
  contact {{ email phone {POINTS} }} userErrors {{ field message code }} }} }}"""
UPDATE = f"""mutation($input: UpdateContactPointInput!) {{ updateContactPoint(input: $input) {{
  contact {{ email phone {POINTS} }} userErrors {{ field message code }} }} }}"""
REMOVE = f"""mutation($id: ID!) {{ removeContactPoint(input: {{id: $id}}) {{
  contact {{ email phone {POINTS} }} userErrors {{ field message code }} }} }}"""
MERGE = """mutation($keep: ID!, $merge: ID!) { mergeContacts(input: {keepId: $keep, mergeId: $merge}) {
  merge { id } userErrors { code } } }"""
UNDO = "mutation($id: ID!) { undoContactMerge(input: {id: $id}) { merge { undoneAt } userErrors { code } } }"


async def card(panel: GraphQL, contact_id: str) -> dict[str, Any]:
    node: dict[str, Any] = (await panel.data(CARD, id=contact_id))["node"]
    return node


def values(points: list[dict[str, Any]]) -> list[tuple[str, str | None, bool]]:
    return [(p["value"], p["label"], p["primary"]) for p in points]


async def test_the_card_adds_relabels_makes_primary_and_removes_phones_and_emails(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(client, tenant, email="anna@example.com", phone="+7 912 000-00-01")
    contact_id = lead["contact"]["id"]
    before = await card(tenant.panel, contact_id)
    assert values(before["emails"]) == [("anna@example.com", None, True)]
    assert [p["e164"] for p in before["phones"]] == ["+79120000001"]

    added = await tenant.panel.data(
        ADD,
        input={
            "contactId": contact_id,
            "kind": "PHONE",
            "value": "8 (999) 123-45-67",
            "label": "Мобильный",
        },
    )
    contact = added["addContactPoint"]["contact"]
    assert added["addContactPoint"]["userErrors"] == []
    # The primary one stays; the new one is listed after it, as typed, with its E.164.
    assert contact["phone"] == "+79120000001"
    assert values(contact["phones"]) == [
        ("+7 912 000-00-01", None, True),
        ("8 (999) 123-45-67", "Мобильный", False),
    ]
    assert contact["phones"][1]["e164"] == "+79991234567"
    work = await tenant.panel.data(
        ADD,
        input={
            "contactId": contact_id,
            "kind": "EMAIL",
            "value": "Anna@Work.Example",
            "label": "work",
            "primary": True,
        },
    )
    contact = work["addContactPoint"]["contact"]
    assert contact["email"] == "anna@work.example"
    assert values(contact["emails"]) == [
        ("Anna@Work.Example", "work", True),
        ("anna@example.com", None, False),
    ]
    (updated,) = [e for e in await events(services, tenant, "contact.updated")][-1:]
    assert updated["data"]["contact"]["email"] == "Anna@Work.Example"
    assert [p["value"] for p in updated["data"]["contact"]["emails"]] == [
        "Anna@Work.Example",
        "anna@example.com",
    ]

    mobile = contact["phones"][1]["id"]
    made = await tenant.panel.data(UPDATE, input={"id": mobile, "primary": True, "label": "mobile"})
    contact = made["updateContactPoint"]["contact"]
    assert contact["phone"] == "+79991234567"
    assert values(contact["phones"]) == [
        ("8 (999) 123-45-67", "mobile", True),
        ("+7 912 000-00-01", None, False),
    ]
    # The primary one removed, the other takes its place in Contact.phone.
    removed = await tenant.panel.data(REMOVE, id=mobile)
    contact = removed["removeContactPoint"]["contact"]
    assert contact["phone"] == "+79120000001"
    assert values(contact["phones"]) == [("+7 912 000-00-01", None, True)]
    last = await tenant.panel.data(REMOVE, id=contact["phones"][0]["id"])
    assert last["removeContactPoint"]["contact"]["phone"] is None
    assert last["removeContactPoint"]["contact"]["phones"] == []

    # Search by the second e-mail in any case finds the contact.
    found = await tenant.panel.data(
        'query { contacts(filter: {search: "ANNA@example.com"}) { totalCount } }'
    )
    assert found["contacts"]["totalCount"] == 1


@pytest.mark.parametrize(
    ("kind", "value", "field", "message"),
    [
        ("EMAIL", "not an address", "value", "Not an e-mail address."),
        ("PHONE", "call me maybe", "value", "Not a phone number."),
        ("PHONE", "12", "value", "Not a phone number."),
        ("EMAIL", "anna@example.com", "value", "The contact already has this e-mail."),
        ("PHONE", "8 912 000 00 01", "value", "The contact already has this phone."),
        (
            "PHONE",
            "+7 912 000-00-02" + " " * 60 + "1",
            "value",
            "A phone number is at most 64 characters.",
        ),
        (
            "EMAIL",
            "a" * 321 + "@example.com",
            "value",
            "An e-mail address is at most 320 characters.",
        ),
        ("EMAIL", "   ", "value", "Give the e-mail."),
    ],
)
async def test_a_bad_value_is_refused_clearly_and_changes_nothing(
    client: httpx.AsyncClient,
    platform: GraphQL,
    kind: str,
    value: str,
    field: str,
    message: str,
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(client, tenant, email="anna@example.com", phone="+7 912 000-00-01")
    contact_id = lead["contact"]["id"]
    before = await card(tenant.panel, contact_id)
    answer = await tenant.panel.data(
        ADD, input={"contactId": contact_id, "kind": kind, "value": value}
    )
    assert answer["addContactPoint"]["contact"] is None
    assert answer["addContactPoint"]["userErrors"] == [
        {"field": field, "message": message, "code": "invalid"}
    ]
    assert await card(tenant.panel, contact_id) == before


async def test_labels_and_the_last_primary_are_checked(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(client, tenant, email="anna@example.com", phone="")
    contact_id = lead["contact"]["id"]
    before = await card(tenant.panel, contact_id)
    (email,) = before["emails"]
    long_label = await tenant.panel.data(UPDATE, input={"id": email["id"], "label": "x" * 41})
    assert errors_of(long_label["updateContactPoint"]) == ["invalid"]
    unprimary = await tenant.panel.data(UPDATE, input={"id": email["id"], "primary": False})
    assert unprimary["updateContactPoint"]["userErrors"][0]["field"] == "primary"
    assert await card(tenant.panel, contact_id) == before
    # NUL and a lone surrogate never reach the service over HTTP: the request is refused as
    # a whole (400), naming where.
    for bad in ("mob\x00ile", "mob\ud800ile"):
        response = await client.post(
            "/graphql",
            content=json.dumps(
                {"query": UPDATE, "variables": {"input": {"id": email["id"], "label": bad}}}
            ).encode(),
            headers={
                "Authorization": f"Bearer {tenant.panel.bearer}",
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 400, response.text
        assert "variables.input.label" in response.text
    assert await card(tenant.panel, contact_id) == before


async def test_the_service_refuses_nul_and_lone_surrogates_itself(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    """Callers other than GraphQL (an import, a script) get the same clear refusal."""
    tenant = await make_tenant(platform)
    lead = await new_lead(client, tenant, email="anna@example.com", phone="")
    gid = parse_global_id(lead["contact"]["id"])
    principal = services.panel_tokens.read(tenant.panel.bearer)
    for bad in ("anna\x00@example.com", "anna\udc00@example.com"):
        with pytest.raises(ValidationFailed) as refused:
            await services.contact_points.add(
                principal, gid.workspace_id, gid.row_id, kind=PointKind.EMAIL, value=bad
            )
        assert refused.value.fields == {"value": refused.value.message}


async def test_a_manager_edits_the_phones_of_their_own_contacts_only(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    anna, anna_id = await panel_as(platform, tenant, "MANAGER")
    boris, _ = await panel_as(platform, tenant, "MANAGER")
    viewer, _ = await panel_as(platform, tenant, "VIEWER")
    lead = await new_lead(client, tenant, email="client@example.com")
    contact_id = lead["contact"]["id"]
    assign = "mutation($id: ID!, $m: ID) { updateContact(input: {id: $id, managerId: $m}) { userErrors { code } } }"
    assert (
        errors_of((await tenant.panel.data(assign, id=contact_id, m=anna_id))["updateContact"])
        == []
    )
    add = {"contactId": contact_id, "kind": "PHONE", "value": "+7 912 555-55-55"}
    assert errors_of((await boris.data(ADD, input=add))["addContactPoint"]) in (
        ["forbidden"],
        ["not_found"],
    )
    assert errors_of((await viewer.data(ADD, input=add))["addContactPoint"]) == ["forbidden"]
    assert errors_of((await anna.data(ADD, input=add))["addContactPoint"]) == []
    phone = (await card(anna, contact_id))["phones"][0]["id"]
    assert errors_of((await boris.data(REMOVE, id=phone))["removeContactPoint"]) in (
        ["forbidden"],
        ["not_found"],
    )
    assert errors_of(
        (await boris.data(UPDATE, input={"id": phone, "label": "чужой"}))["updateContactPoint"]
    ) in (["forbidden"], ["not_found"])
    other = await make_tenant(platform)
    assert errors_of((await other.panel.data(REMOVE, id=phone))["removeContactPoint"]) == [
        "not_found"
    ]
    assert [p["label"] for p in (await card(anna, contact_id))["phones"]] == [None]


async def test_merge_keeps_every_email_and_phone_and_undo_gives_them_back_exactly(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    keep = (await new_lead(client, tenant, email="anna@example.com", phone=""))["contact"]["id"]
    dup = (await new_lead(client, tenant, email="anna@home.example", phone="+7 912 000-00-07"))[
        "contact"
    ]["id"]
    for contact_id, kind, value, label in (
        (keep, "PHONE", "+7 999 000-00-01", "work"),
        (dup, "PHONE", "+7 999 000-00-02", "дача"),
        # The kept contact has this one already: merged, it is one row, not two.
        (dup, "EMAIL", "anna@example.com", "old"),
    ):
        answer = await tenant.panel.data(
            ADD, input={"contactId": contact_id, "kind": kind, "value": value, "label": label}
        )
        assert answer["addContactPoint"]["userErrors"] == []
    keep_before, dup_before = await card(tenant.panel, keep), await card(tenant.panel, dup)

    merged = await tenant.panel.data(MERGE, keep=keep, merge=dup)
    assert merged["mergeContacts"]["userErrors"] == []
    after = await card(tenant.panel, keep)
    assert after["email"] == "anna@example.com" and after["phone"] == "+79990000001"
    assert values(after["emails"]) == [
        ("anna@example.com", None, True),
        ("anna@home.example", None, False),
    ]
    assert sorted(values(after["phones"])) == [
        ("+7 912 000-00-07", None, False),
        ("+7 999 000-00-01", "work", True),
        ("+7 999 000-00-02", "дача", False),
    ]
    # Capture finds the merged person by the merged contact's phone.
    await submit(client, tenant, submission(email="", phone="8 999 000 00 02"))
    assert (await tenant.panel.data("{ contacts { totalCount } }"))["contacts"]["totalCount"] == 1

    undone = await tenant.panel.data(UNDO, id=merged["mergeContacts"]["merge"]["id"])
    assert undone["undoContactMerge"]["userErrors"] == []
    assert await card(tenant.panel, keep) == keep_before
    assert await card(tenant.panel, dup) == dup_before


async def test_export_lists_every_email_and_phone_and_erasure_removes_them(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(client, tenant, email="erase.me@example.com", phone="")
    contact_id = lead["contact"]["id"]
    # A second e-mail arrives by a submission naming the first, then one naming it alone.
    await submit(client, tenant, submission(email="erase.me@example.com", phone="+7 912 000-00-09"))
    await tenant.panel.data(
        ADD, input={"contactId": contact_id, "kind": "EMAIL", "value": "second@example.com"}
    )
    await submit(client, tenant, submission(email="second@example.com", phone=""))
    exported = (
        await tenant.panel.data("query($id: ID!) { personalData(contactId: $id) }", id=contact_id)
    )["personalData"]
    assert [e["value"] for e in exported["contact"]["emails"]] == [
        "erase.me@example.com",
        "second@example.com",
    ]
    assert [(p["normalized"], p["is_primary"]) for p in exported["contact"]["phones"]] == [
        ("+79120000009", True)
    ]
    assert len(exported["submissions"]) == 3

    # A submission never processed that names only the second e-mail is the person's too.
    erase = "mutation($id: ID!) { erasePerson(input: {contactId: $id}) { erasure { counts } userErrors { code } } }"
    done = await tenant.panel.data(erase, id=contact_id)
    assert done["erasePerson"]["erasure"]["counts"]["submissions"] == 3
    workspace = parse_global_id(tenant.workspace_id).row_id
    async with services.db.transaction() as session:
        left = await session.scalar(
            select(func.count())
            .select_from(ContactPoint)
            .where(ContactPoint.workspace_id == workspace)
        )
    assert left == 0


async def test_an_import_keeps_every_phone_of_a_row_and_matches_by_a_second_one(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(client, tenant, email="anna@example.com", phone="+7 912 000-00-01")
    contact_id = lead["contact"]["id"]
    added = await tenant.panel.data(
        ADD, input={"contactId": contact_id, "kind": "PHONE", "value": "+7 999 000-00-05"}
    )
    assert added["addContactPoint"]["userErrors"] == []
    rows = (
        "Имя;Email;Телефон\n"
        # Matched by the second phone only: the row's other phone and its e-mail are kept.
        "Анна;anna@home.example;8 999 000 00 05, +7 913 000-00-06\n"
        "Борис;boris@example.com;+7 914 000-00-07, 8 915 000 00 08\n"
    )
    content = base64.b64encode(rows.encode()).decode()
    query = """mutation($c: String!) { importCsv(input: {contentBase64: $c, dryRun: false}) {
      report { contactsCreated contactsMatched errors { message } } userErrors { message } } }"""
    report = (await tenant.panel.data(query, c=content))["importCsv"]["report"]
    assert report == {"contactsCreated": 1, "contactsMatched": 1, "errors": []}
    anna = await card(tenant.panel, contact_id)
    assert anna["email"] == "anna@example.com"
    assert [e["normalized"] for e in anna["emails"]] == ["anna@example.com", "anna@home.example"]
    assert [p["e164"] for p in anna["phones"]] == ["+79120000001", "+79990000005", "+79130000006"]
    contacts = await tenant.panel.data(
        'query { contacts(filter: {search: "8 915 000-00-08"}) { edges { node { id phone '
        "phones { e164 primary } } } } }"
    )
    (boris,) = contacts["contacts"]["edges"]
    assert boris["node"]["phone"] == "+79140000007"
    assert [(p["e164"], p["primary"]) for p in boris["node"]["phones"]] == [
        ("+79140000007", True),
        ("+79150000008", False),
    ]
