"""Forms exactly as site builders generate them, bound with nothing but ``data-embedcrm``: each
makes one lead with its e-mail, phone, name and message where they belong, the builder's own
hidden fields stay off the lead, and no card number, CVV or password leaves the page.

The markup follows what Contact Form 7, Tilda, Bootstrap's checkout example and Webflow emit
(docs/contract.md, "The widget"), and a hand-made Russian form whose fields have no names.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browser_support import SAVE_SITE_FORM, HostSite, LiveServer, eventually

from conftest import GraphQL
from factories import Tenant, make_tenant

pytestmark = pytest.mark.browser

CF7 = """
<div class="wpcf7 no-js" id="wpcf7-f5-p2-o1" lang="ru-RU" dir="ltr">
<form action="/kontakty/#wpcf7-f5-p2-o1" method="post" class="wpcf7-form init"
      aria-label="Контактная форма" novalidate="novalidate" data-status="init" data-embedcrm="cf7">
<div style="display: none;">
<input type="hidden" name="_wpcf7" value="5" />
<input type="hidden" name="_wpcf7_version" value="5.9.3" />
<input type="hidden" name="_wpcf7_locale" value="ru_RU" />
<input type="hidden" name="_wpcf7_unit_tag" value="wpcf7-f5-p2-o1" />
<input type="hidden" name="_wpcf7_container_post" value="2" />
<input type="hidden" name="_wpcf7_posted_data_hash" value="" />
<input type="hidden" name="_wpnonce" value="3f9a1c2b7e" />
</div>
<p><label> Ваше имя<br />
<span class="wpcf7-form-control-wrap" data-name="your-name"><input size="40" maxlength="400"
 class="wpcf7-form-control wpcf7-text wpcf7-validates-as-required" autocomplete="name"
 aria-required="true" aria-invalid="false" value="" type="text" name="your-name" /></span></label></p>
<p><label> Ваш e-mail<br />
<span class="wpcf7-form-control-wrap" data-name="your-email"><input size="40" maxlength="400"
 class="wpcf7-form-control wpcf7-email wpcf7-validates-as-required wpcf7-text wpcf7-validates-as-email"
 autocomplete="email" aria-required="true" aria-invalid="false" value="" type="email"
 name="your-email" /></span></label></p>
<p><label> Телефон<br />
<span class="wpcf7-form-control-wrap" data-name="tel-742"><input size="40" maxlength="400"
 class="wpcf7-form-control wpcf7-tel wpcf7-text wpcf7-validates-as-tel" aria-invalid="false"
 value="" type="tel" name="tel-742" /></span></label></p>
<p><label> Тема<br />
<span class="wpcf7-form-control-wrap" data-name="your-subject"><input size="40" maxlength="400"
 class="wpcf7-form-control wpcf7-text" aria-invalid="false" value="" type="text"
 name="your-subject" /></span></label></p>
<p><label> Ваше сообщение (необязательно)<br />
<span class="wpcf7-form-control-wrap" data-name="your-message"><textarea cols="40" rows="10"
 maxlength="2000" class="wpcf7-form-control wpcf7-textarea" aria-invalid="false"
 name="your-message"></textarea></span></label></p>
<p><span class="wpcf7-form-control-wrap" data-name="acceptance-231"><span
 class="wpcf7-form-control wpcf7-acceptance"><span class="wpcf7-list-item"><label><input
 type="checkbox" name="acceptance-231" value="1" aria-invalid="false" /><span
 class="wpcf7-list-item-label">Я согласен на обработку персональных данных</span></label></span></span></span></p>
<p><input class="wpcf7-form-control wpcf7-submit has-spinner" type="submit" value="Отправить" /></p>
<div class="wpcf7-response-output" aria-hidden="true"></div>
</form>
</div>
"""

TILDA = """
<form id="form612345678" name="form612345678" role="form" action="" method="POST"
      data-formactiontype="2" data-inputbox=".t-input-group"
      class="t-form js-form-proccess t-form_inputs-total_5" data-success-callback="t678_onSuccess"
      data-embedcrm="tilda">
