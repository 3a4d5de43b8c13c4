"""Form definitions per site: managed through GraphQL, served in the widget's config, enforced at
submission with errors per field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conftest import GraphQL
from factories import LEADS, Tenant, make_tenant, submission, submit

SAVE = """mutation($input: SaveSiteFormInput!) { saveSiteForm(input: $input) {
  siteForm { id siteId key display title { ru en } consentText { ru en }
    fields { name type label { ru en } required options { value label { ru en } } } }
  userErrors { field message code } } }"""
LIST = """query($site: ID!) { siteForms(siteId: $site) { key display fields { name } } }"""
DELETE = """mutation($site: ID!, $key: String!) { deleteSiteForm(input: {siteId: $site, key: $key}) {
  deletedKey userErrors { field code } } }"""


def callback_form(site_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "siteId": site_id,
        "key": "callback",
        "display": "POPUP",
        "title": {"ru": "Обратный звонок", "en": "Call me back"},
        "buttonLabel": {"ru": "Позвоните мне", "en": "Call me"},
        "successMessage": {"ru": "Перезвоним!", "en": "We will call you!"},
        "consentText": {"ru": "Согласен на обработку данных", "en": "I agree"},
        "fields": [
            {"name": "name", "label": {"ru": "Имя", "en": "Name"}, "required": True},
            {"name": "phone", "type": "TEL", "label": {"ru": "Телефон", "en": "Phone"}},
            {"name": "email", "type": "EMAIL", "label": {"en": "E-mail"}},
            {"name": "guests", "type": "NUMBER", "label": {"en": "Guests"}},
            {"name": "day", "type": "DATE", "label": {"en": "Day"}},
            {"name": "newsletter", "type": "CHECKBOX", "label": {"en": "News"}},
            {
                "name": "time",
                "type": "SELECT",
                "label": {"ru": "Когда", "en": "When"},
                "required": True,
                "options": [
                    {"value": "morning", "label": {"ru": "Утром", "en": "Morning"}},
                    {"value": "evening", "label": {"ru": "Вечером", "en": "Evening"}},
                ],
            },
        ],
        **overrides,
    }


@pytest.fixture
async def tenant(platform: GraphQL) -> Tenant:
    return await make_tenant(platform)


async def save(graphql: GraphQL, form: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = (await graphql.data(SAVE, input=form))["saveSiteForm"]
    return payload


async def config(client: httpx.AsyncClient, tenant: Tenant) -> httpx.Response:
    return await client.get(
        f"/v1/sites/{tenant.site_key}/config", headers={"Origin": f"https://{tenant.domain}"}
    )


async def test_a_saved_form_is_served_in_the_widget_config(
    client: httpx.AsyncClient, platform: GraphQL, tenant: Tenant
) -> None:
    saved = await save(platform, callback_form(tenant.site_id))
    assert saved["userErrors"] == []
    form = saved["siteForm"]
    assert form["siteId"] == tenant.site_id and form["display"] == "POPUP"
    assert form["fields"][6]["options"][0] == {
        "value": "morning",
        "label": {"ru": "Утром", "en": "Morning"},
    }

    response = await config(client, tenant)
    assert response.status_code == 200
    # The token inside is fresh per response: a browser may reuse it briefly, a proxy never.
    assert response.headers["cache-control"] == "private, max-age=60"
    served = response.json()["forms"]["callback"]
    assert served["display"] == "popup"
    assert served["title"] == {"ru": "Обратный звонок", "en": "Call me back"}
    assert served["consent_text"] == {"ru": "Согласен на обработку данных", "en": "I agree"}
    assert [f["name"] for f in served["fields"]] == [
        "name",
        "phone",
        "email",
        "guests",
        "day",
        "newsletter",
        "time",
    ]
    assert served["fields"][0] == {
        "name": "name",
        "type": "text",
        "label": {"ru": "Имя", "en": "Name"},
        "required": True,
    }


async def test_saving_the_same_key_replaces_the_form_and_delete_removes_it(
    client: httpx.AsyncClient, platform: GraphQL, tenant: Tenant
) -> None:
    first = await save(platform, callback_form(tenant.site_id))
    second = await save(
        platform,
        callback_form(tenant.site_id, display="INLINE", fields=[{"name": "phone", "type": "TEL"}]),
    )
    assert second["siteForm"]["id"] == first["siteForm"]["id"]
    listed = (await tenant.panel.data(LIST, site=tenant.site_id))["siteForms"]
    assert listed == [{"key": "callback", "display": "INLINE", "fields": [{"name": "phone"}]}]
    assert (await config(client, tenant)).json()["forms"]["callback"]["display"] == "inline"

    deleted = (await platform.data(DELETE, site=tenant.site_id, key="callback"))["deleteSiteForm"]
    assert deleted == {"deletedKey": "callback", "userErrors": []}
    assert (await config(client, tenant)).json()["forms"] == {}
    again = (await platform.data(DELETE, site=tenant.site_id, key="callback"))["deleteSiteForm"]
    assert again["userErrors"] == [{"field": "key", "code": "not_found"}]


async def test_a_bad_definition_is_refused_field_by_field(
    platform: GraphQL, tenant: Tenant
) -> None:
    saved = await save(
        platform,
        callback_form(
            tenant.site_id,
            key="no spaces",
            fields=[
                {"name": "name"},
                {"name": "name"},
                {"name": "kind", "type": "SELECT"},
                {"name": "form_token"},
                {"name": "note", "options": [{"value": "x"}]},
            ],
        ),
    )
    assert saved["siteForm"] is None
    assert {e["field"] for e in saved["userErrors"]} == {
        "key",
        "fields.1.name",
        "fields.2.options",
        "fields.3.name",
        "fields.4.options",
    }
    assert {e["code"] for e in saved["userErrors"]} == {"invalid"}


@pytest.mark.parametrize("role", ["MANAGER", "VIEWER"])
async def test_only_the_platform_or_an_owner_edits_forms(
    platform: GraphQL, tenant: Tenant, role: str
) -> None:
    member = await make_tenant(platform, role=role)
    saved = await save(member.panel, callback_form(member.site_id))
    assert saved["siteForm"] is None
    assert saved["userErrors"][0]["code"] == "forbidden"
    # A member of another workspace cannot even see that the site exists.
    foreign = await save(tenant.panel, callback_form(member.site_id))
    assert foreign["userErrors"][0]["code"] == "not_found"
    owner = await save(tenant.panel, callback_form(tenant.site_id))
    assert owner["userErrors"] == []
    # Reading is open to every member of the workspace, and to them only.
    assert (await member.panel.data(LIST, site=member.site_id))["siteForms"] == []
    denied = await member.panel(LIST, site=tenant.site_id)
    assert denied["errors"][0]["extensions"]["code"] == "not_found"


async def lead_count(tenant: Tenant) -> int:
    return int((await tenant.panel.data(LEADS))["leads"]["totalCount"])


async def test_a_submission_is_checked_against_its_form(
    client: httpx.AsyncClient, platform: GraphQL, tenant: Tenant
) -> None:
    await save(platform, callback_form(tenant.site_id))
    body = submission(name="", email="not-an-email", guests="many", day="32.13.2026")
    body.update(form="callback", consent=False)
    body["fields"].update(time="night", newsletter="maybe")
    body["context"]["language"] = "en"
    response = await submit(client, tenant, body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {
        "name": "This field is required.",
        "email": "This is not an e-mail address.",
        "guests": "Enter a number.",
        "day": "Enter a date (YYYY-MM-DD).",
        "newsletter": "Yes or no.",
        "time": "Choose one of the options.",
        "consent": "Your consent is required.",
    }
    assert await lead_count(tenant) == 0

    # In the visitor's language.
    body["context"]["language"] = "ru"
    russian = (await submit(client, tenant, body)).json()["error"]["fields"]
    assert russian["name"] == "Заполните это поле."

    good = submission(guests="4", day="2026-12-31")
    good.update(form="callback", consent=True)
    good["fields"].update(time="evening", newsletter=True)
    response = await submit(client, tenant, good)
    assert response.status_code == 202, response.text
    assert await lead_count(tenant) == 1


async def test_forms_without_a_definition_are_not_checked(
    client: httpx.AsyncClient, platform: GraphQL, tenant: Tenant
) -> None:
    await save(platform, callback_form(tenant.site_id))
    response = await submit(client, tenant, submission())  # form "contact": no definition
    assert response.status_code == 202
