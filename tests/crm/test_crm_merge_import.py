"""Contact merge with undo, merge proposals, CSV import of the real files, erasure (K1, K7)."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
from crm_support import errors_of, events, new_lead, panel_as
from sqlalchemy import Text, cast, func, select

from conftest import GraphQL
from embedcrm.capture.models import Submission
from embedcrm.contacts.models import Contact
from embedcrm.graphql.ids import parse_global_id
from embedcrm.leads.models import Lead
from embedcrm.services import Services
from embedcrm.webhooks.models import OutboxEvent
from factories import make_tenant, submission, submit

DATA = Path(__file__).resolve().parents[1] / "data"
MERGE = """mutation($keep: ID!, $merge: ID!) { mergeContacts(input: {keepId: $keep, mergeId: $merge}) {
  merge { id mergedContactId undoneAt keptContact { id email phone leads { totalCount } } } userErrors { field code } } }"""
UNDO = """mutation($id: ID!) { undoContactMerge(input: {id: $id}) { merge { undoneAt } userErrors { code } } }"""
IMPORT = """mutation($content: String!, $dry: Boolean!) { importCsv(input: {contentBase64: $content, dryRun: $dry}) {
  report { encoding delimiter totalRows validRows errors { row column message } contactsCreated contactsMatched
           leadsCreated leadsExisting stagesCreated imported dryRun mapping { column field } }
  userErrors { field message code } } }"""


async def test_merge_moves_everything_and_undo_puts_it_back(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    keep = await new_lead(client, tenant, email="anna@example.com", phone="")
    dup = await new_lead(client, tenant, email="", phone="+79120000001")
    await tenant.panel.data(
        'mutation($id: ID!) { addActivity(input: {contactId: $id, kind: NOTE, body: "дубль"}) { userErrors { code } } }',
        id=dup["contact"]["id"],
    )
    merged = await tenant.panel.data(MERGE, keep=keep["contact"]["id"], merge=dup["contact"]["id"])
    result = merged["mergeContacts"]["merge"]
    assert result["keptContact"]["phone"] == "+79120000001"
    assert result["keptContact"]["leads"]["totalCount"] == 2
    (event,) = await events(services, tenant, "contact.merged")
    assert event["data"]["merged_contact_id"] == dup["contact"]["id"]
    gone = await tenant.panel.data(
        "query($id: ID!) { node(id: $id) { id } }", id=dup["contact"]["id"]
    )
    assert gone["node"] is None
    audit = await tenant.panel.data(
        "{ contactMerges { edges { node { id mergedContactId mergedBy { id } } } } }"
    )
    assert audit["contactMerges"]["edges"][0]["node"]["mergedContactId"] == dup["contact"]["id"]
    undone = await tenant.panel.data(UNDO, id=result["id"])
    assert undone["undoContactMerge"]["merge"]["undoneAt"]
    back = await tenant.panel.data(
        "query($id: ID!) { node(id: $id) { ... on Contact { phone leads { totalCount } timeline { edges { node { body } } } } } }",
        id=dup["contact"]["id"],
    )
    assert back["node"]["phone"] == "+79120000001"
    assert back["node"]["leads"]["totalCount"] == 1
    assert "дубль" in [e["node"]["body"] for e in back["node"]["timeline"]["edges"]]
    again = await tenant.panel.data(UNDO, id=result["id"])
    assert errors_of(again["undoContactMerge"]) == ["conflict"]
    other = await make_tenant(platform)
    foreign = await other.panel.data(MERGE, keep=keep["contact"]["id"], merge=dup["contact"]["id"])
    assert errors_of(foreign["mergeContacts"]) == ["not_found"]
    viewer, _ = await panel_as(platform, tenant, "VIEWER")
    assert errors_of(
        (await viewer.data(MERGE, keep=keep["contact"]["id"], merge=dup["contact"]["id"]))[
            "mergeContacts"
        ]
    ) == ["forbidden"]


async def test_merge_proposals_are_accepted_or_dismissed(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    proposals = (
        "{ mergeProposals { edges { node { id status contact { id } otherContact { id } } } } }"
    )
    for email, phone in (
        ("anna@example.com", ""),
        ("other@example.com", "+79990001122"),
        ("anna@example.com", "+79990001122"),
    ):
        await submit(client, tenant, submission(email=email, phone=phone))
    (proposal,) = [
        e["node"] for e in (await tenant.panel.data(proposals))["mergeProposals"]["edges"]
    ]
    other = await make_tenant(platform)
    foreign = await other.panel.data(
        "mutation($id: ID!) { dismissMergeProposal(input: {id: $id}) { userErrors { code } } }",
        id=proposal["id"],
    )
    assert errors_of(foreign["dismissMergeProposal"]) == ["not_found"]
    accepted = await tenant.panel.data(
        "mutation($id: ID!) { acceptMergeProposal(input: {id: $id}) { merge { keptContact { id leads { totalCount } } } userErrors { code } } }",
        id=proposal["id"],
    )
    assert accepted["acceptMergeProposal"]["merge"]["keptContact"]["leads"]["totalCount"] == 3
    assert (await tenant.panel.data(proposals))["mergeProposals"]["edges"] == []
    contacts = await tenant.panel.data("{ contacts { totalCount } }")
    assert contacts["contacts"]["totalCount"] == 1


async def test_the_real_exports_import_as_the_readme_describes(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    utf8 = base64.b64encode((DATA / "leads-export-utf8.csv").read_bytes()).decode()
    cp1251 = base64.b64encode((DATA / "leads-export-cp1251.csv").read_bytes()).decode()
    preview = await tenant.panel.data(
        "mutation($c: String!) { previewCsvImport(input: {contentBase64: $c}) { preview { encoding delimiter rowCount mapping { column field } } userErrors { code } } }",
        c=cp1251,
    )
    seen = preview["previewCsvImport"]["preview"]
    assert seen["encoding"] == "cp1251" and seen["delimiter"] == ";" and seen["rowCount"] == 302
    mapping = {m["column"]: m["field"] for m in seen["mapping"]}
    assert (
        mapping["Телефон"] == "phone"
        and mapping["E-mail"] == "email"
        and mapping["Дата создания"] == "created_at"
    )
    assert (
        mapping["Стадия"] == "stage"
        and mapping["UTM Source"] == "utm_source"
        and mapping["Сумма"] == "value"
    )
    dry = (await tenant.panel.data(IMPORT, content=utf8, dry=True))["importCsv"]["report"]
    assert dry["encoding"] == "utf-8-sig"
    assert sorted({e["row"] for e in dry["errors"]}) == [301, 302]
    assert {e["column"] for e in dry["errors"] if e["row"] == 302} == {"Телефон", "E-mail", "Сумма"}
    assert dry["imported"] is False and dry["validRows"] == 300
    assert (await tenant.panel.data("{ leads { totalCount } }"))["leads"]["totalCount"] == 0
    skip = """mutation($c: String!, $dry: Boolean!) { importCsv(input: {contentBase64: $c, dryRun: $dry, skipInvalidRows: true}) {
      report { contactsCreated leadsCreated leadsExisting stagesCreated imported } userErrors { code } } }"""
    rehearsal = (await tenant.panel.data(skip, c=utf8, dry=True))["importCsv"]["report"]
    assert rehearsal["imported"] is False and rehearsal["leadsCreated"] == 300
    assert (await tenant.panel.data("{ leads { totalCount } }"))["leads"]["totalCount"] == 0
    done = (await tenant.panel.data(skip, c=utf8, dry=False))["importCsv"]["report"]
    assert done["imported"] is True and done["leadsCreated"] == 300
    assert 140 <= done["contactsCreated"] <= 190
    assert done["stagesCreated"] == ["Не обработан"]
    again = (await tenant.panel.data(skip, c=cp1251, dry=False))["importCsv"]["report"]
    assert (
        again["leadsCreated"] == 0
        and again["contactsCreated"] == 0
        and again["leadsExisting"] == 300
    )
    totals = await tenant.panel.data("{ leads { totalCount } contacts { totalCount } }")
    assert totals["leads"]["totalCount"] == 300
    assert totals["contacts"]["totalCount"] == done["contactsCreated"]
    first = await tenant.panel.data(
        '{ leads(filter: {search: "aleksey.kuznetsov86@rambler.ru"}) { edges { node { value valueSetByHand currency createdAt status stage { name } channel source { utmSource utmCampaign } } } } }'
    )
    node = first["leads"]["edges"][0]["node"]
    assert node["value"] == "18800.00" and node["currency"] == "RUB"
    # The file's value was entered by someone: a cart set later leaves it.
    assert node["valueSetByHand"] is True
    assert node["createdAt"].startswith("2026-11-04T14:26:22")  # 17:26:22 in Moscow
    assert node["channel"] == "Веб-форма" and node["source"]["utmSource"] == "google"
    won = await tenant.panel.data("{ leads(filter: {status: WON}) { totalCount } }")
    assert won["leads"]["totalCount"] == 65
    manager, _ = await panel_as(platform, tenant, "MANAGER")
    assert errors_of((await manager.data(IMPORT, content=utf8, dry=True))["importCsv"]) == [
        "forbidden"
    ]


async def test_one_person_is_exported_and_erased_everywhere(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(
        client, tenant, name="Анна Стёртая", email="erase.me@example.com", phone="+79125550000"
    )
    keep = await new_lead(client, tenant, email="stay@example.com")
    await tenant.panel.data(
        'mutation($id: ID!) { addActivity(input: {leadId: $id, kind: NOTE, body: "личное"}) { userErrors { code } } }',
        id=lead["id"],
    )
    exported = await tenant.panel.data(
        "query($id: ID!) { personalData(contactId: $id) }", id=lead["contact"]["id"]
    )
    assert exported["personalData"]["contact"]["email"] == "erase.me@example.com"
    assert exported["personalData"]["submissions"]
    # Each domain adds its share; the document keeps one order whichever holds what.
    assert list(exported["personalData"]) == [
        "contact",
        "tags",
        "leads",
        "items",
        "timeline",
        "tasks",
        "submissions",
        "invoices",
        "messages",
        "opt_outs",
        "feedback_answers",
    ]
    manager, _ = await panel_as(platform, tenant, "MANAGER")
    erase = "mutation($id: ID!) { erasePerson(input: {contactId: $id}) { erasure { counts } userErrors { code } } }"
    assert errors_of((await manager.data(erase, id=lead["contact"]["id"]))["erasePerson"]) == [
        "forbidden"
    ]
    other = await make_tenant(platform)
    assert errors_of((await other.panel.data(erase, id=lead["contact"]["id"]))["erasePerson"]) == [
        "not_found"
    ]
    done = await tenant.panel.data(erase, id=lead["contact"]["id"])
    counts = done["erasePerson"]["erasure"]["counts"]
    assert counts["leads"] == 1 and counts["submissions"] == 1 and counts["events_scrubbed"] >= 2
    assert list(counts) == [
        "leads",
        "won",
        "lost",
        "won_value",
        "submissions",
        "invoices",
        "messages",
        "opt_outs",
        "feedback_answers",
        "events_scrubbed",
        "merges",
    ]
    workspace = parse_global_id(tenant.workspace_id).row_id
    async with services.db.transaction() as session:
        for model in (Contact, Lead, Submission, OutboxEvent):
            text = await session.scalar(
                select(func.count())
                .select_from(model)
                .where(
                    model.workspace_id == workspace,
                    cast(
                        getattr(model, "payload", None)
                        if hasattr(model, "payload")
                        else model.workspace_id,
                        Text,
                    ).contains("erase.me"),
                )
            )
            assert not text, model
        contacts = await session.scalar(
            select(func.count()).select_from(Contact).where(Contact.workspace_id == workspace)
        )
    assert contacts == 1
    assert (await tenant.panel.data("{ leads { totalCount } }"))["leads"]["totalCount"] == 1
    await events(services, tenant)  # scrubbed payloads still match their schemas
    assert keep["id"]


HELD = """{ submissions(status: QUARANTINED) { totalCount edges { node { id } } } }"""


async def test_erasure_and_export_find_submissions_by_email_and_phone_not_only_by_link(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(
        client, tenant, name="Ольга Тихая", email="quiet@example.com", phone="+7 912 555-11-22"
    )
    honeypot = {"honeypot": "http://spam.example"}
    # Caught by the honeypot, so linked to nobody: her e-mail in other case, her phone in
    # another format; her phone alone beside another e-mail; her phone in a field a builder
    # named by its label; then someone else.
    for fields in (
        {"email": "Quiet@Example.com", "phone": "8 (912) 555-11-22"},
        {"email": "olga.work@example.com", "phone": "89125551122"},
        {"email": None, "phone": None, "Ваш телефон:": "8 912 555 11 22"},
        {"email": "someone.else@example.com", "phone": "+7 912 000-99-88"},
    ):
        body = submission()
        body["fields"] = {k: v for k, v in {**body["fields"], **fields}.items() if v is not None}
        response = await submit(client, tenant, {**body, **honeypot})
        assert response.status_code == 202, response.text
    assert (await tenant.panel.data(HELD))["submissions"]["totalCount"] == 4

    exported = await tenant.panel.data(
        "query($id: ID!) { personalData(contactId: $id) }", id=lead["contact"]["id"]
    )
    typed = sorted(
        s["payload"]["fields"].get("email", s["payload"]["fields"].get("Ваш телефон:"))
        for s in exported["personalData"]["submissions"]
    )
    assert typed == [
        "8 912 555 11 22",
        "Quiet@Example.com",
        "olga.work@example.com",
        "quiet@example.com",
    ]

    erase = "mutation($id: ID!) { erasePerson(input: {contactId: $id}) { erasure { counts } userErrors { code } } }"
    done = await tenant.panel.data(erase, id=lead["contact"]["id"])
    assert done["erasePerson"]["erasure"]["counts"]["submissions"] == 4
    held = (await tenant.panel.data(HELD))["submissions"]
    assert held["totalCount"] == 1
    workspace = parse_global_id(tenant.workspace_id).row_id
    async with services.db.transaction() as session:
        for trace in ("quiet", "olga", "555-11-22", "5551122", "555 11 22"):
            left = await session.scalar(
                select(func.count())
                .select_from(Submission)
                .where(
                    Submission.workspace_id == workspace,
                    cast(Submission.payload, Text).contains(trace),
                )
            )
            assert left == 0, trace
    # Releasing what is left makes the other person, not her again.
    release = """mutation($id: ID!) { releaseSubmission(input: {submissionId: $id}) {
      submission { status } userErrors { code } } }"""
    released = await tenant.panel.data(release, id=held["edges"][0]["node"]["id"])
    assert released["releaseSubmission"]["submission"]["status"] == "PROCESSED"
    contacts = await tenant.panel.data("{ contacts { edges { node { email } } } }")
    assert [e["node"]["email"] for e in contacts["contacts"]["edges"]] == [
        "someone.else@example.com"
    ]
