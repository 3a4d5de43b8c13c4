"""Feedback on the shop's own site: the `{{feedback.nps_site_url}}` link, and the JSON question
and answer that the widget's feedback script uses (the browser side is in
tests/widgets/test_feedback_browser.py)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
import pytest
from test_feedback import PREVIEW, TEMPLATE

from conftest import GraphQL
from factories import Tenant, make_tenant, submission, submit

LEADS = "query { leads(first: 5) { edges { node { id contact { id } } } } }"
ANSWERS = """
query($contact: ID!) { feedbackAnswers(contactId: $contact) {
  totalCount edges { node { kind score comment leadId } } } }
"""
CREATE_LEAD = """
mutation($input: CreateLeadInput!) { createLead(input: $input) {
  lead { id contact { id } } userErrors { code } } }
"""
BODY = "Site: {{feedback.nps_site_url}} Hosted: {{feedback.nps_url}}"


async def links(tenant: Tenant, lead: dict[str, Any]) -> tuple[str, str]:
    made = (await tenant.panel.data(TEMPLATE, body=BODY))["createMessageTemplate"]
    assert made["userErrors"] == []
    body = (
        await tenant.panel.data(
            PREVIEW,
            template=made["template"]["id"],
            contact=lead["contact"]["id"],
            lead=lead["id"],
        )
    )["previewMessage"]["body"]
    found = re.fullmatch(r"Site: (\S+) Hosted: (\S+)", body)
    assert found, body
    return found.group(1), found.group(2)


async def site_lead(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    email = f"site-{uuid.uuid4().hex[:8]}@example.com"
    assert (await submit(client, tenant, submission(email=email))).status_code in (200, 202)
    lead: dict[str, Any] = (await tenant.panel.data(LEADS))["leads"]["edges"][0]["node"]
    return lead


async def token_of(client: httpx.AsyncClient, tenant: Tenant) -> tuple[str, dict[str, Any]]:
    lead = await site_lead(client, tenant)
    on_site, _ = await links(tenant, lead)
    return on_site.split("#embedcrm-feedback=", 1)[1], lead


async def test_the_site_link_opens_the_leads_site_with_the_hosted_links_token(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    lead = await site_lead(client, tenant)
    on_site, hosted = await links(tenant, lead)
    token = hosted.rsplit("/feedback/", 1)[1]
    # The token rides in the fragment: the shop's server, its logs and Referers never see it.
    assert on_site == f"https://{tenant.domain}/#embedcrm-feedback={token}"

    # A lead that came from no site is asked on the hosted page.
    pushed = await platform.data(
        CREATE_LEAD,
        input={"workspaceId": tenant.workspace_id, "channel": "CALL", "phone": "+79120004411"},
    )
    assert pushed["createLead"]["userErrors"] == []
    site_less, hosted_too = await links(tenant, pushed["createLead"]["lead"])
    assert site_less == hosted_too and "/feedback/" in site_less


async def test_the_question_and_the_answer_as_json_from_any_origin(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    token, lead = await token_of(client, tenant)
    url = f"/v1/feedback/{token}"

    asked = await client.get(url, headers={"Origin": f"https://{tenant.domain}"})
    assert asked.status_code == 200
    assert asked.headers["access-control-allow-origin"] == "*"
    assert asked.headers["cache-control"] == "no-store"
    question = asked.json()
    assert question["kind"] == "NPS" and question["language"] == "ru"
    assert question["scale"] == list(range(11)) and question["score"] is None
    assert "порекомендуете «Ромашка»" in question["texts"]["question"]
    assert question["texts"]["send"] == "Отправить"

    # Sent as the browser sends it without a preflight: text/plain holding JSON.
    answered = await client.post(
        url,
        content=json.dumps({"score": 9, "comment": "Свежие цветы"}),
        headers={"Content-Type": "text/plain;charset=UTF-8"},
    )
    assert answered.status_code == 200 and answered.json()["score"] == 9
    # The same link's hosted page shows the answer: one answer per link, wherever given.
    assert 'value="9" checked' in (await client.get(f"/feedback/{token}")).text
    again = await client.post(url, json={"score": "7"})
    assert again.status_code == 200 and again.json()["score"] == 7

    answers = (await tenant.panel.data(ANSWERS, contact=lead["contact"]["id"]))["feedbackAnswers"]
    assert answers["totalCount"] == 1
    assert answers["edges"][0]["node"] == {
        "kind": "NPS",
        "score": 7,
        "comment": None,
        "leadId": lead["id"],
    }


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        ('{"score": 11}', "application/json", 422, "invalid"),
        ('{"score": -1}', "application/json", 422, "invalid"),
        ('{"score": "9.5"}', "application/json", 422, "invalid"),
        ('{"comment": "без оценки"}', "application/json", 422, "invalid"),
        ('{"score": true}', "application/json", 400, "bad_request"),
        ('{"score": NaN}', "application/json", 400, "bad_request"),
        ('{"score": 9.0}', "application/json", 400, "bad_request"),
        ('{"score": 9, "comment": "\\ud800"}', "application/json", 422, "invalid"),
        ('{"score": 9, "comment": "a\\u0000b"}', "application/json", 422, "invalid"),
        ('{"score": 9, "comment": ["a"]}', "application/json", 400, "bad_request"),
        ('{"score": 9, "comment": "' + "x" * 2001 + '"}', "application/json", 422, None),
        ("[9]", "application/json", 400, "bad_request"),
        ("{", "text/plain", 400, "bad_request"),
        (b"\xff\xfe", "text/plain", 400, "bad_request"),
        ("score=9", "application/x-www-form-urlencoded", 415, None),
        ('{"score": 9, "comment": "' + "x" * 20_000 + '"}', "text/plain", 413, None),
    ],
)
async def test_a_bad_answer_is_refused_clearly_and_keeps_nothing(
    client: httpx.AsyncClient,
    platform: GraphQL,
    content: str | bytes,
    content_type: str,
    status: int,
    code: str | None,
) -> None:
    tenant = await make_tenant(platform)
    token, lead = await token_of(client, tenant)
    refused = await client.post(
        f"/v1/feedback/{token}", content=content, headers={"Content-Type": content_type}
    )
    assert refused.status_code == status, refused.text
    error = refused.json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    answers = (await tenant.panel.data(ANSWERS, contact=lead["contact"]["id"]))["feedbackAnswers"]
    assert answers["totalCount"] == 0


async def test_a_forged_or_foreign_token_is_not_found(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    token, _ = await token_of(client, tenant)
    forged = token[:-4] + ("abcd" if not token.endswith("abcd") else "dcba")
    for answer in (
        await client.get(f"/v1/feedback/{forged}"),
        await client.post(f"/v1/feedback/{forged}", json={"score": 9}),
    ):
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"