<input type="hidden" name="formservices[]" value="8c3d1d4e0b0f4d8e" class="js-formaction-services">
<input type="hidden" name="formservices[]" value="f1a2b3c4d5e6f7a8" class="js-formaction-services">
<input type="hidden" name="tildaspec-formname" tabindex="-1" value="Заявка с сайта">
<div class="js-successbox t-form__successbox t-text t-text_md" aria-live="polite" style="display:none;"></div>
<div class="t-form__inputsbox">
<div class="t-input-group t-input-group_nm" data-input-lid="1495810359387" data-field-type="nm">
<label for="input_1495810359387" class="t-input-title t-descr t-descr_md"
 id="field-title_1495810359387" data-redactor-toolbar="no" field="li_title__1495810359387">Ваше имя</label>
<div class="t-input-block"><input type="text" autocomplete="name" name="Name"
 id="input_1495810359387" class="t-input js-tilda-rule" value="" data-tilda-req="1"
 aria-required="true" data-tilda-rule="name" placeholder="Иван Иванов"
 style="color:#000000; border:1px solid #c9c9c9;">
<div class="t-input-error" aria-live="polite" id="error_1495810359387"></div></div></div>
<div class="t-input-group t-input-group_ph" data-input-lid="1495810354468" data-field-type="ph">
<label for="input_1495810354468" class="t-input-title t-descr t-descr_md">Телефон</label>
<div class="t-input-block"><input type="tel" autocomplete="tel" name="Phone"
 id="input_1495810354468" class="t-input js-tilda-rule js-phonemask-input" value=""
 data-tilda-req="1" data-tilda-rule="phone" placeholder="+7 (999) 999-99-99"></div></div>
<div class="t-input-group t-input-group_em" data-input-lid="1495810359388" data-field-type="em">
<label for="input_1495810359388" class="t-input-title t-descr t-descr_md">Email</label>
<div class="t-input-block"><input type="text" name="Email" id="input_1495810359388"
 class="t-input js-tilda-rule" value="" data-tilda-rule="email" placeholder="Email"></div></div>
<div class="t-input-group t-input-group_ta" data-input-lid="1495810405579" data-field-type="ta">
<label for="input_1495810405579" class="t-input-title t-descr t-descr_md">Комментарий</label>
<div class="t-input-block"><textarea name="Textarea" id="input_1495810405579"
 class="t-input js-tilda-rule" placeholder="" style="height:102px;" rows="3"></textarea></div></div>
<div class="t-input-group t-input-group_cb" data-input-lid="1495810410810" data-field-type="cb">
<div class="t-input-block"><label class="t-checkbox__control t-text t-text_xs"><input
 type="checkbox" value="yes" class="t-checkbox js-tilda-rule" data-tilda-req="1" name="Checkbox">
<div class="t-checkbox__indicator"></div>Я согласен с <a href="/privacy">политикой
 конфиденциальности</a></label></div></div>
<div class="t-form__submit"><button type="submit" class="t-submit">Отправить</button></div>
</div>
<div style="position: absolute; left: -5000px; bottom: 0; display: none;"><input type="text"
 name="form-spec-comments" value="Its good" class="js-form-spec-comments" tabindex="-1"></div>
</form>
"""

# Bootstrap 5's checkout example: ids and no names, except the payment radios.
BOOTSTRAP = """
<form class="needs-validation" novalidate data-embedcrm="checkout">
<div class="row g-3">
<div class="col-sm-6"><label for="firstName" class="form-label">First name</label>
<input type="text" class="form-control" id="firstName" placeholder="" value="" required>
<div class="invalid-feedback">Valid first name is required.</div></div>
<div class="col-sm-6"><label for="lastName" class="form-label">Last name</label>
<input type="text" class="form-control" id="lastName" placeholder="" value="" required>
<div class="invalid-feedback">Valid last name is required.</div></div>
<div class="col-12"><label for="username" class="form-label">Username</label>
<div class="input-group has-validation"><span class="input-group-text">@</span>
<input type="text" class="form-control" id="username" placeholder="Username" required></div></div>
<div class="col-12"><label for="email" class="form-label">Email <span
 class="text-body-secondary">(Optional)</span></label>
