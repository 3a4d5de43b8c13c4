"""The widget in real Chromium against the real app: bound and rendered forms make one lead each
with their source, nothing is lost while the server is down, a double submit is one lead, server
errors land on their fields, and a page with a strict CSP sees no violation (AT-32)."""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browser_support import (
    MIN_FILL_SECONDS,
    SAVE_SITE_FORM,
    HostSite,
    LiveServer,
    eventually,
    site_leads,
)

from conftest import GraphQL
from embedcrm.app import create_app
from embedcrm.config import Settings
from factories import Tenant, make_tenant

pytestmark = pytest.mark.browser

UTM = "?utm_source=yandex&utm_medium=cpc&utm_campaign=spring&yclid=42"
REFERRER = "https://yandex.ru/search/?text=flowers"

BOUND_FORM = """
<form data-embedcrm="contact">
  <label>Имя <input name="name"></label>
  <label>E-mail <input name="email"></label>
  <label>Телефон <input name="phone"></label>
  <label>Сообщение <textarea name="message"></textarea></label>
  <label>Размер букета <input name="bouquet_size"></label>
  <button>Отправить</button>
</form>
"""


def page_html(body: str, *, head: str = "", lang: str = "ru") -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>Цветы</title>{head}</head><body>{body}</body></html>"
    )


def widget_tag(crm: LiveServer, site_key: str, *, extra: str = "") -> str:
    return f'<script src="{crm.url}/widget.js" data-site="{site_key}" async{extra}></script>'


def unique_path(name: str) -> str:
    return f"/{name}-{uuid.uuid4().hex[:8]}"


async def new_site(crm_api: GraphQL, host: HostSite) -> Tenant:
    return await make_tenant(crm_api, domain=host.domain)


async def save_callback_form(crm_api: GraphQL, site_id: str, display: str = "INLINE") -> None:
    saved = await crm_api.data(
        SAVE_SITE_FORM,
        input={
            "siteId": site_id,
            "key": "callback",
            "display": display,
            "title": {"ru": "Перезвоним за 5 минут", "en": "We call back in 5 minutes"},
            "buttonLabel": {"ru": "Жду звонка", "en": "Call me"},
            "successMessage": {"ru": "Спасибо! Скоро позвоним.", "en": "Thanks!"},
            "fields": [
                {"name": "name", "label": {"ru": "Имя", "en": "Name"}, "required": True},
                {
                    "name": "phone",
                    "type": "TEL",
                    "label": {"ru": "Телефон", "en": "Phone"},
                    "required": True,
                },
                {
                    "name": "time",
                    "type": "SELECT",
                    "label": {"ru": "Когда удобно", "en": "When"},
                    "options": [
                        {"value": "morning", "label": {"ru": "Утром", "en": "Morning"}},
                        {"value": "evening", "label": {"ru": "Вечером", "en": "Evening"}},
                    ],
                },
            ],
        },
    )
    assert saved["saveSiteForm"]["userErrors"] == []


async def wait_for_widget(page: Any) -> None:
    # The widget replaces the queue array with an object once it runs, and the config it loads
    # carries the form token.
    await page.wait_for_function("window.embedcrm && window.embedcrm.version")


async def record_events(page: Any) -> None:
    await page.evaluate(
        """() => { window.__events = [];
        for (const t of ['embedcrm:submitted', 'embedcrm:error'])
          document.addEventListener(t, e => window.__events.push({type: t, detail: e.detail})); }"""
    )


