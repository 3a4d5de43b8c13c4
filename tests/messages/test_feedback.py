"""Feedback: the NPS or CSAT link in a message, the hosted page that asks, the answer on the
contact and the lead, and the report by month, manager and source."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from conftest import GraphQL
from embedcrm.graphql.ids import parse_global_id
from embedcrm.leads.models import Lead
from embedcrm.services import Services
from factories import ISSUE_TOKEN, Tenant, make_tenant, submission, submit

TEMPLATE = """
mutation($body: String!) {
  createMessageTemplate(input: {name: "Отзыв", channel: EMAIL, language: "ru",
      subject: "Как всё прошло?", body: $body}) {
    template { id } userErrors { field message code } } }
"""
PREVIEW = """
query($template: ID!, $contact: ID!, $lead: ID) {
  previewMessage(templateId: $template, contactId: $contact, leadId: $lead) { body } }
"""
LEADS = "query { leads(first: 20) { edges { node { id contact { id email } } } } }"
ANSWERS = """
query($contact: ID!, $lead: ID) { feedbackAnswers(contactId: $contact, leadId: $lead) {
  totalCount edges { node { kind score comment contactId leadId managerId source } } } }
"""
REPORT = """
query($kind: FeedbackKind!, $from: DateTime!, $to: DateTime!) {
  feedbackReport(kind: $kind, from: $from, to: $to) {
    overall { count average nps }
    byMonth { key count average nps }
    byManager { key count average }
    bySource { key count average }
    comments { score comment } } }
"""
MEMBER = """
mutation($ws: ID!, $ext: String!) {
  issuePanelToken(input: {workspaceId: $ws, member: {externalId: $ext, name: "Олег"},
                  role: MANAGER, ttlSeconds: 900}) { member { id } } }
"""


async def links_for(
    client: httpx.AsyncClient, tenant: Tenant, n: int
) -> list[tuple[str, str, str]]:
    """n clients, each with a lead and the NPS link a message would carry to them."""
    for i in range(n):
        await submit(
            client,
            tenant,
            submission(
                name=f"Клиент{i}",
                email=f"fb{i}-{uuid.uuid4().hex[:6]}@example.com",
                phone=f"+7 912 000-40-0{i}",
            ),
        )
    made = (
        await tenant.panel.data(
            TEMPLATE, body="Оцените нас: {{feedback.nps_url}} {{feedback.csat_url}}"
        )
    )["createMessageTemplate"]
    assert made["userErrors"] == []
    out = []
    for edge in (await tenant.panel.data(LEADS))["leads"]["edges"]:
        lead = edge["node"]
        body = (
            await tenant.panel.data(
                PREVIEW,
                template=made["template"]["id"],
                contact=lead["contact"]["id"],
                lead=lead["id"],
            )
        )["previewMessage"]["body"]
        nps, csat = re.findall(r"http://crm\.test(/feedback/\S+)", body)
        out.append((lead["id"], lead["contact"]["id"], nps))
        assert csat != nps
    return out


async def answer(
    client: httpx.AsyncClient, path: str, score: Any, comment: str = ""
) -> httpx.Response:
    return await client.post(path, data={"score": str(score), "comment": comment})


async def test_the_hosted_page_asks_and_the_answer_lands_on_the_contact_and_lead(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    ((lead, contact, path),) = await links_for(client, tenant, 1)
    page = await client.get(path)
    assert page.status_code == 200 and 'lang="ru"' in page.text
    assert "порекомендуете «Ромашка»" in page.text
    assert page.text.count('type="radio"') == 11
    assert page.headers["cache-control"] == "no-store"

    wrong = await answer(client, path, 11)
    assert wrong.status_code == 422 and "0 to 10" in wrong.text
    missing = await client.post(path, data={"comment": "без оценки"})
    assert missing.status_code == 422
    first = await answer(client, path, 9, "Быстро привезли")
    assert first.status_code == 200 and "Спасибо" in first.text
    again = await answer(client, path, 6, "Передумал: курьер опоздал")
    assert again.status_code == 200
    assert 'value="6" checked' in (await client.get(path)).text

    answers = (await tenant.panel.data(ANSWERS, contact=contact))["feedbackAnswers"]
    assert answers["totalCount"] == 1
    node = answers["edges"][0]["node"]
    assert node == {
        "kind": "NPS",
        "score": 6,
        "comment": "Передумал: курьер опоздал",
        "contactId": contact,
        "leadId": lead,
        "managerId": None,
        # The lead's utm_source when it was answered.
        "source": "yandex",
    }
    assert (await tenant.panel.data(ANSWERS, contact=contact, lead=lead))["feedbackAnswers"][
        "totalCount"
    ] == 1
    forged = await client.get(path[:-4] + "abcd")
    assert forged.status_code == 404 and "недействительна" in forged.text
    other = await make_tenant(platform)
    assert (await other.panel(ANSWERS, contact=contact))["errors"]


async def test_the_report_scores_by_month_manager_and_source(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    workspace_id = parse_global_id(tenant.workspace_id).workspace_id
    links = await links_for(client, tenant, 4)
    manager = parse_global_id(
        (await platform.data(MEMBER, ws=tenant.workspace_id, ext=uuid.uuid4().hex))[
            "issuePanelToken"
        ]["member"]["id"]
    ).row_id
    # Two leads are the manager's and came from Yandex; the others are nobody's, from Google.
    async with services.db.transaction() as session:
        for n, (lead_id, _, _) in enumerate(links):
            lead = await session.get(Lead, (workspace_id, parse_global_id(lead_id).row_id))
            assert lead is not None
            lead.assignee_id = manager if n < 2 else None
            lead.utm_source = "yandex" if n < 2 else "google"
    for (_, _, path), (score, comment) in zip(
        links, [(10, "Отлично"), (9, ""), (5, "Долго"), (8, "")], strict=True
    ):
        assert (await answer(client, path, score, comment)).status_code == 200

    now = datetime.now(UTC)
    report = (
        await tenant.panel.data(
            REPORT,
            kind="NPS",
            **{
                "from": (now - timedelta(days=1)).isoformat(),
                "to": (now + timedelta(days=1)).isoformat(),
            },
        )
    )["feedbackReport"]
    # Promoters 2 (10, 9), detractors 1 (5), passive 1 (8): NPS 25.
    assert report["overall"] == {"count": 4, "average": 8.0, "nps": 25}
    assert [(m["count"], m["nps"]) for m in report["byMonth"]] == [(4, 25)]
    by_manager = {m["key"]: (m["count"], m["average"]) for m in report["byManager"]}
    manager_key = next(key for key in by_manager if key is not None)
    assert parse_global_id(manager_key).row_id == manager
    assert by_manager == {manager_key: (2, 9.5), None: (2, 6.5)}
    assert {s["key"]: s["count"] for s in report["bySource"]} == {"google": 2, "yandex": 2}
    assert sorted(c["comment"] for c in report["comments"]) == ["Долго", "Отлично"]
    empty = (
        await tenant.panel.data(
            REPORT,
            kind="CSAT",
            **{
                "from": (now - timedelta(days=1)).isoformat(),
                "to": (now + timedelta(days=1)).isoformat(),
            },
        )
    )["feedbackReport"]
    assert empty["overall"] == {"count": 0, "average": None, "nps": None}
    backwards = await tenant.panel(
        REPORT, kind="NPS", **{"from": now.isoformat(), "to": (now - timedelta(days=1)).isoformat()}
    )
    assert backwards["errors"][0]["extensions"]["fields"] == {"to": "to is after from."}


SEND_SMS = """
mutation($contact: ID!) { sendMessage(input: {contactId: $contact, channel: SMS, subject: "",
    body: "Заказ готов"}) { message { id } userErrors { code } } }