<input type="email" class="form-control" id="email" placeholder="you@example.com">
<div class="invalid-feedback">Please enter a valid email address for shipping updates.</div></div>
<div class="col-12"><label for="address" class="form-label">Address</label>
<input type="text" class="form-control" id="address" placeholder="1234 Main St" required></div>
<div class="col-md-5"><label for="country" class="form-label">Country</label>
<select class="form-select" id="country" required><option value="">Choose...</option>
<option>United States</option></select></div>
<div class="col-md-3"><label for="zip" class="form-label">Zip</label>
<input type="text" class="form-control" id="zip" placeholder="" required></div>
</div>
<hr class="my-4">
<div class="form-check"><input type="checkbox" class="form-check-input" id="same-address">
<label class="form-check-label" for="same-address">Shipping address is the same as my billing
 address</label></div>
<h4 class="mb-3">Payment</h4>
<div class="my-3">
<div class="form-check"><input id="credit" name="paymentMethod" type="radio"
 class="form-check-input" checked required><label class="form-check-label" for="credit">Credit
 card</label></div>
<div class="form-check"><input id="paypal" name="paymentMethod" type="radio"
 class="form-check-input" required><label class="form-check-label" for="paypal">PayPal</label></div>
</div>
<div class="row gy-3">
<div class="col-md-6"><label for="cc-name" class="form-label">Name on card</label>
<input type="text" class="form-control" id="cc-name" placeholder="" required>
<small class="text-body-secondary">Full name as displayed on card</small></div>
<div class="col-md-6"><label for="cc-number" class="form-label">Credit card number</label>
<input type="text" class="form-control" id="cc-number" placeholder="" required></div>
<div class="col-md-3"><label for="cc-expiration" class="form-label">Expiration</label>
<input type="text" class="form-control" id="cc-expiration" placeholder="" required></div>
<div class="col-md-3"><label for="cc-cvv" class="form-label">CVV</label>
<input type="text" class="form-control" id="cc-cvv" placeholder="" required></div>
</div>
<hr class="my-4">
<button class="w-100 btn btn-primary btn-lg" type="submit">Continue to checkout</button>
</form>
"""

# A Webflow export; its password input is named like a phone (type beats name).
WEBFLOW = """
<div class="w-form">
<form id="email-form" name="email-form" data-name="Email Form" method="get" class="form"
      data-wf-page-id="65a1b2c3d4e5f6a7b8c9d0e1" data-wf-element-id="1f2e3d4c-5b6a-7980-a1b2-c3d4e5f6a7b8"
      aria-label="Email Form" data-embedcrm="webflow">
<label for="name">Name</label>
<input class="w-input" maxlength="256" name="name" data-name="Name" placeholder="" type="text" id="name">
<label for="email">Email Address</label>
<input class="w-input" maxlength="256" name="email" data-name="Email" placeholder="" type="email"
 id="email" required="">
<label for="Phone-2">Phone</label>
<input class="w-input" maxlength="256" name="Phone-2" data-name="Phone 2" placeholder="" type="tel"
 id="Phone-2">
<label for="Password">Password</label>
<input class="w-input" maxlength="256" name="contact[phone]" data-name="contact[phone]"
 placeholder="" type="password" id="Password">
<label for="field">Message</label>
<textarea placeholder="Example Text" maxlength="5000" id="field" name="field" data-name="Field"
 class="w-input"></textarea>
