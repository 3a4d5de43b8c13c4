"""Real Chromium against the real app: embedcrm under uvicorn on 127.0.0.1, host pages from a tiny
server on another port (so every request is cross-origin, as on a real site), one browser per run.

Debian's /usr/bin/chromium is driven by Playwright's Python package; Playwright never downloads a
browser of its own. Without that binary the browser tests are skipped, saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from conftest import GraphQL
from embedcrm.app import create_app
from embedcrm.config import Settings
from factories import LEADS

CHROMIUM = "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Humans need seconds to fill a form; Playwright needs milliseconds. The bot checks have their
# own tests (tests/capture/test_spam.py), so here the minimum fill time is short.
MIN_FILL_SECONDS = 0.05

SAVE_SITE_FORM = """mutation($input: SaveSiteFormInput!) { saveSiteForm(input: $input) {
  siteForm { id key } userErrors { field message code } } }"""

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """An ASGI app under uvicorn on a fixed port, so it can be stopped and started again."""

    def __init__(self, make_app: Callable[[], Any], port: int | None = None) -> None:
        self.make_app = make_app
        self.port = port or free_port()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        config = uvicorn.Config(
            self.make_app(), host="127.0.0.1", port=self.port, log_level="warning", ws="none"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        for _ in range(500):
            if self._server.started:
                return
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        raise RuntimeError(f"{self.url} did not start")

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, 10)
        self._server = self._task = None


@dataclass
class Page:
    body: str
    headers: dict[str, str] = field(default_factory=dict)


class HostSite:
    """The host's pages: HTML registered per path, plus a CSP report collector at /csp."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.csp_reports: list[dict[str, Any]] = []
        self.server = LiveServer(lambda: self)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def add(self, path: str, body: str, **headers: str) -> str:
        self.pages[path] = Page(body, headers)
        return self.url + path

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] == "/csp":
            with contextlib.suppress(ValueError):
                self.csp_reports.append(json.loads(body or b"{}"))
            await _respond(send, 204, b"", {})
            return
        page = self.pages.get(scope["path"])
        if page is None:
            await _respond(send, 404, b"not found", {"content-type": "text/plain"})
            return
        headers = {"content-type": "text/html; charset=utf-8", **page.headers}
        await _respond(send, 200, page.body.encode(), headers)


async def _respond(send: Any, status: int, body: bytes, headers: dict[str, str]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if not HAVE_CHROMIUM:
        pytest.skip(
            f"{CHROMIUM} is missing: run scripts/install-browser (apt-get install chromium)"
        )
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture(scope="session")
async def crm(settings: Settings) -> AsyncIterator[LiveServer]:
    """embedcrm itself, on the test database, with its public URL where it really listens."""
    port = free_port()
    live = replace(
        settings, public_url=f"http://127.0.0.1:{port}", min_fill_seconds=MIN_FILL_SECONDS
    )
    server = LiveServer(lambda: create_app(live), port)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
async def host() -> AsyncIterator[HostSite]:
    site = HostSite()
    await site.server.start()
    yield site
    await site.server.stop()


@pytest.fixture
async def crm_api(crm: LiveServer, platform_key: str) -> AsyncIterator[GraphQL]:
    """GraphQL over real HTTP with the platform key, as the host's backend calls it."""
    async with httpx.AsyncClient(base_url=crm.url, timeout=10) as client:
        yield GraphQL(client, platform_key)


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    context = await browser.new_context()
    tab = await context.new_page()
    yield tab
    await context.close()


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float = 15.0) -> Any:
    """Poll ``check`` until it returns something truthy, as a panel refreshing would."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.1)


async def site_leads(panel: GraphQL, site_id: str) -> list[dict[str, Any]]:
    """The site's leads as its owner's panel sees them."""
    data = await panel.data(LEADS, first=50, filter={"siteId": site_id})
    return [edge["node"] for edge in data["leads"]["edges"]]
