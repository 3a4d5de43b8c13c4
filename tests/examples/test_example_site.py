"""The example site builder end to end, in Chromium: an owner creates a site from a template, a
visitor sends its bound and its rendered form, the owner's panel shows both leads with their
source, and the webhook page shows the events the builder received and verified.

Set EMBEDCRM_SCREENSHOTS to a folder (docs/screenshots) to save the README's screenshots.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import MIN_FILL_SECONDS, LiveServer, free_port
from standardwebhooks.webhooks import Webhook

from embedcrm.app import create_app as create_crm
from embedcrm.config import Settings
from examples.site.app import create_app, ensure_platform_key

pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("EMBEDCRM_SCREENSHOTS")


@pytest.fixture
async def crm_delivering(settings: Settings) -> AsyncIterator[LiveServer]:
    """embedcrm as `embedcrm serve` runs it: with its webhook dispatcher in the process."""
    port = free_port()
    live = replace(
        settings, public_url=f"http://127.0.0.1:{port}", min_fill_seconds=MIN_FILL_SECONDS
    )
    server = LiveServer(lambda: create_crm(live, run_background=True), port)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def builder(
    crm_delivering: LiveServer, platform_key: str, tmp_path: Path
) -> AsyncIterator[LiveServer]:
    port = free_port()
    server = LiveServer(
        lambda: create_app(
            crm_url=crm_delivering.url,
            public_url=f"http://127.0.0.1:{port}",
            state_dir=tmp_path / "state",
            platform_key=platform_key,
        ),
        port,
    )
    await server.start()
    yield server
    await server.stop()


def screenshot_path(name: str) -> str:
    assert SCREENSHOTS
    Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
    return str(Path(SCREENSHOTS) / f"{name}.png")


async def shot(page: Any, name: str, locator: Any | None = None) -> None:
    if SCREENSHOTS:
        await (locator or page).screenshot(path=screenshot_path(name))


async def test_from_site_creation_to_the_lead_in_the_panel(
    browser: Any, builder: LiveServer
) -> None:
    context = await browser.new_context(viewport={"width": 1100, "height": 800}, locale="ru-RU")
    page = await context.new_page()
    try:
        # The owner creates a site from a template.
        await page.goto(builder.url + "/")
        await page.get_by_label("Название сайта").fill("Ромашка")
        await page.get_by_label("Шаблон").select_option("flowers")
        await page.get_by_label("Владелец").fill("Мария Иванова")
        await page.get_by_role("button", name="Создать сайт").click()
        await page.wait_for_url(re.compile(r"/sites/[a-z0-9-]+$"))
        site_url = page.url
        slug = site_url.rsplit("/", 1)[1]

        # A visitor comes from an ad and sends the site's own (bound) form.
        await page.goto(
            site_url + "?utm_source=yandex&utm_medium=cpc&utm_campaign=spring",
            referer="https://yandex.ru/",
        )
        await page.wait_for_function("window.embedcrm && window.embedcrm.version")
        bound = page.locator("form[data-embedcrm=contact]")
        await bound.get_by_label("Имя").fill("Анна Петрова")
        await bound.get_by_label("E-mail").fill("anna@example.com")
        await bound.get_by_label("Телефон").fill("+7 912 345-67-89")
        await bound.get_by_label("Сообщение").fill("Букет к пятнице")
        await bound.get_by_role("button", name="Отправить").click()
        await bound.get_by_role("status").filter(has_text="Спасибо").wait_for()

        # ... and the form the template configured, rendered by the widget.
        rendered = page.locator("[data-embedcrm-render=callback]")
        await rendered.get_by_label("Имя").fill("Борис")
        await rendered.get_by_label("Телефон").fill("+7 912 000-11-22")
        await rendered.get_by_label("Повод").select_option("wedding")
        await rendered.get_by_label("Согласен на обработку персональных данных").check()
        await shot(page, "rendered-form", page.locator("#callback"))
        await rendered.get_by_role("button", name="Перезвоните мне").click()
        await rendered.get_by_text("Спасибо! Флорист позвонит вам.").wait_for()

        # The owner's panel (embedcrm's <embedcrm-panel>, with a token the builder minted)
        # lists both leads with their source.
        await page.goto(f"{builder.url}/owner/{slug}")
        leads = page.get_by_role("table", name="Заявки")
        await leads.get_by_text("Анна Петрова").first.wait_for(timeout=15_000)
        await leads.get_by_text("Борис").first.wait_for()
        assert await leads.get_by_role("row").count() == 3  # the header and two leads
        assert await leads.get_by_role("cell", name="yandex").count() == 2
        # Its card opens from the list.
        await leads.get_by_role("button", name=re.compile("Анна Петрова")).click()
        await page.get_by_role("dialog").get_by_text("anna@example.com").first.wait_for()
        await page.get_by_role("button", name="Закрыть").click()
        await shot(page, "example-panel")

        # The builder received the funnel's events and verified every signature.
        await page.goto(f"{builder.url}/webhooks")
        for _ in range(150):  # the dispatcher polls; thirty seconds is far more than it needs
            text = await page.locator("#events").text_content() or ""
            if text.count("lead.created") >= 2:
                break
            await page.wait_for_timeout(200)
            await page.reload()
        assert text.count("lead.created") == 2, text
        assert "contact.created" in text
        assert "✓" in text
        assert "Отклонено с неверной подписью: 0" in (await page.content())
    finally:
        await context.close()

    # A forged webhook is refused and counted, never shown.
    async with httpx.AsyncClient(base_url=builder.url) as client:
        body = json.dumps({"type": "lead.won", "timestamp": "2026-01-01T00:00:00Z", "data": {}})
        forged = Webhook("whsec_" + "A" * 32).sign("msg_forged", _now(), body)
        response = await client.post(
            f"/webhooks/receive/{slug}",
            content=body,
            headers={
                "webhook-id": "msg_forged",
                "webhook-timestamp": str(int(time.time())),
                "webhook-signature": forged,
            },
        )
        assert response.status_code == 400
        assert "Отклонено с неверной подписью: 1" in (await client.get("/webhooks")).text


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_the_builder_keeps_the_platform_key_it_made(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EMBEDCRM_PLATFORM_KEY", raising=False)
    monkeypatch.setenv("EMBEDCRM_DATABASE_URL", database_url)
    monkeypatch.setenv("EMBEDCRM_SECRET_KEYS", "test-secret-key-0123456789")
    key = ensure_platform_key(tmp_path)
    assert key.startswith("ecp_")
    assert (tmp_path / "platform-key").read_text().strip() == key
    assert ensure_platform_key(tmp_path) == key  # read back, not made again
    monkeypatch.setenv("EMBEDCRM_PLATFORM_KEY", "ecp_given")
    assert ensure_platform_key(tmp_path / "other") == "ecp_given"