<input type="submit" data-wait="Please wait..." class="w-button" value="Submit">
</form>
<div class="w-form-done" tabindex="-1" role="region" aria-label="Email Form success">
<div>Thank you! Your submission has been received!</div></div>
<div class="w-form-fail" tabindex="-1" role="region" aria-label="Email Form failure">
<div>Oops! Something went wrong while submitting the form.</div></div>
</div>
"""

# Hand-made, Russian labels, and not one name attribute.
RUSSIAN_UNNAMED = """
<form class="feedback" data-embedcrm="zayavka">
<div><label for="fio">ФИО</label> <input id="fio" type="text"></div>
<div><label>Номер телефона <input type="text" id="tell"></label></div>
<div><label for="pochta">Электронная почта</label> <input id="pochta" type="text"></div>
<div><label>Ваш вопрос: <textarea></textarea></label></div>
<div><label><input type="checkbox"> Согласен на обработку персональных данных</label></div>
<button type="submit">Отправить</button>
</form>
"""

CARD = "4111 1111 1111 1111"
CVV = "737"

LEAD_DETAILS = """query($filter: LeadFilter) { leads(first: 10, filter: $filter) { totalCount
  edges { node { message customFields contact { name email phone } } } } }"""
SUBMISSIONS = """query($ws: ID, $status: SubmissionStatus) {
  submissions(workspaceId: $ws, status: $status) { totalCount
    edges { node { status reason form fields withheld leadId } } } }"""


def page_html(body: str, *, lang: str) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>Сайт</title></head><body>{body}</body></html>"
    )


async def open_page(
    page: Any, crm: LiveServer, host: HostSite, tenant: Tenant, body: str, *, lang: str
) -> list[str]:
    """Serve the builder's markup with the widget, open it, and record every submission body."""
    path = f"/page-{uuid.uuid4().hex[:8]}"
    tag = f'<script src="{crm.url}/widget.js" data-site="{tenant.site_key}" async></script>'
    host.add(path, page_html(body + tag, lang=lang))
    bodies: list[str] = []
    page.on(
        "request",
        lambda r: (
            r.url.endswith("/submissions")
            and r.method == "POST"
            and bodies.append(r.post_data or "")
        ),
    )
    await page.goto(host.url + path)
    await page.wait_for_function("window.embedcrm && window.embedcrm.version")
    await page.evaluate(
        """() => { window.__events = [];
        for (const t of ['embedcrm:submitted', 'embedcrm:error'])
          document.addEventListener(t, e => window.__events.push({type: t, detail: e.detail})); }"""
    )
    return bodies


async def submitted(page: Any) -> None:
    await page.wait_for_function("window.__events.length > 0")
    events = await page.evaluate("window.__events")
    assert [e["type"] for e in events] == ["embedcrm:submitted"], events


async def the_lead(tenant: Tenant) -> dict[str, Any]:
    async def leads() -> list[dict[str, Any]]:
        data = await tenant.panel.data(LEAD_DETAILS, filter={"siteId": tenant.site_id})
        return [e["node"] for e in data["leads"]["edges"]]

    found = await eventually(leads)
    assert len(found) == 1, found
    lead: dict[str, Any] = found[0]
    return lead


async def stored(crm_api: GraphQL, tenant: Tenant) -> list[dict[str, Any]]:
    data = await crm_api.data(SUBMISSIONS, ws=tenant.workspace_id, status=None)
    return [e["node"] for e in data["submissions"]["edges"]]


def nothing_secret(*texts: str) -> None:
    for text in texts:
        assert CARD not in text and CARD.replace(" ", "") not in text, text
        assert f'"{CVV}"' not in text and "hunter2" not in text, text


async def test_contact_form_7(page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL) -> None:
    tenant = await make_tenant(crm_api, domain=host.domain)
    bodies = await open_page(page, crm, host, tenant, CF7, lang="ru-RU")
    await page.fill("[name=your-name]", "Анна Петрова")
    await page.fill("[name=your-email]", "anna@example.com")
    await page.fill("[name=tel-742]", "+7 912 345-67-89")
    await page.fill("[name=your-subject]", "Доставка")
    await page.fill("[name=your-message]", "Нужен букет к пятнице")
    await page.check("[name=acceptance-231]")
    await page.click("[type=submit]")
    await submitted(page)

    lead = await the_lead(tenant)
    assert lead["contact"] == {
        "name": "Анна Петрова",
        "email": "anna@example.com",
        "phone": "+79123456789",
    }
    assert lead["message"] == "Нужен букет к пятнице"
    # WordPress's own hidden fields stay on the submission, not on the lead.
    assert lead["customFields"] == {"your-subject": "Доставка"}
    [submission] = await stored(crm_api, tenant)
    assert submission["fields"]["_wpcf7_unit_tag"] == "wpcf7-f5-p2-o1"
    assert submission["fields"]["acceptance-231"] is True
    assert len(bodies) == 1