"""
MESSAGES = """
query($contact: ID!) { messages(contactId: $contact, first: 10) {
  totalCount edges { node { id } } } }
"""
ASSIGN = """mutation($lead: ID!, $who: ID) { assignLead(input: {leadId: $lead, assigneeId: $who}) {
  userErrors { code } } }"""


async def manager_of(platform: GraphQL, tenant: Tenant) -> tuple[GraphQL, str]:
    issued = (
        await platform.data(
            ISSUE_TOKEN,
            ws=tenant.workspace_id,
            ext=f"manager-{uuid.uuid4().hex[:8]}",
            role="MANAGER",
            ttl=900,
        )
    )["issuePanelToken"]
    return GraphQL(platform.client, issued["token"]), issued["member"]["id"]


async def test_a_manager_reads_the_messages_and_answers_of_the_contacts_they_see_alone(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    ((lead, contact, path),) = await links_for(client, tenant, 1)
    assert (await answer(client, path, 8)).status_code == 200
    sent = (await tenant.panel.data(SEND_SMS, contact=contact))["sendMessage"]
    assert sent["userErrors"] == []
    anna, _ = await manager_of(platform, tenant)
    boris, boris_id = await manager_of(platform, tenant)

    def counts(answers: dict[str, Any], messages: dict[str, Any]) -> tuple[int, int, int, int]:
        return (
            answers["feedbackAnswers"]["totalCount"],
            len(answers["feedbackAnswers"]["edges"]),
            messages["messages"]["totalCount"],
            len(messages["messages"]["edges"]),
        )

    async def seen_by(gql: GraphQL) -> tuple[int, int, int, int]:
        return counts(
            await gql.data(ANSWERS, contact=contact, lead=None),
            await gql.data(MESSAGES, contact=contact),
        )

    # Unassigned, the lead and so its client are every manager's to see.
    assert await seen_by(anna) == (1, 1, 1, 1)
    given = await tenant.panel.data(ASSIGN, lead=lead, who=boris_id)
    assert given["assignLead"]["userErrors"] == []
    assert await seen_by(anna) == (0, 0, 0, 0)
    assert await seen_by(boris) == (1, 1, 1, 1)
    assert await seen_by(tenant.panel) == (1, 1, 1, 1)
    assert await seen_by(platform) == (1, 1, 1, 1)