async def events(page: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = await page.evaluate("window.__events")
    return result


async def one_lead(tenant: Tenant) -> dict[str, Any]:
    leads = await eventually(lambda: site_leads(tenant.panel, tenant.site_id))
    assert len(leads) == 1, leads
    lead: dict[str, Any] = leads[0]
    return lead


async def test_a_bound_form_makes_one_lead_with_its_source(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL
) -> None:
    tenant = await new_site(crm_api, host)
    path = unique_path("bound")
    host.add(path, page_html(BOUND_FORM + widget_tag(crm, tenant.site_key)))
    await page.goto(host.url + path + UTM, referer=REFERRER)
    await wait_for_widget(page)
    await record_events(page)

    form = page.locator("form[data-embedcrm]")
    await form.locator("[name=name]").fill("Анна Петрова")
    await form.locator("[name=email]").fill("anna@example.com")
    await form.locator("[name=phone]").fill("+7 912 345-67-89")
    await form.locator("[name=message]").fill("Доставка в пятницу")
    await form.locator("[name=bouquet_size]").fill("большой")
    await form.locator("button").click()
    await page.wait_for_function("window.__events.length > 0")
    assert [e["type"] for e in await events(page)] == ["embedcrm:submitted"]
    # The form stays the page's own: nothing re-rendered, only a status region and a honeypot.
    assert await page.locator("form[data-embedcrm] label").count() == 5
    assert await page.locator("form[data-embedcrm] [role=status]").text_content()

    lead = await one_lead(tenant)
    assert lead["contact"]["email"] == "anna@example.com"
    assert lead["contact"]["phone"] in {"+79123456789", "+7 912 345-67-89"}
    assert lead["source"]["utmSource"] == "yandex"
    assert lead["source"]["utmMedium"] == "cpc"
    assert lead["source"]["utmCampaign"] == "spring"
    assert lead["source"]["referrer"] == REFERRER
    assert lead["source"]["landingPage"].startswith(host.url + path)
    # Nothing left in the browser's queue once the server took it.
    assert await page.evaluate("localStorage.getItem('embedcrm:q')") == "[]"


async def test_a_rendered_form_makes_one_lead_with_its_source(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL
) -> None:
    tenant = await new_site(crm_api, host)
    await save_callback_form(crm_api, tenant.site_id)
    path = unique_path("rendered")
    host.add(
        path,
        page_html('<div data-embedcrm-render="callback"></div>' + widget_tag(crm, tenant.site_key)),
    )
    await page.goto(host.url + path + UTM, referer=REFERRER)
    await page.get_by_label("Имя").fill("Борис")
    await page.get_by_label("Телефон").fill("+7 912 000-11-22")
    await page.get_by_label("Когда удобно").select_option("evening")
    assert await page.get_by_label("Имя").get_attribute("aria-required") == "true"
    await page.get_by_role("button", name="Жду звонка").click()
    await page.get_by_text("Спасибо! Скоро позвоним.").wait_for()

    lead = await one_lead(tenant)
    assert lead["contact"]["name"] == "Борис"
    assert lead["source"]["utmSource"] == "yandex"
    assert lead["source"]["referrer"] == REFERRER


async def test_a_popup_form_opens_as_a_dialog_in_english(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL
) -> None:
    tenant = await new_site(crm_api, host)
    await save_callback_form(crm_api, tenant.site_id, display="POPUP")
    path = unique_path("popup")
    host.add(
        path,
        page_html(
            '<div data-embedcrm-render="callback"></div>' + widget_tag(crm, tenant.site_key),
            lang="en",
        ),
    )
    await page.goto(host.url + path)
    await page.get_by_role("button", name="We call back in 5 minutes").click()
    dialog = page.get_by_role("dialog")
    await dialog.wait_for()
    # Focus moves into the dialog, to its first field.
    assert await page.evaluate("document.activeElement.name") == "name"
    await dialog.get_by_label("Name").fill("Clara")
    await dialog.get_by_label("Phone").fill("+44 20 7946 0958")
    await dialog.get_by_role("button", name="Call me").click()
    await dialog.get_by_text("Thanks!").wait_for()
    assert (await one_lead(tenant))["contact"]["name"] == "Clara"


async def test_the_server_down_at_submit_then_up_makes_exactly_one_lead(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL
) -> None:
    tenant = await new_site(crm_api, host)
    path = unique_path("outage")
    host.add(path, page_html(BOUND_FORM + widget_tag(crm, tenant.site_key)))
    await page.goto(host.url + path + UTM)
    await wait_for_widget(page)
    await page.wait_for_function("localStorage.getItem('embedcrm:ft')")
    await record_events(page)

    await crm.stop()
    try:
        await page.fill("[name=name]", "Вера")
        await page.fill("[name=email]", "vera@example.com")
        await page.click("form button")
        await page.wait_for_function("window.__events.length > 0")
        [failed] = await events(page)
        assert failed["type"] == "embedcrm:error"
        assert failed["detail"]["will_retry"] is True
        queued = await page.evaluate("JSON.parse(localStorage.getItem('embedcrm:q'))")
        assert len(queued) == 1 and queued[0]["b"]["fields"]["email"] == "vera@example.com"
    finally:
        await crm.start()

    await page.wait_for_function(
        "window.__events.some(e => e.type === 'embedcrm:submitted')", timeout=20_000
    )
    lead = await one_lead(tenant)
    assert lead["contact"]["email"] == "vera@example.com"
    assert lead["source"]["utmSource"] == "yandex"
    assert await page.evaluate("localStorage.getItem('embedcrm:q')") == "[]"


async def test_a_submission_queued_on_one_page_is_sent_on_the_next_visit(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL
) -> None:
    tenant = await new_site(crm_api, host)
    path = unique_path("next-visit")
    host.add(path, page_html(BOUND_FORM + widget_tag(crm, tenant.site_key)))
    await page.goto(host.url + path)
    await wait_for_widget(page)
    await record_events(page)
    await crm.stop()
    try:
        await page.fill("[name=email]", "gleb@example.com")
        await page.click("form button")
        await page.wait_for_function("window.__events.length > 0")
        await page.goto("about:blank")  # the visitor leaves while the server is down
    finally:
        await crm.start()
    await page.goto(host.url + path)
    lead = await one_lead(tenant)
    assert lead["contact"]["email"] == "gleb@example.com"


async def test_a_double_submit_makes_one_lead(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL
) -> None:
    tenant = await new_site(crm_api, host)
    path = unique_path("double")
    host.add(path, page_html(BOUND_FORM + widget_tag(crm, tenant.site_key)))
    await page.goto(host.url + path)
    await wait_for_widget(page)
    await record_events(page)
    await page.fill("[name=email]", "dima@example.com")
    # Two clicks and two submits in one task: all of them land before any answer can.
    await page.evaluate(
        """() => { const f = document.querySelector('form'), b = f.querySelector('button');
        b.click(); b.click(); f.requestSubmit(); f.requestSubmit(); }"""
    )
    await page.wait_for_function("window.__events.length > 0")
    await page.wait_for_timeout(500)
    assert [e["type"] for e in await events(page)] == ["embedcrm:submitted"]
    submissions = await crm_api.data(
        "query($ws: ID) { submissions(workspaceId: $ws) { totalCount } }", ws=tenant.workspace_id
    )
    assert submissions["submissions"]["totalCount"] == 1
    await one_lead(tenant)


async def test_a_server_validation_error_shows_on_its_field(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL
) -> None:
    tenant = await new_site(crm_api, host)
    await save_callback_form(crm_api, tenant.site_id)
    path = unique_path("invalid")
    host.add(
        path,
        page_html('<div data-embedcrm-render="callback"></div>' + widget_tag(crm, tenant.site_key)),
    )
    await page.goto(host.url + path)
    await record_events(page)
    phone = page.get_by_label("Телефон")
    await page.get_by_label("Имя").fill("Егор")
    # The browser takes any text in a tel field; the server knows it is no phone number.
    await phone.fill("12")
    await page.get_by_role("button", name="Жду звонка").click()
    await page.wait_for_function("window.__events.length > 0")
    [failed] = await events(page)
    assert failed["type"] == "embedcrm:error"
    assert failed["detail"]["will_retry"] is False
    assert failed["detail"]["error"]["fields"] == {"phone": "Это не номер телефона."}

    assert await phone.get_attribute("aria-invalid") == "true"
    error_id = await phone.get_attribute("aria-describedby")
    assert error_id
    assert await page.locator(f"#{error_id}").text_content() == "Это не номер телефона."
    assert await page.evaluate("document.activeElement.name") == "phone"

    # Correcting the field clears its error, and the form then goes through.
    await phone.fill("+7 912 345-67-89")
    assert await phone.get_attribute("aria-invalid") == "false"
    await page.get_by_role("button", name="Жду звонка").click()
    await page.get_by_text("Спасибо! Скоро позвоним.").wait_for()
    await one_lead(tenant)


def strict_csp(crm: LiveServer) -> str:
    return (
        "default-src 'none'; script-src 'nonce-R' 'strict-dynamic'; "
        f"connect-src {crm.url}; style-src 'self' {crm.url}; img-src 'self'; report-uri /csp"
    )


VIOLATIONS = """<script nonce="R">
  window.__violations = [];
  document.addEventListener('securitypolicyviolation',
    e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
</script>"""


def loader(src: str, site_key: str, integrity: str) -> str:
    # A nonced loader: 'strict-dynamic' trusts the script it inserts.
    return f"""<script nonce="R">
  var s = document.createElement('script');
  s.src = '{src}'; s.async = true; s.crossOrigin = 'anonymous'; s.integrity = '{integrity}';
  s.setAttribute('data-site', '{site_key}');
  s.onerror = function () {{ window.__blocked = true; }};
  document.head.appendChild(s);
</script>"""


async def snippet_parts(crm_api: GraphQL, site_id: str) -> tuple[str, str]:
    data = await crm_api.data(
        "query($id: ID!) { node(id: $id) { ... on Site { embedSnippet } } }", id=site_id
    )
    snippet = data["node"]["embedSnippet"]
    src = re.search(r'src="([^"]+)"', snippet)
    integrity = re.search(r'integrity="([^"]+)"', snippet)
    assert src and integrity
    return src.group(1), integrity.group(1)


async def test_a_strict_csp_page_sees_no_violation_and_the_submission_succeeds(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL
) -> None:
    tenant = await new_site(crm_api, host)
    await save_callback_form(crm_api, tenant.site_id)
    src, integrity = await snippet_parts(crm_api, tenant.site_id)
    path = unique_path("csp")
    host.add(
        path,
        page_html(
            '<div data-embedcrm-render="callback"></div>',
            head=VIOLATIONS + loader(src, tenant.site_key, integrity),
        ),
        **{"content-security-policy": strict_csp(crm)},
    )
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    reports_before = len(host.csp_reports)

    await page.goto(host.url + path + UTM, referer=REFERRER)
    await page.get_by_label("Имя").fill("Жанна")
    await page.get_by_label("Телефон").fill("+7 912 345-67-80")
    await page.get_by_role("button", name="Жду звонка").click()
    await page.get_by_text("Спасибо! Скоро позвоним.").wait_for()
    # The stylesheet came from the API origin and applies: the form is laid out as a grid.
    display = await page.locator("form.ecrm-form").evaluate("f => getComputedStyle(f).display")
    assert display == "grid"

    lead = await one_lead(tenant)
    assert lead["source"]["utmSource"] == "yandex"
    await page.wait_for_timeout(300)  # reports are sent after the fact
    assert await page.evaluate("window.__violations") == []
    assert host.csp_reports[reports_before:] == []
    assert not [m for m in console if "Content Security Policy" in m], console


async def test_a_tampered_sri_hash_blocks_the_script(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL
) -> None:
    tenant = await new_site(crm_api, host)
    src, integrity = await snippet_parts(crm_api, tenant.site_id)
    digest = bytearray(base64.b64decode(integrity.removeprefix("sha384-")))
    digest[0] ^= 1
    tampered = "sha384-" + base64.b64encode(bytes(digest)).decode()
    path = unique_path("sri")
    host.add(
        path,
        page_html(BOUND_FORM, head=VIOLATIONS + loader(src, tenant.site_key, tampered)),
        **{"content-security-policy": strict_csp(crm)},
    )
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    await page.goto(host.url + path)
    await page.wait_for_function("window.__blocked === true")
    assert await page.evaluate("typeof window.embedcrm") == "undefined"
    assert any("integrity" in m for m in console), console

    # The untampered hash loads the same bytes.
    good = unique_path("sri-ok")
    host.add(
        good,
        page_html(BOUND_FORM, head=VIOLATIONS + loader(src, tenant.site_key, integrity)),
        **{"content-security-policy": strict_csp(crm)},
    )
    await page.goto(host.url + good)
    await wait_for_widget(page)
    assert await page.evaluate("window.__violations") == []


async def test_a_refused_form_token_is_renewed_and_the_submission_still_arrives(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL, settings: Settings
) -> None:
    tenant = await new_site(crm_api, host)
    path = unique_path("token")
    host.add(path, page_html(BOUND_FORM + widget_tag(crm, tenant.site_key)))
    await page.goto(host.url + path)
    await wait_for_widget(page)
    await record_events(page)
    # The signing keys change under the page: the token it holds no longer verifies.
    original = crm.make_app
    await crm.stop()
    crm.make_app = lambda: create_app(
        replace(
            settings,
            secret_keys=("another-secret-key-0123456789",),
            public_url=crm.url,
            min_fill_seconds=MIN_FILL_SECONDS,
        )
    )
    await crm.start()
    try:
        await page.fill("[name=email]", "zoya@example.com")
        await page.click("form button")
        # One refusal, a fresh config, the same submission again: one "submitted", no error.
        await page.wait_for_function("window.__events.length > 0", timeout=15_000)
        seen = await events(page)
        assert [e["type"] for e in seen] == ["embedcrm:submitted"], seen
    finally:
        await crm.stop()
        crm.make_app = original
        await crm.start()
    lead = await one_lead(tenant)
    assert lead["contact"]["email"] == "zoya@example.com"


FORMS_REPORT = """query($f: AnalyticsFilter!) { analytics(filter: $f) { forms {
  form views starts submissions } } }"""


async def test_views_and_starts_are_counted_without_personal_data(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL
) -> None:
    tenant = await new_site(crm_api, host)
    path = unique_path("stats")
    host.add(path, page_html(BOUND_FORM + widget_tag(crm, tenant.site_key)))
    sent: list[Any] = []
    page.on("request", lambda r: r.url.endswith("/events") and sent.append(r))
    await page.goto(host.url + path)
    await wait_for_widget(page)
    await page.locator("form[data-embedcrm] [name=name]").focus()
    await page.locator("form[data-embedcrm] [name=email]").focus()  # one start per form

    today = datetime.now(UTC)
    window = {
        "from": (today - timedelta(days=2)).isoformat(),
        "to": (today + timedelta(days=2)).isoformat(),
    }

    async def counted() -> list[dict[str, Any]]:
        rows = (await tenant.panel.data(FORMS_REPORT, f=window))["analytics"]["forms"]
        return list(rows) if rows and rows[0]["starts"] else []

    (row,) = await eventually(counted)
    assert (row["form"], row["views"], row["starts"]) == ("contact", 1, 1)
    assert len(sent) == 2
    # Two beacons (a view, then one start for two focused fields), with nothing in their URLs;
    # the route itself keeps only counts per form and day.
    assert [r.method for r in sent] == ["POST", "POST"]
    assert all("?" not in r.url for r in sent)