async def test_tilda(page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL) -> None:
    tenant = await make_tenant(crm_api, domain=host.domain)
    await open_page(page, crm, host, tenant, TILDA, lang="ru")
    await page.fill("[name=Name]", "Борис")
    await page.fill("[name=Phone]", "8 (912) 000-11-22")
    await page.fill("[name=Email]", "boris@example.com")
    await page.fill("[name=Textarea]", "Перезвоните после шести")
    await page.check("[name=Checkbox]")
    await page.click("button.t-submit")
    await submitted(page)

    lead = await the_lead(tenant)
    assert lead["contact"] == {
        "name": "Борис",
        "email": "boris@example.com",
        "phone": "+79120001122",
    }
    assert lead["message"] == "Перезвоните после шести"
    assert lead["customFields"] == {}
    [submission] = await stored(crm_api, tenant)
    assert submission["fields"]["tildaspec-formname"] == "Заявка с сайта"
    assert submission["fields"]["formservices[]"] == ["8c3d1d4e0b0f4d8e", "f1a2b3c4d5e6f7a8"]


async def test_bootstrap_checkout_sends_no_card_data(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL
) -> None:
    tenant = await make_tenant(crm_api, domain=host.domain)
    bodies = await open_page(page, crm, host, tenant, BOOTSTRAP, lang="en")
    await page.fill("#firstName", "Ada")
    await page.fill("#lastName", "Lovelace")
    await page.fill("#username", "ada")
    await page.fill("#email", "ada@example.com")
    await page.fill("#address", "12 St James's Square")
    await page.select_option("#country", "United States")
    await page.fill("#zip", "10001")
    await page.fill("#cc-name", "ADA KING")
    await page.fill("#cc-number", CARD)
    await page.fill("#cc-expiration", "12/29")
    await page.fill("#cc-cvv", CVV)
    await page.click("button[type=submit]")
    await submitted(page)
    # No server error to show, and never the word "undefined" under a field.
    assert "undefined" not in await page.locator("form").inner_text()
    assert await page.locator("[role=status]").text_content() == "Thank you! Sent."

    lead = await the_lead(tenant)
    assert lead["contact"] == {"name": "Ada Lovelace", "email": "ada@example.com", "phone": None}
    assert lead["customFields"] == {
        "username": "ada",
        "address": "12 St James's Square",
        "country": "United States",
        "zip": "10001",
        "same-address": False,
        "paymentMethod": "on",
    }
    [submission] = await stored(crm_api, tenant)
    assert submission["withheld"] == ["cc-cvv", "cc-expiration", "cc-name", "cc-number"]
    # Not in what the browser sent, not in what the server stored.
    [body] = bodies
    nothing_secret(body, json.dumps(submission), json.dumps(lead))
    assert "ADA KING" not in body


async def test_webflow(page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL) -> None:
    tenant = await make_tenant(crm_api, domain=host.domain)
    bodies = await open_page(page, crm, host, tenant, WEBFLOW, lang="en")
    await page.fill("#name", "Clara Oswald")
    await page.fill("#email", "clara@example.com")
    await page.fill("#Phone-2", "+44 20 7946 0958")
    await page.fill("#Password", "hunter2")
    await page.fill("#field", "A table for two")
    await page.click("[type=submit]")
    await submitted(page)

    lead = await the_lead(tenant)
    assert lead["contact"] == {
        "name": "Clara Oswald",
        "email": "clara@example.com",
        "phone": "+442079460958",
    }
    assert lead["message"] == "A table for two"
    assert lead["customFields"] == {}
    [submission] = await stored(crm_api, tenant)
    assert submission["withheld"] == ["contact[phone]"]
    nothing_secret(bodies[0], json.dumps(submission))


async def test_russian_labels_and_no_names(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL
) -> None:
    tenant = await make_tenant(crm_api, domain=host.domain)
    bodies = await open_page(page, crm, host, tenant, RUSSIAN_UNNAMED, lang="ru")
    await page.get_by_label("ФИО").fill("Иванов Иван Иванович")
    await page.get_by_label("Номер телефона").fill("+7 (495) 123-45-67")
    await page.get_by_label("Электронная почта").fill("Ivan@Example.ru")
    await page.get_by_label("Ваш вопрос").fill("Есть ли доставка в область?")
    await page.get_by_label("Согласен на обработку персональных данных").check()
    await page.get_by_role("button", name="Отправить").click()
    await submitted(page)
    assert await page.locator("[role=status]").text_content() == "Спасибо! Заявка отправлена."

    lead = await the_lead(tenant)
    assert lead["contact"] == {
        "name": "Иванов Иван Иванович",
        "email": "ivan@example.ru",
        "phone": "+74951234567",
    }
    assert lead["message"] == "Есть ли доставка в область?"
    assert lead["customFields"] == {}
    # Each unnamed field went under its id, or its label, with what the widget saw of it.
    sent = json.loads(bodies[0])
    consent = "Согласен на обработку персональных данных"
    assert set(sent["fields"]) == {"fio", "tell", "pochta", "Ваш вопрос:", consent}
    assert sent["fields"][consent] is True
    seen = {k: v for k, v in sent["seen"]["tell"].items() if v}
    assert seen == {"type": "text", "id": "tell", "label": "Номер телефона"}


