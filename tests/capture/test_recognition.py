"""Posts that bypass the widget, as builders' forms send them: fields are recognised on the server
from their names and from what the widget saw; card data, passwords and files are stripped before
anything is stored; only a form defined for the site refuses, and what it refuses is kept for the
owner. The CSV import reads headers with the same synonym list."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select

from conftest import GraphQL
from embedcrm.capture.models import Submission
from embedcrm.capture.recognition import is_card_number, recognise_form
from embedcrm.graphql.ids import parse_global_id
from embedcrm.imports.service import suggest_mapping
from embedcrm.services import Services
from factories import Tenant, form_token, make_tenant, services_of, submit

LEAD = """{ leads(first: 5) { totalCount edges { node { title message customFields
  contact { name email phone company } } } } }"""
SUBMISSIONS = """query($status: SubmissionStatus) { submissions(status: $status) { totalCount
  edges { node { id status reason fields withheld leadId } } } }"""
RELEASE = """mutation($id: ID!) { releaseSubmission(input: {submissionId: $id}) {
  submission { status leadId } userErrors { code } } }"""
SAVE_FORM = """mutation($input: SaveSiteFormInput!) { saveSiteForm(input: $input) {
  userErrors { field message } } }"""


@pytest.fixture
async def tenant(platform: GraphQL) -> Tenant:
    return await make_tenant(platform)


def post(fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "submission_id": str(uuid.uuid4()),
        "form": "contact",
        "fields": fields,
        "context": {"language": "ru"},
        **extra,
    }


async def only_lead(tenant: Tenant) -> dict[str, Any]:
    data = await tenant.panel.data(LEAD)
    assert data["leads"]["totalCount"] == 1, data
    node: dict[str, Any] = data["leads"]["edges"][0]["node"]
    return node


async def stored_payloads(services: Services, tenant: Tenant) -> list[dict[str, Any]]:
    workspace_id = parse_global_id(tenant.workspace_id).row_id
    async with services.db.transaction() as session:
        rows = await session.scalars(
            select(Submission.payload).where(Submission.workspace_id == workspace_id)
        )
        return list(rows)


async def test_a_contact_form_7_post_makes_a_lead_without_its_hidden_fields(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    form = (
        "_wpcf7=5&_wpcf7_version=5.9.3&_wpcf7_locale=ru_RU&_wpcf7_unit_tag=wpcf7-f5-p2-o1"
        "&_wpcf7_container_post=2&_wpnonce=3f9a1c2b7e"
        "&your-name=%D0%90%D0%BD%D0%BD%D0%B0&your-email=anna%40example.com"
        "&your-subject=Delivery&your-message=Hello&acceptance-231=1"
        # The form token the page was rendered with (without one the post waits in quarantine).
        f"&form_token={quote(form_token(client, tenant))}"
    )
    response = await submit(client, tenant, form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 202, response.text
    lead = await only_lead(tenant)
    assert lead["contact"]["name"] == "Анна"
    assert lead["contact"]["email"] == "anna@example.com"
    assert lead["message"] == "Hello"
    assert lead["customFields"] == {"your-subject": "Delivery"}
    # The builder's fields are still on the submission, as sent.
    [payload] = await stored_payloads(services_of(client), tenant)
    assert payload["fields"]["_wpnonce"] == "3f9a1c2b7e"


async def test_card_data_and_passwords_are_stripped_before_they_are_stored(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = post(
        {
            "email": "buyer@example.com",
            "cardnumber": "4111 1111 1111 1111",
            "cvv": "737",
            "note": "5555-5555-5555-4444",  # a card number under an innocent name
            "contact[phone]": "s3cret-pass",  # type beats name: a password called phone
            "order": "1234567890123",  # 13 digits that fail the Luhn check: kept
        },
        seen={"contact[phone]": {"type": "password"}},
        withheld=["cc-exp"],
    )
    response = await submit(client, tenant, body)
    assert response.status_code == 202, response.text
    [payload] = await stored_payloads(services_of(client), tenant)
    # Whole secrets, in every notation: a fragment as short as "4111" or "737" can turn up by
    # chance inside the random ids the payload also holds.
    text = json.dumps(payload)
    for secret in ("4111 1111", "4111111111111111", "5555-5555", "5555555555554444", "s3cret"):
        assert secret not in text
    assert not any("737" in str(value) for value in payload["fields"].values())
    assert payload["withheld"] == ["cardnumber", "cc-exp", "contact[phone]", "cvv", "note"]
    lead = await only_lead(tenant)
    assert lead["customFields"] == {"order": "1234567890123"}
    data = await tenant.panel.data(SUBMISSIONS)
    assert data["submissions"]["edges"][0]["node"]["withheld"] == payload["withheld"]


async def test_what_the_widget_saw_decides_over_the_name(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = post(
        {
            "input_3": "Иван",
            "input_4": "Петров",
            "f1": "ivan@example.com",
            "f2": "+7 912 345-67-89",
            "Ваш вопрос": "Когда откроетесь?",
            "extra": "Ромашка",
        },
        seen={
            "input_3": {"label": "Имя", "id": "input_1_3"},
            "input_4": {"autocomplete": "family-name"},
            "f1": {"type": "email"},
            "f2": {"autocomplete": "section-a shipping tel"},
            "extra": {"field": "company"},
            "unknown": {"label": "sent only as a hint"},
        },
    )
    response = await submit(client, tenant, body)
    assert response.status_code == 202, response.text
    lead = await only_lead(tenant)
    assert lead["contact"] == {
        "name": "Иван Петров",
        "email": "ivan@example.com",
        "phone": "+79123456789",
        "company": "Ромашка",
    }
    assert lead["message"] == "Когда откроетесь?"
    assert lead["customFields"] == {}
    [payload] = await stored_payloads(services_of(client), tenant)
    assert "unknown" not in payload["seen"]


async def test_a_submission_with_no_email_or_phone_still_makes_a_lead(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await submit(client, tenant, post({"Имя": "Ольга", "Сообщение": "Жду звонка"}))
    assert response.status_code == 202, response.text
    lead = await only_lead(tenant)
    assert lead["contact"]["name"] == "Ольга"
    assert lead["message"] == "Жду звонка"
    assert lead["title"].endswith(": Ольга")


async def test_a_refused_submission_is_kept_for_the_owner_and_can_be_released(
    client: httpx.AsyncClient, platform: GraphQL, tenant: Tenant
) -> None:
    saved = await platform.data(
        SAVE_FORM,
        input={
            "siteId": tenant.site_id,
            "key": "contact",
            "fields": [{"name": "phone", "type": "TEL", "required": True}],
        },
    )
    assert saved["saveSiteForm"]["userErrors"] == []
    body = post({"name": "Пётр", "email": "petr@example.com"})
    response = await submit(client, tenant, body)
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "Проверьте поля формы."
    assert response.json()["error"]["fields"] == {"phone": "Заполните это поле."}

    refused = (await tenant.panel.data(SUBMISSIONS, status="REFUSED"))["submissions"]
    assert refused["totalCount"] == 1
    [row] = [e["node"] for e in refused["edges"]]
    assert row["reason"] == "phone: Заполните это поле."
    assert row["fields"] == {"name": "Пётр", "email": "petr@example.com"}
    assert (await tenant.panel.data(LEAD))["leads"]["totalCount"] == 0

    # The owner may still make a lead of it.
    released = await tenant.panel.data(RELEASE, id=row["id"])
    assert released["releaseSubmission"]["submission"]["status"] == "PROCESSED"
    assert (await only_lead(tenant))["contact"]["email"] == "petr@example.com"


async def test_a_refused_submission_corrected_under_the_same_id_goes_through(
    client: httpx.AsyncClient, platform: GraphQL, tenant: Tenant
) -> None:
    await platform.data(
        SAVE_FORM,
        input={
            "siteId": tenant.site_id,
            "key": "contact",
            "fields": [{"name": "phone", "type": "TEL", "required": True}],
        },
    )
    body = post({"name": "Пётр"})
    assert (await submit(client, tenant, body)).status_code == 422
    assert (await submit(client, tenant, body)).status_code == 422  # the same, refused again
    body["fields"]["phone"] = "+7 912 345-67-89"
    response = await submit(client, tenant, body)
    assert response.status_code == 202, response.text
    assert (await only_lead(tenant))["contact"]["phone"] == "+79123456789"
    data = await tenant.panel.data(SUBMISSIONS)
    assert data["submissions"]["totalCount"] == 1


def test_forms_and_csv_headers_share_one_synonym_list() -> None:
    # A word the list knows serves both: a form field and an import column.
    form = recognise_form({"Эл. почта": "a@b.ru", "Мобильный": "+7 900", "Отчество": "Ивановна"})
    assert form.sources == {"email": "Эл. почта", "phone": "Мобильный", "middle_name": "Отчество"}
    mapping = suggest_mapping(["Эл. почта", "Мобильный", "Отчество", "Имя", "Фамилия"])
    assert mapping == {
        "Эл. почта": "email",
        "Мобильный": "phone",
        "Отчество": "skip",
        "Имя": "first_name",
        "Фамилия": "last_name",
    }


@pytest.mark.parametrize(
    ("value", "card"),
    [
        ("4111 1111 1111 1111", True),
        ("5555-5555-5555-4444", True),
        ("378282246310005", True),
        ("4111 1111 1111 1112", False),
        ("+7 912 345-67-89", False),
        ("123456789012", False),
        ("٤١١١١١١١١١١١١١١١", False),
    ],
)
def test_a_card_number_is_13_to_19_luhn_valid_digits(value: str, card: bool) -> None:
    assert is_card_number(value) is card


async def test_fields_named_by_their_label_text_are_taken(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = post({"Ваше имя (полностью):": "Анна Петрова", "Телефон*": "+7 912 345-67-89"})
    response = await submit(client, tenant, body)
    assert response.status_code == 202, response.text
    lead = await only_lead(tenant)
    assert lead["contact"]["name"] == "Анна Петрова"
    assert lead["contact"]["phone"] == "+79123456789"
    refused = await submit(client, tenant, post({"bad\nname": "x", "email": "a@b.ru"}))
    assert refused.status_code == 422
