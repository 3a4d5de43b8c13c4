"""A feedback link opened on the shop's own site, in real Chromium: the widget sees the token in
the fragment, draws the question in the shop's language, and the answer lands on the contact and
the lead, under a strict CSP, with nothing serious for axe-core."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import HostSite, LiveServer, eventually
from test_panel_browser import check_axe
from test_widget_browser import VIOLATIONS, loader, new_site, page_html, snippet_parts, strict_csp

from conftest import GraphQL
from embedcrm.config import Settings
from factories import page_view_token, submission

pytestmark = pytest.mark.browser
SCREENSHOTS = os.environ.get("EMBEDCRM_SCREENSHOTS")

TEMPLATE = """
mutation($body: String!) {
  createMessageTemplate(input: {name: "Отзыв", channel: EMAIL, language: "ru",
      subject: "Как всё прошло?", body: $body}) { template { id } userErrors { code } } }
"""
PREVIEW = """
query($template: ID!, $contact: ID!, $lead: ID) {
  previewMessage(templateId: $template, contactId: $contact, leadId: $lead) { body } }
"""
LEADS = "query { leads(first: 1) { edges { node { id contact { id } } } } }"
ANSWERS = """
query($contact: ID!) { feedbackAnswers(contactId: $contact) {
  totalCount edges { node { score comment leadId } } } }
"""


def screenshot_path(name: str) -> str:
    assert SCREENSHOTS
    Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
    return str(Path(SCREENSHOTS) / f"{name}.png")


async def shots(page: Any) -> None:
    """The question on a phone, light and dark, for the README."""
    size = page.viewport_size
    await page.set_viewport_size({"width": 390, "height": 760})
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)
        await page.screenshot(path=screenshot_path(f"feedback-on-site-{scheme}-phone"))
    await page.emulate_media(color_scheme="light")
    await page.set_viewport_size(size)


async def test_the_widget_asks_on_the_shops_page_and_the_answer_lands(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL, settings: Settings
) -> None:
    tenant = await new_site(crm_api, host)
    body = submission(email="olga@example.com")
    body["form_token"] = page_view_token(settings.secret_keys, tenant)
    async with httpx.AsyncClient(base_url=crm.url, timeout=10) as client:
        made = await client.post(
            f"/v1/sites/{tenant.site_key}/submissions",
            json=body,
            headers={"Origin": f"https://{tenant.domain}"},
        )
        assert made.status_code in (200, 202), made.text

    async def first_lead() -> Any:
        edges = (await tenant.panel.data(LEADS))["leads"]["edges"]
        return edges and edges[0]["node"]

    lead = await eventually(first_lead)
    template = (await tenant.panel.data(TEMPLATE, body="{{feedback.nps_site_url}}"))[
        "createMessageTemplate"
    ]["template"]["id"]
    link = (
        await tenant.panel.data(
            PREVIEW, template=template, contact=lead["contact"]["id"], lead=lead["id"]
        )
    )["previewMessage"]["body"]
    assert re.fullmatch(re.escape(host.url) + r"/#embedcrm-feedback=\S+", link), link

    # The shop's home page, as the host's builder made it: the widget and a strict CSP.
    src, integrity = await snippet_parts(crm_api, tenant.site_id)
    host.add(
        "/",
        page_html(
            "<h1>Цветы у дома</h1>", head=VIOLATIONS + loader(src, tenant.site_key, integrity)
        ),
        **{"content-security-policy": strict_csp(crm)},
    )
    await page.goto(link)
    dialog = page.get_by_role("dialog", name="Ваш отзыв")
    await dialog.wait_for()
    await check_axe(page)
    if SCREENSHOTS:
        await shots(page)
    await dialog.get_by_role("radio", name="9", exact=True).check()
    await dialog.get_by_label("Комментарий (необязательно)").fill("Букет простоял две недели")
    await dialog.get_by_role("button", name="Отправить").click()
    await dialog.get_by_text("Спасибо! Ваш ответ сохранён.").wait_for()
    # The link is spent on this page: a reload does not ask again.
    assert "embedcrm-feedback" not in page.url

    answers = (await tenant.panel.data(ANSWERS, contact=lead["contact"]["id"]))["feedbackAnswers"]
    assert answers["edges"] == [
        {"node": {"score": 9, "comment": "Букет простоял две недели", "leadId": lead["id"]}}
    ]
    await dialog.get_by_role("button", name="Закрыть").click()
    await dialog.wait_for(state="detached")
    assert await page.evaluate("window.__violations") == []