async def test_a_defined_form_refuses_in_the_pages_language_and_the_owner_sees_it(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL
) -> None:
    tenant = await make_tenant(crm_api, domain=host.domain)
    saved = await crm_api.data(
        SAVE_SITE_FORM,
        input={
            "siteId": tenant.site_id,
            "key": "tilda",
            "fields": [
                {"name": "Name", "label": {"ru": "Имя"}},
                {"name": "Phone", "type": "TEL", "label": {"ru": "Телефон"}, "required": True},
            ],
        },
    )
    assert saved["saveSiteForm"]["userErrors"] == []
    await open_page(page, crm, host, tenant, TILDA, lang="ru")
    await page.fill("[name=Name]", "Вера")
    await page.click("button.t-submit")
    await page.wait_for_function("window.__events.length > 0")
    [failed] = await page.evaluate("window.__events")
    assert failed["type"] == "embedcrm:error"
    assert failed["detail"]["error"]["fields"] == {"Phone": "Заполните это поле."}
    assert await page.locator("[role=status]").text_content() == "Проверьте поля."
    phone = page.locator("[name=Phone]")
    assert await phone.get_attribute("aria-invalid") == "true"
    described = await phone.get_attribute("aria-describedby")
    assert await page.locator(f"#{described}").text_content() == "Заполните это поле."

    refused = await crm_api.data(SUBMISSIONS, ws=tenant.workspace_id, status="REFUSED")
    assert refused["submissions"]["totalCount"] == 1
    [row] = [e["node"] for e in refused["submissions"]["edges"]]
    assert row["fields"]["Name"] == "Вера"
    assert row["reason"] == "Phone: Заполните это поле."


FORMS_REPORT = """query($f: AnalyticsFilter!) { analytics(filter: $f) { forms {
  form views starts submissions conversion } } }"""


@pytest.mark.parametrize("display", ["POPUP", "FLOATING"])
async def test_popup_and_floating_forms_count_their_views(
    page: Any, crm: LiveServer, host: HostSite, crm_api: GraphQL, display: str
) -> None:
    tenant = await make_tenant(crm_api, domain=host.domain)
    saved = await crm_api.data(
        SAVE_SITE_FORM,
        input={
            "siteId": tenant.site_id,
            "key": "callback",
            "display": display,
            "title": {"ru": "Перезвоним"},
            "fields": [{"name": "phone", "type": "TEL", "label": {"ru": "Телефон"}}],
        },
    )
    assert saved["saveSiteForm"]["userErrors"] == []
    await open_page(
        page, crm, host, tenant, '<div data-embedcrm-render="callback"></div>', lang="ru"
    )
    await page.get_by_role("button", name="Перезвоним").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Телефон").fill("+7 912 345-67-89")
    await dialog.get_by_role("button", name="Отправить").click()
    await submitted(page)

    today = datetime.now(UTC)
    window = {
        "from": (today - timedelta(days=2)).isoformat(),
        "to": (today + timedelta(days=2)).isoformat(),
    }

    # Each count arrives by a beacon of its own, so the start may land after the
    # submission: wait until all three are in before holding them to one each.
    async def counted() -> list[dict[str, Any]]:
        rows = (await tenant.panel.data(FORMS_REPORT, f=window))["analytics"]["forms"]
        every = ("views", "starts", "submissions")
        return list(rows) if rows and all(rows[0][count] for count in every) else []

    (row,) = await eventually(counted)
    assert (row["form"], row["views"], row["starts"], row["submissions"]) == ("callback", 1, 1, 1)
    assert row["conversion"] == 1.0
