"""The owner's panel on the database bench/crm_data.py made (200 000 leads in one workspace).

    .venv/bin/python -m bench.panel [--database embedcrm_bench_crm] [--runs 30]

It serves embedcrm over HTTP (uvicorn, one process) and a host page beside it, mints a panel
token for the big workspace, then measures:

- each GraphQL call the inbox makes, as the panel sends it (over loopback: that is the server's
  time plus a fraction of a millisecond), warm, median and p95 of ``--runs``;
- in Chromium: from navigation to the first page of the inbox drawn, and from the last keystroke
  in the search box to the answer drawn (the panel waits 80 ms after typing before it asks).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import free_port, server_url
from embedcrm.app import create_app
from embedcrm.auth import Platform
from embedcrm.config import Settings
from embedcrm.contacts.models import Contact
from embedcrm.leads.models import Lead
from embedcrm.services import Services
from embedcrm.workspaces.models import Role

ROOT = Path(__file__).resolve().parent.parent
SOURCE = (ROOT / "widgets" / "embedcrm-panel.js").read_text()


def operation(name: str) -> str:
    start = SOURCE.index(f"`query {name}")
    return SOURCE[start + 1 : SOURCE.index("`", start + 1)]


async def serve(app: Any, port: int) -> uvicorn.Server:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
    )
    task = asyncio.get_running_loop().create_task(server.serve())
    server.task = task  # type: ignore[attr-defined]  # kept, so the task is not collected
    for _ in range(400):
        if server.started:
            return server
        await asyncio.sleep(0.05)
    raise RuntimeError(f"port {port} did not start")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def run(database: str, runs: int) -> None:
    url = server_url().rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    crm_port, host_port = free_port(), free_port()
    settings = Settings(
        secret_keys=("bench-secret-0123456789",),
        database_url=f"{url}/{database}",
        public_url=f"http://127.0.0.1:{crm_port}",
    )
    services = Services.create(settings)
    async with services.db.transaction() as session:
        workspace, count = (
            await session.execute(
                select(Lead.workspace_id, func.count())
                .group_by(Lead.workspace_id)
                .order_by(func.count().desc())
                .limit(1)
            )
        ).one()
        contact = await session.scalar(
            select(Contact).where(Contact.workspace_id == workspace).limit(1)
        )
    assert contact is not None
    issued = await services.workspaces.issue_panel_token(
        Platform(key_id=uuid.uuid4()),
        workspace_id=workspace,
        member_external_id="bench-owner",
        member_name="Bench",
        member_email=None,
        role=Role.OWNER,
        ttl_seconds=3600,
    )
    token = issued.token
    phone = contact.phone_e164 or ""
    searches = {
        "e-mail": contact.email or "",
        "phone as 8 (…) …": f"8 ({phone[2:5]}) {phone[5:8]}-{phone[8:10]}-{phone[10:]}",
        "part of a name": (contact.name or "Анна").split()[0][:4],
    }
    print(f"workspace {workspace}: {count} leads\n")

    crm = await serve(create_app(settings, services=services), crm_port)

    async def page(request: Any) -> Response:
        return HTMLResponse(
            '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
            f'<script type="module" src="http://127.0.0.1:{crm_port}/panel.js"></script>'
            '<script type="module" src="/init.js"></script></head>'
            "<body><embedcrm-inbox></embedcrm-inbox></body></html>"
        )

    async def init(request: Any) -> Response:
        return Response(
            f"embedcrm.panel.init({{fetchToken: async () => {token!r}, locale: 'ru'}});",
            media_type="text/javascript",
        )

    host = await serve(Starlette(routes=[Route("/", page), Route("/init.js", init)]), host_port)
    try:
        print("| GraphQL call (as the panel sends it) | median | p95 |")
        print("| --- | --- | --- |")
        calls: dict[str, tuple[str, dict[str, Any]]] = {
            "{ ping } (auth and GraphQL alone)": ("{ ping }", {}),
            "PanelBoot (workspace, pipelines, members, sites, tags)": (
                operation("PanelBoot"),
                {},
            ),
            "PanelInbox: first page of open leads": (
                operation("PanelInbox"),
                {"first": 50, "filter": {"status": "OPEN"}},
            ),
            "PanelInboxCount: how many open leads (asked after the page is drawn)": (
                operation("PanelInboxCount"),
                {"filter": {"status": "OPEN"}},
            ),
            "PanelInbox: next page (keyset)": (operation("PanelInbox"), {"first": 50}),
            **{
                f"PanelInbox: search by {kind}": (
                    operation("PanelInbox"),
                    {"first": 50, "filter": {"status": "OPEN", "search": text}},
                )
                for kind, text in searches.items()
            },
        }
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{crm_port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ) as http:
            first = await http.post(
                "/graphql", json={"query": operation("PanelInbox"), "variables": {"first": 50}}
            )
            cursor = first.json()["data"]["leads"]["pageInfo"]["endCursor"]
            calls["PanelInbox: next page (keyset)"][1]["after"] = cursor
            for label, (query, variables) in calls.items():
                times = []
                for _ in range(runs + 2):
                    started = time.perf_counter()
                    answer = await http.post(
                        "/graphql", json={"query": query, "variables": variables}
                    )
                    times.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
                times = times[2:]
                print(
                    f"| {label} | {statistics.median(times):.1f} ms "
                    f"| {percentile(times, 0.95):.1f} ms |"
                )

        from playwright.async_api import async_playwright

        print("\n| in Chromium | median | p95 |\n| --- | --- | --- |")
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
            )
            first_paint: list[float] = []
            typing: list[float] = []
            for _ in range(max(5, runs // 3)):
                tab = await browser.new_page()
                await tab.goto(f"http://127.0.0.1:{host_port}/")
                await tab.wait_for_function(
                    "document.querySelector('embedcrm-inbox')?.shadowRoot"
                    "?.querySelectorAll('tbody tr').length >= 50"
                )
                first_paint.append(await tab.evaluate("performance.now()"))
                for text in searches.values():
                    elapsed = await tab.evaluate(SEARCH_JS, text)
                    typing.append(elapsed)
                await tab.close()
            await browser.close()
        for label, values in (
            ("inbox: navigation to the first 50 rows drawn", first_paint),
            ("search: last keystroke to the answer drawn", typing),
        ):
            print(
                f"| {label} | {statistics.median(values):.0f} ms "
                f"| {percentile(values, 0.95):.0f} ms |"
            )
    finally:
        crm.should_exit = host.should_exit = True
        await asyncio.sleep(0.5)
        await services.db.dispose()


# Types the text into the search box as a person would (one input event per character), then
# waits until the table shows the answer: the first row changes, or the count line does.
SEARCH_JS = """async (text) => {
  const root = document.querySelector('embedcrm-inbox').shadowRoot;
  const input = root.querySelector('input[type=search]');
  const count = root.querySelector('p[aria-live]');
  const before = count.textContent + '|' + root.querySelector('tbody').textContent;
  input.value = '';
  for (const ch of text) {
    input.value += ch;
    input.dispatchEvent(new Event('input'));
    await new Promise((r) => setTimeout(r, 30));
  }
  const typed = performance.now();
  await new Promise((resolve) => {
    const check = () => {
      const now = count.textContent + '|' + root.querySelector('tbody').textContent;
      if (now !== before) resolve(); else requestAnimationFrame(check);
    };
    check();
  });
  const answered = performance.now() - typed;
  input.value = '';
  input.dispatchEvent(new Event('input'));
  await new Promise((r) => setTimeout(r, 400));
  return answered;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="embedcrm_bench_crm")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(run(args.database, args.runs))


if __name__ == "__main__":
    main()
